"""What every part of the benchmark shares: the folders it reads and writes, the engines'
keys and names in the report, and its progress log."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]       # tools/nin_tools/bench/common.py -> the checkout
RELEASE = ROOT / ".build" / "release"
BENCH_BUILD = ROOT / ".build" / "bench"
OUT_DIR = ROOT / "bench" / "out"


def log(msg: str) -> None:
    print(msg, flush=True)


ENGINES = ["nin_int8", "ort_int8", "openvino_int8", "ort_fp32", "torch_fp32"]
ENGINE_NAMES = {"nin_int8": "nin int8", "ort_int8": "ORT int8", "openvino_int8": "OpenVINO int8",
                "ort_fp32": "ORT fp32", "torch_fp32": "PyTorch fp32"}
