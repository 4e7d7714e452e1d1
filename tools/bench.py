#!/usr/bin/env python3
"""nin against its peers on the same weights: latency, throughput, agreement, cold start.

For every model compared (``--models``; by default ``models/fashion_small.nin`` if present and
the classic 227x227 NiN: ``models/fashion_classic.nin`` if present, else a random-weight one
written to ``.build/bench/classic_random.nin`` by ``tools/make_bench_model.py``):

1. Peers from the SAME weights.  The ``.nin`` is dequantized (``w = int8 * weight_scale[o]``,
   ``b = bias * s_in * weight_scale[o]``) into an fp32 ONNX graph built with ``onnx.helper``
   (NCHW Conv with the layer's pads/strides, Relu, MaxPool/AveragePool, GlobalAveragePool,
   Flatten); its top-1 is checked against nin on a few images.  That graph is then quantized
   by ``onnxruntime.quantization.quantize_static`` (QDQ, per-channel, activations QUInt8,
   weights QInt8, MinMax calibration on 100 Fashion-MNIST training images prepared for the
   model).  With PyTorch importable, the same fp32 graph as a ``torch.nn.Sequential`` too.
2. Latency: batch 1 at 1 and 2 threads, batch 16 at 2 threads.  nin is timed by
   ``bench/nin_bench.c`` (compiled into ``.build/bench/``: a C loop around
   ``nin_run_prepared_u8``, no Python in the timed region); ONNX Runtime int8 and fp32
   (intra-op threads set, inter-op 1, sequential, all graph optimizations) and PyTorch fp32 are
   timed around ``session.run`` / ``module(x)``.  Medians of ``--runs`` (>= 50) runs per
   engine, taken in ROUNDS interleaved rounds, each engine warmed up in every round.
3. Top-1 agreement with the fp32 ONNX model on the first 1,000 Fashion-MNIST test images and
   on all 10,000 (``--agree-images``): nin int8 (libnin through ctypes,
   ``nin_run_prepared_u8`` on batches) and ORT int8; accuracy against the labels for all
   three, and the logit RMSE against fp32.  Also: nin's logits are checked bit for bit against the numpy
   reference (``nin_tools.reference``) on two images.
4. Cold start of ``.build/release/nin-infer --model M IMAGE`` (fresh process each time, median
   wall time and peak RSS from ``wait4``), and the instruction count of ONE inference under
   ``valgrind --tool=callgrind`` (collection toggled on ``nin_run_prepared_u8``; nin_bench with
   runs=2 minus runs=1, so warm-up and set-up cancel): the noise-free figure to track.
5. ``bench/out/results.json`` and, with matplotlib, ``bench/out/latency.png``.

    python tools/bench.py                       # what `make bench` runs
    python tools/bench.py --models a.nin b.nin --runs 100 --no-callgrind

Needs numpy, onnx and onnxruntime (``pip install onnxruntime onnx``); torch and matplotlib are
optional; valgrind is optional (the instruction count is skipped without it).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from nin_tools import fashion_mnist as FM
from nin_tools import model_format as F
from nin_tools import preprocess as P
from nin_tools import reference as R
from nin_tools.runtime import import_runtime

RELEASE = ROOT / ".build" / "release"
BENCH_BUILD = ROOT / ".build" / "bench"
OUT_DIR = ROOT / "bench" / "out"
CONFIGS = [(1, 1), (1, 2), (16, 2)]          # (batch, threads)
OPSET = 17
IR_VERSION = 8


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# libnin through ctypes (agreement only; timing goes through nin_bench)
# --------------------------------------------------------------------------------------------

class Nin:
    """libnin through the nin Python package (bindings/python): prepared batches -> logits."""

    def __init__(self, lib_path: Path):
        os.environ["NIN_LIBRARY"] = str(lib_path)     # this build, not an installed one
        nin = import_runtime()                        # PYTHONPATH=bindings/python (make bench)
        self.nin = nin
        self.version = nin.library_version()

    def logits(self, model_path: Path, x_nhwc_u8: np.ndarray, batch: int = 50,
               threads: int = 2) -> np.ndarray:
        with self.nin.Model(model_path, threads=threads, max_batch=batch) as model:
            return model.logits(np.ascontiguousarray(x_nhwc_u8, dtype=np.uint8), prepared=True)


# --------------------------------------------------------------------------------------------
# Peers built from the .nin weights
# --------------------------------------------------------------------------------------------

def _input_affine(model: F.Model):
    """(mul, add) turning the peers' input x = pixel/255 into nin's real input
    s_in * (pixel - z_in); None when that is the identity (the usual s=1/255, z=0)."""
    s = np.float32(model.input_scale)
    z = int(model.input_zero_point)
    if s == np.float32(1 / 255) and z == 0:
        return None
    return np.float32(255.0 * float(s)), np.float32(-float(s) * z)


def _float_layers(model: F.Model):
    """Yield (layer, W_oihw float32, b float32) with the bias scale of each conv's input."""
    scale = np.float32(model.input_scale)
    for L in model.layers:
        if L.op == "conv":
            w = R.dequantize_weights(L).transpose(0, 3, 1, 2)       # OHWI -> OIHW
            b = R.dequantize_bias(L, scale)
            yield L, np.ascontiguousarray(w, dtype=np.float32), b.astype(np.float32)
            scale = np.float32(L.output_scale)
        else:
            yield L, None, None


def build_onnx(model: F.Model):
    """fp32 ONNX graph (input "input" N x C x H x W = pixel/255, output "logits" N x classes)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c, h, w = (int(v) for v in model.input_shape)
    nodes, inits = [], []
    cur = "input"
    aff = _input_affine(model)
    if aff is not None:
        inits += [numpy_helper.from_array(np.array(aff[0], np.float32), "in_mul"),
                  numpy_helper.from_array(np.array(aff[1], np.float32), "in_add")]
        nodes += [helper.make_node("Mul", [cur, "in_mul"], ["in_scaled"]),
                  helper.make_node("Add", ["in_scaled", "in_add"], ["in_real"])]
        cur = "in_real"
    for i, (L, wt, b) in enumerate(_float_layers(model)):
        k = [int(v) for v in L.kernel]
        st = [int(v) for v in L.stride]
        pads = [int(v) for v in L.pads]             # (top, left, bottom, right) == ONNX order
        out = f"l{i}"
        if L.op == "conv":
            inits += [numpy_helper.from_array(wt, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("Conv", [cur, f"w{i}", f"b{i}"], [out],
                                          kernel_shape=k, strides=st, pads=pads))
            if L.relu:
                nodes.append(helper.make_node("Relu", [out], [out + "_relu"]))
                out += "_relu"
        elif L.op == "maxpool":
            nodes.append(helper.make_node("MaxPool", [cur], [out], kernel_shape=k, strides=st,
                                          pads=pads))
        elif L.op == "avgpool":
            nodes.append(helper.make_node("AveragePool", [cur], [out], kernel_shape=k,
                                          strides=st, pads=pads, count_include_pad=1))
        elif L.op == "gap":
            nodes.append(helper.make_node("GlobalAveragePool", [cur], [out]))
            nodes.append(helper.make_node("Flatten", [out], ["logits"], axis=1))
            out = "logits"
        else:
            raise ValueError(f"layer {i}: unknown op {L.op!r}")
        cur = out
    classes = len(model.labels)
    graph = helper.make_graph(
        nodes, str(model.metadata.get("name", "nin")),
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, h, w])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializer=inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="nin tools/bench.py")
    onnx_model.ir_version = IR_VERSION
    onnx.checker.check_model(onnx_model)
    return onnx_model


def build_torch(model: F.Model):
    """The same fp32 network as a torch.nn.Sequential (asymmetric pads as explicit pad ops)."""
    import torch
    from torch import nn

    mods = []
    aff = _input_affine(model)
    if aff is not None:
        class _Affine(nn.Module):
            def forward(self, x):
                return x * float(aff[0]) + float(aff[1])
        mods.append(_Affine())
    for L, wt, b in _float_layers(model):
        k = tuple(int(v) for v in L.kernel)
        st = tuple(int(v) for v in L.stride)
        t, l, bo, r = (int(v) for v in L.pads)
        padded = (t, l, bo, r) != (0, 0, 0, 0)
        if L.op == "conv":
            if padded:
                mods.append(nn.ZeroPad2d((l, r, t, bo)))
            conv = nn.Conv2d(int(L.in_channels), int(L.out_channels), k, st, 0)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(wt))
                conv.bias.copy_(torch.from_numpy(b))
            mods.append(conv)
            if L.relu:
                mods.append(nn.ReLU())
        elif L.op == "maxpool":
            if padded:
                mods.append(nn.ConstantPad2d((l, r, t, bo), float("-inf")))
            mods.append(nn.MaxPool2d(k, st))
        elif L.op == "avgpool":
            if padded:                     # count_include_pad: pads count as 0, divisor kh*kw
                mods.append(nn.ZeroPad2d((l, r, t, bo)))
            mods.append(nn.AvgPool2d(k, st))
        elif L.op == "gap":
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1)]
    return nn.Sequential(*mods).eval()


class _Calibration:
    """onnxruntime CalibrationDataReader over prepared float32 NCHW images, one at a time."""

    def __init__(self, x_nchw: np.ndarray):
        self._it = iter([{"input": x_nchw[i:i + 1]} for i in range(x_nchw.shape[0])])

    def get_next(self):
        return next(self._it, None)

    def rewind(self):  # pragma: no cover - not used by MinMax
        pass


def quantize_onnx(fp32_path: Path, int8_path: Path, calib_nchw: np.ndarray) -> None:
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    src = fp32_path
    try:  # recommended pre-processing (shape inference + graph optimization); optional
        from onnxruntime.quantization.shape_inference import quant_pre_process
        pre = fp32_path.with_suffix(".pre.onnx")
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=False)
        src = pre
    except Exception as e:  # noqa: BLE001
        log(f"  (quant_pre_process skipped: {e})")
    reader = _Calibration(calib_nchw)
    quantize_static(str(src), str(int8_path), reader, quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)


def ort_session(path: Path, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_logits(sess, x_nchw: np.ndarray, batch: int = 50) -> np.ndarray:
    outs = [sess.run(["logits"], {"input": x_nchw[s:s + batch]})[0]
            for s in range(0, x_nchw.shape[0], batch)]
    return np.concatenate(outs).astype(np.float32)


def ort_logits_u8(sess, x_nhwc_u8: np.ndarray, batch: int = 50) -> np.ndarray:
    """As ort_logits, from prepared u8 NHWC converted batch by batch (10,000 227x227 images
    would take 2 GB as float32)."""
    return np.concatenate([ort_logits(sess, to_nchw_f32(x_nhwc_u8[s:s + batch]), batch)
                           for s in range(0, x_nhwc_u8.shape[0], batch)])


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

def time_calls(fn, runs: int, warmup: int = 5) -> list[float]:
    """Milliseconds of `runs` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def summary(times: list[float]) -> dict:
    return {"median_ms": statistics.median(times), "best_ms": min(times), "runs": len(times)}


# Each configuration is timed in ROUNDS rounds, every engine once per round (its share of the
# runs, after its own warm-up), with a short pause between engines, and each engine's median
# is taken over all its runs: a burst of load on this shared machine then lands on every engine
# instead of on whichever happened to be running.
ROUNDS = 5
PAUSE_S = 0.2


def build_nin_bench() -> Path:
    """Compile bench/nin_bench.c against the release libnin.so (rpath set) if stale."""
    exe = BENCH_BUILD / "nin_bench"
    src = ROOT / "bench" / "nin_bench.c"
    lib = RELEASE / "libnin.so"
    if (not exe.exists() or exe.stat().st_mtime < max(src.stat().st_mtime, lib.stat().st_mtime)):
        BENCH_BUILD.mkdir(parents=True, exist_ok=True)
        cc = os.environ.get("CC", "cc")
        cmd = [cc, "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", f"-I{ROOT / 'include'}",
               str(src), "-o", str(exe), f"-L{RELEASE}", "-lnin", f"-Wl,-rpath,{RELEASE}"]
        log("  " + " ".join(cmd))
        subprocess.run(cmd, check=True)
    return exe


def nin_bench(exe: Path, model: Path, runs: int, threads: int, batch: int) -> list[float]:
    """Milliseconds of `runs` runs of nin_bench (a fresh process: load, warm-up, then runs)."""
    out = subprocess.run([str(exe), str(model), str(runs), str(threads), str(batch)],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"times_ms=([\d.,]+)", out)
    if not m:
        raise RuntimeError(f"nin_bench printed {out!r}")
    return [float(t) for t in m.group(1).split(",")]


# --------------------------------------------------------------------------------------------
# Cold start and instruction count
# --------------------------------------------------------------------------------------------

def spawn_wait(argv) -> tuple[float, int]:
    """(wall ms, exit status) of one fresh process; stdout/stderr discarded."""
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, _ = os.wait4(pid, 0)
    return (time.perf_counter() - t0) * 1e3, os.waitstatus_to_exitcode(status)


def peak_rss_kib(argv, runs: int = 3) -> int | None:
    """Largest "Maximum resident set size" of `runs` runs under /usr/bin/time -v.

    Not wait4/getrusage from this process: Linux carries a process's RSS high-water mark
    across exec, and a child spawned from this (large) Python process starts with its mark."""
    time_bin = "/usr/bin/time"
    if not os.access(time_bin, os.X_OK):
        log("  /usr/bin/time not found (apt-get install time): peak RSS skipped")
        return None
    best = None
    for _ in range(runs):
        r = subprocess.run([time_bin, "-v"] + argv, capture_output=True, text=True)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"/usr/bin/time -v {' '.join(argv)} failed: {r.stderr[-300:]}")
        best = max(best or 0, int(m.group(1)))
    return best


def cold_start(argv, runs: int) -> dict:
    """Median wall time of `runs` fresh processes (spawned directly, not through a shell)."""
    walls = []
    for _ in range(runs):
        wall, code = spawn_wait(argv)
        if code != 0:
            raise RuntimeError(f"{' '.join(argv)} exited with {code}")
        walls.append(wall)
    walls.sort()
    return {"median_ms": statistics.median(walls), "best_ms": walls[0], "runs": runs,
            "peak_rss_kib": peak_rss_kib(argv), "argv": argv}


def callgrind_instructions(exe: Path, model: Path) -> dict | None:
    """Instructions of one nin_run_prepared_u8 (batch 1, 1 thread) under callgrind."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        log("  valgrind not found (apt-get install valgrind): instruction count skipped")
        return None
    env = dict(os.environ)
    env.pop("NIN_ISA", None)
    # valgrind 3.19 gives up on the Swift toolchain's DWARF in libnin.so ("Possibly corrupted
    # debuginfo file"), so nin_bench loads a copy without debug sections (same code, same
    # symbols) through LD_LIBRARY_PATH, which overrides nin_bench's RUNPATH.
    vg_dir = BENCH_BUILD / "valgrind"
    vg_dir.mkdir(parents=True, exist_ok=True)
    lib = RELEASE / "libnin.so"
    stripped = vg_dir / "libnin.so"
    objcopy = shutil.which("objcopy")
    if objcopy and (not stripped.exists() or stripped.stat().st_mtime < lib.stat().st_mtime):
        subprocess.run([objcopy, "--strip-debug", str(lib), str(stripped)], check=True)
    if stripped.exists():
        env["LD_LIBRARY_PATH"] = str(vg_dir) + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    totals = {}
    for runs in (1, 2):
        outfile = vg_dir / f"callgrind.{model.stem}.{runs}.out"
        cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={outfile}",
               "--toggle-collect=nin_run_prepared_u8", str(exe), str(model), str(runs), "1", "1"]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            log(f"  callgrind failed ({r.returncode}): {r.stderr[-400:]}")
            return None
        text = outfile.read_text(errors="replace")
        m = re.search(r"^(?:totals|summary):\s+(\d+)", text, re.M)
        if not m:
            log("  callgrind output has no totals line")
            return None
        totals[runs] = int(m.group(1))
    ir = totals[2] - totals[1]
    if ir <= 0:
        log(f"  callgrind: runs=2 ({totals[2]}) not above runs=1 ({totals[1]})")
        return None
    return {"instructions": ir, "totals": {str(k): v for k, v in totals.items()},
            "method": "nin_bench runs=2 minus runs=1, --toggle-collect=nin_run_prepared_u8, "
                      "batch 1, 1 thread, under valgrind's CPUID (AVX2 kernels)"}


# --------------------------------------------------------------------------------------------
# One model
# --------------------------------------------------------------------------------------------

def conv_macs(model: F.Model) -> int:
    total = 0
    shapes = model.output_shapes()
    for L, (c, h, w) in zip(model.layers, shapes):
        if L.op == "conv":
            total += c * h * w * int(L.kernel[0]) * int(L.kernel[1]) * int(L.in_channels)
    return total


def to_nchw_f32(u8: np.ndarray) -> np.ndarray:
    """float32 NCHW = pixel/255, the peers' input."""
    return np.ascontiguousarray(u8.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)


def prepared(images_u8: np.ndarray, shape_chw) -> tuple[np.ndarray, np.ndarray]:
    """(u8 NHWC for nin, float32 NCHW = pixel/255 for the peers)."""
    u8 = P.prepare_batch(images_u8, shape_chw)
    return u8, to_nchw_f32(u8)


def agreement_figures(l_fp: np.ndarray, l_q: np.ndarray, l_nin: np.ndarray, labels: np.ndarray) -> dict:
    """Top-1 agreement of each int8 engine with fp32, accuracies and logit RMSE / fp32 std."""
    ref_top = top1(l_fp)
    return {
        "images": int(l_fp.shape[0]),
        "nin_int8_vs_fp32": float((top1(l_nin) == ref_top).mean()),
        "ort_int8_vs_fp32": float((top1(l_q) == ref_top).mean()),
        "nin_int8_vs_ort_int8": float((top1(l_nin) == top1(l_q)).mean()),
        "disagreements": {"nin_int8": int((top1(l_nin) != ref_top).sum()),
                          "ort_int8": int((top1(l_q) != ref_top).sum())},
        "accuracy": {"fp32": float((ref_top == labels).mean()),
                     "nin_int8": float((top1(l_nin) == labels).mean()),
                     "ort_int8": float((top1(l_q) == labels).mean())},
        "logit_rmse_rel": {
            "nin_int8": float(np.sqrt(((l_nin - l_fp) ** 2).mean()) / (np.std(l_fp) or 1.0)),
            "ort_int8": float(np.sqrt(((l_q - l_fp) ** 2).mean()) / (np.std(l_fp) or 1.0))},
    }


def agreement_line(a: dict) -> str:
    return (f"top-1 agreement with fp32 ({a['images']} test images): nin int8 "
            f"{a['nin_int8_vs_fp32']:.2%} ({a['disagreements']['nin_int8']} differ), ORT int8 "
            f"{a['ort_int8_vs_fp32']:.2%} ({a['disagreements']['ort_int8']} differ); accuracy fp32 "
            f"{a['accuracy']['fp32']:.2%}, nin {a['accuracy']['nin_int8']:.2%}, ORT int8 "
            f"{a['accuracy']['ort_int8']:.2%}; logit RMSE/std nin {a['logit_rmse_rel']['nin_int8']:.4f}, "
            f"ORT int8 {a['logit_rmse_rel']['ort_int8']:.4f}")


def top1(logits: np.ndarray) -> np.ndarray:
    return np.argmax(logits, axis=1)


def bench_model(path: Path, args, nin: Nin, exe: Path, data: dict) -> dict:
    import onnx
    import onnxruntime  # noqa: F401  (fail early with a clear ImportError)

    model = F.read(path)
    shape = tuple(int(v) for v in model.input_shape)
    work = BENCH_BUILD / "peers" / re.sub(r"[^A-Za-z0-9_.-]+", "_", str(path.with_suffix("")))
    work.mkdir(parents=True, exist_ok=True)
    res = {"path": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
           "input_shape": list(shape), "classes": len(model.labels),
           "macs_per_image": conv_macs(model), "metadata": dict(model.metadata)}
    log(f"\n== {res['path']}  input {shape}  {res['macs_per_image'] / 1e6:.1f} M MACs/image")

    # 1. peers -----------------------------------------------------------------------------
    t0 = time.perf_counter()
    fp32_path, int8_path = work / "fp32.onnx", work / "int8_qdq.onnx"
    onnx.save(build_onnx(model), str(fp32_path))
    _, calib = prepared(data["calib"], shape)
    quantize_onnx(fp32_path, int8_path, calib)
    log(f"  ONNX fp32 + ORT int8 (QDQ, per-channel, U8/S8, MinMax on {calib.shape[0]} train "
        f"images) built in {time.perf_counter() - t0:.1f} s")
    sess_fp32 = ort_session(fp32_path, 2)
    sess_int8 = ort_session(int8_path, 2)

    test_u8 = P.prepare_batch(data["test_images"], shape)
    test_f32 = to_nchw_f32(test_u8[:16])  # the peers' sanity and timing inputs (batch <= 16)
    labels = data["test_labels"]

    # sanity: fp32 graph vs nin on a few images, and nin vs the numpy reference bit for bit
    few = min(16, test_u8.shape[0])
    l_nin_few = nin.logits(path, test_u8[:few])
    l_fp_few = ort_logits(sess_fp32, test_f32[:few])
    agree_few = int((top1(l_nin_few) == top1(l_fp_few)).sum())
    span = float(np.abs(l_fp_few).max()) or 1.0
    rel = float(np.abs(l_nin_few - l_fp_few).max()) / span
    log(f"  sanity: fp32 ONNX vs nin top-1 on {few} test images: {agree_few}/{few} agree; "
        f"max |logit diff| = {rel:.3f} of max |logit|")
    ref = R.run(model, test_u8[:2])["logits"]
    bit_exact = bool(np.array_equal(ref.view(np.uint32), l_nin_few[:2].view(np.uint32)))
    log(f"  sanity: nin logits {'==' if bit_exact else '!='} numpy reference (nin_tools.reference) "
        f"bit for bit on 2 images")
    sanity = {"images": few, "top1_agree": agree_few, "max_logit_diff_rel": rel,
              "nin_equals_numpy_reference": bit_exact}
    if agree_few < few // 2:
        log("  WARNING: the fp32 ONNX graph and nin disagree on most images: the graph is "
            "probably not the same network")
    torch_mod = None
    if not args.no_torch:
        try:
            import torch
            torch_mod = build_torch(model)
            with torch.inference_mode():
                l_t = torch_mod(torch.from_numpy(test_f32[:few])).numpy()
            sanity["torch_vs_onnx_fp32_max_abs"] = float(np.abs(l_t - l_fp_few).max())
            log(f"  sanity: PyTorch fp32 vs ONNX fp32 max |logit diff| "
                f"{sanity['torch_vs_onnx_fp32_max_abs']:.2e}")
        except ImportError:
            log("  PyTorch not importable: its column is skipped")
    res["sanity"] = sanity

    # 3. agreement: on the first 1,000 test images (the figure the issue asks for) and, when
    # more are given (default: all 10,000), on all of them, where one image is 0.01% -------------
    t0 = time.perf_counter()
    l_fp = ort_logits_u8(sess_fp32, test_u8)
    l_q = ort_logits_u8(sess_int8, test_u8)
    l_nin = nin.logits(path, test_u8)
    first = min(1000, test_u8.shape[0])
    res["agreement"] = agreement_figures(l_fp[:first], l_q[:first], l_nin[:first], labels[:first])
    log(f"  {agreement_line(res['agreement'])}")
    if test_u8.shape[0] > first:
        res["agreement_all"] = agreement_figures(l_fp, l_q, l_nin, labels)
        log(f"  {agreement_line(res['agreement_all'])}")
    log(f"  [agreement: {time.perf_counter() - t0:.0f} s]")
    del sess_fp32, sess_int8

    # 2. latency -----------------------------------------------------------------------------
    lat = []
    per_round = -(-args.runs // ROUNDS)  # at least args.runs runs per engine in all
    for batch, threads in CONFIGS:
        row = {"batch": batch, "threads": threads}
        x = np.ascontiguousarray(np.resize(test_f32, (batch,) + test_f32.shape[1:]))
        sessions = {key: ort_session(p, threads) for key, p in (("ort_int8", int8_path), ("ort_fp32", fp32_path))}
        feed = {"input": x}
        samples = {key: [] for key in ENGINES}
        if torch_mod is not None:
            import torch
            torch.set_num_threads(threads)
            xt = torch.from_numpy(x)
        for _ in range(ROUNDS):
            samples["nin_int8"] += nin_bench(exe, path, per_round, threads, batch)
            for key, sess in sessions.items():
                time.sleep(PAUSE_S)
                samples[key] += time_calls(lambda: sess.run(["logits"], feed), per_round)
            if torch_mod is not None:
                time.sleep(PAUSE_S)
                with torch.inference_mode():
                    samples["torch_fp32"] += time_calls(lambda: torch_mod(xt), per_round)
            time.sleep(PAUSE_S)
        del sessions
        for key in ENGINES:
            if samples[key]:
                row[key] = summary(samples[key])
                row[key]["images_per_s"] = batch * 1e3 / row[key]["median_ms"]
        lat.append(row)
        log("  " + _latency_line(row))
    res["latency"] = lat

    # 4. cold start and instruction count ----------------------------------------------------
    if not args.no_cold:
        cli = RELEASE / "nin-infer"
        image = data["image"]
        res["cold_start"] = cold_start([str(cli), "--model", str(path), str(image)],
                                       args.cold_runs)
        cs = res["cold_start"]
        log(f"  cold start nin-infer (fresh process, {cs['runs']} runs): median "
            f"{cs['median_ms']:.1f} ms, best {cs['best_ms']:.1f} ms, peak RSS "
            f"{_mib(cs['peak_rss_kib'])}")
        probe = work / "ort_cold.py"
        probe.write_text(
            "import sys, numpy as np, onnxruntime as ort\n"
            "so = ort.SessionOptions(); so.intra_op_num_threads = 1\n"
            "s = ort.InferenceSession(sys.argv[1], so, providers=['CPUExecutionProvider'])\n"
            f"x = np.zeros((1, {shape[0]}, {shape[1]}, {shape[2]}), np.float32)\n"
            "print(int(s.run(None, {'input': x})[0].argmax()))\n")
        res["cold_start_ort_int8_python"] = cold_start(
            [sys.executable, str(probe), str(int8_path)], max(3, args.cold_runs // 2))
        cs = res["cold_start_ort_int8_python"]
        log(f"  (peer) cold start python + onnxruntime int8, one inference: median "
            f"{cs['median_ms']:.1f} ms, peak RSS {_mib(cs['peak_rss_kib'])}")
    if not args.no_callgrind:
        t0 = time.perf_counter()
        cg = callgrind_instructions(exe, path)
        if cg:
            cg["per_mac"] = cg["instructions"] / max(1, res["macs_per_image"])
            log(f"  instructions per inference (callgrind, batch 1, 1 thread): "
                f"{cg['instructions']:,} ({cg['per_mac']:.3f} per MAC) "
                f"[{time.perf_counter() - t0:.0f} s]")
        res["callgrind"] = cg
    return res


ENGINES = ["nin_int8", "ort_int8", "ort_fp32", "torch_fp32"]
ENGINE_NAMES = {"nin_int8": "nin int8", "ort_int8": "ORT int8", "ort_fp32": "ORT fp32",
                "torch_fp32": "PyTorch fp32"}


def _mib(kib) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _latency_line(row: dict) -> str:
    parts = [f"b{row['batch']} t{row['threads']}:"]
    for key in ENGINES:
        if key in row:
            parts.append(f"{ENGINE_NAMES[key]} {row[key]['median_ms']:.3f} ms")
    return "  ".join(parts)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def print_table(results: dict) -> str:
    lines = []
    for res in results["models"].values():
        lines.append("")
        lines.append(f"{res['path']}  ({res['input_shape'][0]}x{res['input_shape'][1]}x"
                     f"{res['input_shape'][2]}, {res['macs_per_image'] / 1e6:.1f} M MACs/image)")
        head = f"{'batch':>5} {'thr':>3} | {'engine':<13} {'median ms':>10} {'best ms':>9} " \
               f"{'img/s':>9} | {'nin speedup':>11}"
        lines.append(head)
        lines.append("-" * len(head))
        for row in res["latency"]:
            nin_ms = row["nin_int8"]["median_ms"]
            for key in ENGINES:
                if key not in row:
                    continue
                r = row[key]
                ratio = "" if key == "nin_int8" else f"{r['median_ms'] / nin_ms:.2f}x"
                lines.append(f"{row['batch']:>5} {row['threads']:>3} | {ENGINE_NAMES[key]:<13} "
                             f"{r['median_ms']:>10.3f} {r['best_ms']:>9.3f} "
                             f"{r['images_per_s']:>9.1f} | {ratio:>11}")
        lines.append(agreement_line(res["agreement"]))
        if res.get("agreement_all"):
            lines.append(agreement_line(res["agreement_all"]))
        if res.get("cold_start"):
            cs = res["cold_start"]
            lines.append(f"cold start nin-infer: {cs['median_ms']:.1f} ms median, peak RSS "
                         f"{_mib(cs['peak_rss_kib'])}")
        if res.get("cold_start_ort_int8_python"):
            cs = res["cold_start_ort_int8_python"]
            lines.append(f"cold start python+ORT int8: {cs['median_ms']:.1f} ms median, peak RSS "
                         f"{_mib(cs['peak_rss_kib'])}")
        if res.get("callgrind"):
            cg = res["callgrind"]
            lines.append(f"instructions / inference (callgrind, b1 t1): {cg['instructions']:,} "
                         f"({cg['per_mac']:.3f} per MAC)   <- the noise-free figure to track")
    lines.append("")
    lines.append("nin speedup = peer median / nin median (> 1: nin is faster; at batch 16 it is "
                 "also the throughput ratio).")
    load = results["machine"]["loadavg_before"]
    lines.append(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
                 f"{results['machine']['cpus']} CPUs (timings are only as quiet as the machine)")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def plot(results: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    models = list(results["models"].values())
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.2), squeeze=False)
    colors = {"nin_int8": "#d62728", "ort_int8": "#1f77b4", "ort_fp32": "#7fb3e0",
              "torch_fp32": "#ff7f0e"}
    for ax, res in zip(axes[0], models):
        rows = res["latency"]
        keys = [k for k in ENGINES if all(k in r for r in rows)]
        width = 0.8 / len(keys)
        for j, key in enumerate(keys):
            xs = [i + j * width for i in range(len(rows))]
            ys = [r[key]["median_ms"] / r["batch"] for r in rows]
            ax.bar(xs, ys, width, label=ENGINE_NAMES[key], color=colors[key])
        ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(rows))])
        ax.set_xticklabels([f"batch {r['batch']}\n{r['threads']} thr" for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel("median ms per image, log scale (lower is better)")
        ax.set_title(f"{res['path']} {res['input_shape']}", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("nin vs ONNX Runtime / PyTorch, same weights (loadavg "
                 f"{results['machine']['loadavg_before'][0]:.1f})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def default_models() -> list[Path]:
    models = []
    small = ROOT / "models" / "fashion_small.nin"
    if small.exists():
        models.append(small)
    classic = ROOT / "models" / "fashion_classic.nin"
    if classic.exists():
        models.append(classic)
    else:
        rnd = BENCH_BUILD / "classic_random.nin"
        if not rnd.exists():
            subprocess.run([sys.executable, str(ROOT / "tools" / "make_bench_model.py"),
                            str(rnd)], check=True)
        models.append(rnd)
    return models


def default_image() -> Path:
    pngs = sorted(glob.glob(str(ROOT / "examples" / "images" / "*.png")))
    return Path(pngs[0]) if pngs else ROOT / "Tests" / "fixtures" / "png" / "gray_8.png"


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "loadavg_before": list(os.getloadavg()),
            "python": platform.python_version(), "platform": platform.platform()}


def versions() -> dict:
    v = {"numpy": np.__version__}
    for mod in ("onnx", "onnxruntime", "torch", "matplotlib"):
        try:
            v[mod] = __import__(mod).__version__
        except ImportError:
            v[mod] = None
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", type=Path, help="the .nin models to compare")
    ap.add_argument("--runs", type=int, default=50, help="timed runs per measurement (>= 50)")
    ap.add_argument("--agree-images", type=int, default=10000,
                    help="Fashion-MNIST test images for the agreement: figures for the first "
                         "1000 and, if more, for all (default 10000)")
    ap.add_argument("--calib-images", type=int, default=100,
                    help="Fashion-MNIST training images for ORT calibration (default 100)")
    ap.add_argument("--cold-runs", type=int, default=20, help="fresh processes for cold start")
    ap.add_argument("--image", type=Path, help="PNG for the cold start (default: an example)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measurement")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction count")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (bench/out)")
    args = ap.parse_args(argv)
    if args.runs < 50:
        log(f"note: --runs {args.runs} is below the 50 this benchmark promises")

    lib = RELEASE / "libnin.so"
    for need in (lib, RELEASE / "nin-infer"):
        if not need.exists():
            log(f"{need} is missing: run `make lib cli` first")
            return 1
    t_start = time.perf_counter()
    results = {"machine": machine_info(), "versions": versions(), "models": {}}
    nin = Nin(lib)
    results["versions"]["nin"] = nin.version
    exe = build_nin_bench()
    models = [p.resolve() for p in (args.models or default_models())]

    train_x, _ = FM.load_split("train")
    test_x, test_y = FM.load_split("test")
    rng = np.random.default_rng(0)
    calib_idx = rng.choice(train_x.shape[0], size=args.calib_images, replace=False)
    data = {"calib": train_x[np.sort(calib_idx)],
            "test_images": test_x[:args.agree_images], "test_labels": test_y[:args.agree_images],
            "image": (args.image or default_image()).resolve()}
    results["cold_start_image"] = str(data["image"])
    log(f"machine: {results['machine']['cpu']}, {results['machine']['cpus']} CPUs, load "
        f"{results['machine']['loadavg_before']}; nin {nin.version}, onnxruntime "
        f"{results['versions']['onnxruntime']}, torch {results['versions']['torch']}")

    for path in models:
        res = bench_model(path, args, nin, exe, data)
        results["models"][res["path"]] = res

    results["machine"]["loadavg_after"] = list(os.getloadavg())
    results["seconds"] = time.perf_counter() - t_start
    table = print_table(results)
    results["table"] = table
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"\nwrote {args.out / 'results.json'}")
    if plot(results, args.out / "latency.png"):
        log(f"wrote {args.out / 'latency.png'}")
    log(f"total {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
