#!/usr/bin/env python3
"""Bulk classification throughput: `nin-infer --jsonl --threads 2 DIR` over the 10,000
Fashion-MNIST test images as PNG files in one folder, against the engine's own batch-16,
two-thread throughput (bench/nin_bench.c, the figure `make bench` reports), measured in
interleaved rounds so that load bursts on a shared machine hit both. Also checks that the
folder's top-1 accuracy equals the model card's figure.

Usage: tools/bench_bulk.py [--rounds 3] [--model models/fashion_classic.nin]   (make bench-bulk)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from nin_tools import fashion_mnist as FM
from nin_tools.bench.nin_bench import build_nin_bench, nin_bench
from nin_tools.png_write import write_png

FOLDER = ROOT / ".build" / "bench" / "fashion_test_png"
NIN_INFER = ROOT / ".build" / "release" / "nin-infer"


def write_folder(images: np.ndarray) -> None:
    """The test images as test_NNNNN.png, written once."""
    if len(list(FOLDER.glob("*.png"))) == len(images):
        return
    FOLDER.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        write_png(str(FOLDER / f"test_{i:05d}.png"), image)


def run_cli(threads: int) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    out = subprocess.run([str(NIN_INFER), "--jsonl", "--top", "1", "--no-progress", "--threads", str(threads),
                          "--model", str(MODEL), str(FOLDER)], check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    return seconds, [json.loads(line) for line in out.splitlines()]


def main() -> int:
    global MODEL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "fashion_classic.nin")
    args = ap.parse_args()
    MODEL = args.model
    images, labels = FM.load_split("test")
    write_folder(images)
    exe = build_nin_bench()
    cli_rates, engine_rates, records = [], [], []
    for r in range(args.rounds):
        times = nin_bench(exe, MODEL, 20, 2, 16)
        engine_rates.append(16000.0 / statistics.median(times))
        seconds, records = run_cli(2)
        cli_rates.append(len(records) / seconds)
        print(f"round {r + 1}: nin-infer {cli_rates[-1]:.1f} images/s, engine b16 2t {engine_rates[-1]:.1f} images/s "
              f"({cli_rates[-1] / engine_rates[-1]:.1%})", flush=True)
    predictions = np.array([rec["top"][0]["index"] for rec in records])
    order = np.array([int(re.search(r"test_(\d+)\.png$", rec["image"]).group(1)) for rec in records])
    accuracy = float((predictions == labels[order]).mean())
    ratio = statistics.median(cli_rates) / statistics.median(engine_rates)
    print(f"median: nin-infer --jsonl --threads 2 on {len(records)} PNGs: {statistics.median(cli_rates):.1f} images/s; "
          f"engine batch 16, 2 threads: {statistics.median(engine_rates):.1f} images/s; ratio {ratio:.1%}; "
          f"top-1 {accuracy:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
