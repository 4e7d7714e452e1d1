"""OpenVINO (optional: pip install openvino) on the same QDQ int8 model: compiling it for the
CPU, its logits, a timer, and its per-layer profile (PERF_COUNT) beside nin's
(`nin-infer --profile`)."""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

import numpy as np

from nin_tools import layer_profile
from nin_tools.bench.common import RELEASE, log
from nin_tools.bench.peers import to_nchw_f32


def openvino_module():
    """The openvino module, or None when it does not import (it is optional)."""
    try:
        import openvino
    except ImportError:
        return None
    except Exception as e:  # noqa: BLE001  (a broken install: say so, run without it)
        log(f"  openvino does not import ({type(e).__name__}: {e}): its rows are skipped")
        return None
    return openvino


_OV_CORE = None


def ov_compile(ov, path: Path, threads: int, batch: int | None = None, perf_count: bool = False):
    """The ONNX model compiled by OpenVINO for the CPU with INFERENCE_NUM_THREADS = threads, the
    latency hint and one stream; input batch fixed to `batch` (None: left dynamic)."""
    global _OV_CORE
    if _OV_CORE is None:
        _OV_CORE = ov.Core()
    model = _OV_CORE.read_model(str(path))
    if batch is not None:
        dims = list(model.input(0).partial_shape)
        model.reshape({model.input(0).any_name: [batch] + [d.get_length() for d in dims[1:]]})
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    if perf_count:
        config["PERF_COUNT"] = True
    return _OV_CORE.compile_model(model, "CPU", config)


def ov_precision(compiled) -> str:
    """The precision OpenVINO runs the model's non-quantized parts in (bf16 by default on CPUs
    with AVX-512 BF16 or AMX)."""
    try:
        return str(compiled.get_property("INFERENCE_PRECISION_HINT")).replace("<Type: '", "").rstrip("'>")
    except Exception:  # noqa: BLE001
        return "unknown"


def ov_logits_u8(compiled, x_nhwc_u8: np.ndarray, batch: int = 50) -> np.ndarray:
    """OpenVINO's logits for prepared u8 NHWC images, batch by batch (as ort_logits_u8)."""
    req = compiled.create_infer_request()
    outs = []
    for s in range(0, x_nhwc_u8.shape[0], batch):
        req.infer({0: to_nchw_f32(x_nhwc_u8[s:s + batch])})
        outs.append(np.array(req.get_output_tensor(0).data, dtype=np.float32))
    return np.concatenate(outs)


def ov_timer(compiled, x_nchw: np.ndarray):
    """A function that runs one inference of `x_nchw` (input shared, not copied, as ORT does)."""
    req = compiled.create_infer_request()
    x = np.ascontiguousarray(x_nchw, dtype=np.float32)
    return lambda: req.infer({0: x}, share_inputs=True)


def ov_profile(ov, path: Path, x_nchw: np.ndarray, threads: int, runs: int, top: int = 12) -> dict:
    """OpenVINO's per-layer profile (PERF_COUNT) of batch 1 on `threads` threads: the median over
    `runs` runs of each executed node's real time, the `top` slowest first."""
    compiled = ov_compile(ov, path, threads, batch=1, perf_count=True)
    req = compiled.create_infer_request()
    x = np.ascontiguousarray(x_nchw[:1], dtype=np.float32)
    every, walls = layer_profile.openvino_node_times(ov, req, {0: x}, runs, share_inputs=True)
    layers = [{"name": e["name"], "type": e["type"], "exec_type": e["exec_type"], "median_ms": e["ms"]}
              for e in every]
    layers.sort(key=lambda e: -e["median_ms"])
    return {"threads": threads, "runs": runs, "wall_median_ms": statistics.median(walls),
            "layers_total_ms": sum(e["median_ms"] for e in layers), "layers": layers[:top],
            "layers_executed": len(layers), "nodes": every}


def nin_profile(model: Path, image: Path, threads: int, runs: int) -> dict:
    """`nin-infer --profile RUNS --threads THREADS` of `image`, parsed (layer_profile): nin's
    per-layer medians, its family and peak, for the table beside OpenVINO's profile."""
    r = subprocess.run([str(RELEASE / "nin-infer"), "--profile", str(runs), "--threads", str(threads),
                        "--model", str(model), str(image)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"nin-infer --profile exited with {r.returncode}: {r.stderr.strip()[-300:]}")
    return layer_profile.parse_nin_profile(r.stdout)


def ov_profile_lines(prof: dict) -> list[str]:
    lines = [f"OpenVINO per-layer profile (PERF_COUNT, b1 t{prof['threads']}, medians of "
             f"{prof['runs']} runs): {prof['layers_total_ms']:.3f} ms over "
             f"{prof['layers_executed']} executed nodes, wall {prof['wall_median_ms']:.3f} ms; "
             f"the slowest:"]
    for e in prof["layers"]:
        lines.append(f"  {e['median_ms']:8.3f} ms  {e['type']:<14} {e['exec_type']:<28} {e['name']}")
    return lines
