#!/usr/bin/env python3
"""nin against its peers on the same weights: latency, throughput, agreement, cold start.

The report starts with the machine: CPU model and which of the flags that decide the kernels
(avx2, fma, avx512f, avx512bw, avx512vl, avx512_vnni, avx_vnni, amx_tile, amx_int8)
/proc/cpuinfo lists.  For every model compared (``--models``; by default
``models/fashion_small.nin`` if present and the classic 227x227 NiN:
``models/fashion_classic.nin`` if present, else a random-weight one written to
``.build/bench/classic_random.nin`` by ``tools/make_bench_model.py``):

1. Peers from the SAME weights.  The ``.nin`` is dequantized (``w = int8 * weight_scale[o]``,
   ``b = bias * s_in * weight_scale[o]``) into an fp32 ONNX graph built with ``onnx.helper``
   (NCHW Conv with the layer's pads/strides, Relu, MaxPool/AveragePool, GlobalAveragePool,
   Flatten); its top-1 is checked against nin on a few images.  That graph is then quantized
   by ``onnxruntime.quantization.quantize_static`` (QDQ, per-channel, activations QUInt8,
   weights QInt8, MinMax calibration on 100 Fashion-MNIST training images prepared for the
   model).  With OpenVINO importable, that same QDQ model compiled by OpenVINO for the CPU
   (INFERENCE_NUM_THREADS = threads, latency hint, one stream, its default precision for the
   non-quantized parts).  With PyTorch importable, the fp32 graph as a ``torch.nn.Sequential``.
2. nin's kernel families: every ``NIN_ISA`` value (the cases of ``KernelISA`` in
   Sources/NiN/Kernels/KernelISA.swift) is tried with ``nin-infer --profile 1``, whose first
   line names the family that really ran; a family the CPU lacks falls back to another and is
   skipped with the reason (e.g. "the CPU lacks avx_vnni").
3. Latency: batch 1 at 1 and 2 threads, batch 16 at 2 threads.  nin is timed by
   ``bench/nin_bench.c`` (compiled into ``.build/bench/``: a C loop around
   ``nin_run_prepared_u8``, no Python in the timed region): its default family in every
   configuration, and each other family of this machine at batch 1 (one table row each; a
   family slower than SLOW_FAMILY_MS per image, such as the generic reference kernels, gets one
   warm-up and one timed run per round).  ONNX Runtime int8 and fp32 (intra-op threads set,
   inter-op 1, sequential, all graph optimizations), OpenVINO int8 and PyTorch fp32 are timed
   around ``session.run`` / ``request.infer`` / ``module(x)``.  Medians of ``--runs`` (50;
   20 with ``--quick``) runs per engine, taken in ROUNDS interleaved rounds, each engine warmed
   up in every round.  Every row gets its ratio to ORT int8 (and to OpenVINO int8) in the same
   configuration: below 1, faster.
4. Top-1 agreement with the fp32 ONNX model on the first 1,000 Fashion-MNIST test images and
   on all 10,000 (``--agree-images``; 1,000 with ``--quick``): nin int8 (libnin through the
   Python package, ``nin_run_prepared_u8`` on batches), ORT int8 and OpenVINO int8; accuracy
   against the labels, and the logit RMSE against fp32.  Also: nin's logits are checked bit for
   bit against the numpy reference (``nin_tools.reference``) on two images.
5. Cold start of ``.build/release/nin-infer --model M IMAGE`` (fresh process each time, median
   wall time; peak RSS from ``/usr/bin/time -v``); skipped by ``--quick``.
6. Instructions of ONE inference (batch 1, 1 thread) under ``valgrind --tool=callgrind``, the
   noise-free figures to track.  valgrind's virtual CPU hides AVX-512, AVX-VNNI and AMX, so
   both engines run AVX2 code there.  nin: nin_bench with runs=2 minus runs=1, collection
   toggled on ``nin_run_prepared_u8``, for each family valgrind runs (checked with
   ``nin-infer --profile 1`` under ``valgrind --tool=none``; slow families skipped).  ONNX
   Runtime int8: a Python process runs the QDQ session 1 and 6 times, only those runs
   instrumented (``bench/callgrind_region.c``, ``--instr-atstart=no``), and the difference / 5.
   Printed with the instructions per MAC and nin's AVX2 count / ORT's (issue 10's goal: at
   most 0.75x).  ``--callgrind-only`` prints just these (about a minute for the classic model).
7. With ``--openvino-profile``: OpenVINO's per-layer profile (PERF_COUNT, batch 1, 1 thread),
   the slowest layers first; then layer by layer beside nin's ``nin-infer --profile``, with each
   convolution's share of nin's measured peak (``tools/nin_tools/layer_profile.py``).
8. ``bench/out/results.json`` (``callgrind.json`` with ``--callgrind-only``) and, with
   matplotlib, ``bench/out/latency.png``.

    python tools/bench.py                       # what `make bench` runs
    python tools/bench.py --quick               # a few minutes: 20 runs, 1,000 images, no cold start
    python tools/bench.py --callgrind-only      # nin AVX2 vs ORT int8 instructions, classic model
    python tools/bench.py --models a.nin b.nin --runs 100 --no-callgrind

Needs numpy, onnx and onnxruntime (``pip install onnxruntime onnx``); openvino, torch and
matplotlib are optional; valgrind is optional (the instruction counts are skipped without it).
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
from nin_tools import layer_profile
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


def nin_bench(exe: Path, model: Path, runs: int, threads: int, batch: int,
              isa: str | None = None, warmup: int = 5) -> list[float]:
    """Milliseconds of `runs` runs of nin_bench (a fresh process: load, `warmup` untimed runs,
    then the timed ones), with the kernel family NIN_ISA=`isa` (None: the library's choice)."""
    env = _isa_env(isa)
    out = subprocess.run([str(exe), str(model), str(runs), str(threads), str(batch), str(warmup)],
                         check=True, capture_output=True, text=True, env=env).stdout
    m = re.search(r"times_ms=([\d.,]+)", out)
    if not m:
        raise RuntimeError(f"nin_bench printed {out!r}")
    return [float(t) for t in m.group(1).split(",")]


# --------------------------------------------------------------------------------------------
# The CPU's flags and nin's kernel families
# --------------------------------------------------------------------------------------------

# The /proc/cpuinfo flags that decide which kernels nin and its peers can run.
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
             "amx_tile", "amx_int8")
# A family slower than this per image (nin-infer --profile 1) is timed with one warm-up run and
# one timed run per round (the generic reference kernels take about 0.5 s on the classic model),
# and is left out of the instruction counts (minutes under callgrind).
SLOW_FAMILY_MS = 100.0


def parse_cpuinfo(text: str) -> dict:
    """The first processor's "model name" and which of CPU_FLAGS its "flags" line lists."""
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return {"model": model or platform.processor() or "unknown",
            "flags": [f for f in CPU_FLAGS if f in flags],
            "missing": [f for f in CPU_FLAGS if f not in flags]}


def cpu_features() -> dict:
    """parse_cpuinfo of this machine's /proc/cpuinfo (no flags where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    return parse_cpuinfo(text)


def cpu_flags_line(cpu: dict) -> str:
    missing = f" (not: {' '.join(cpu['missing'])})" if cpu["missing"] else ""
    return f"CPU flags: {' '.join(cpu['flags']) or 'none of ' + ' '.join(CPU_FLAGS)}{missing}"


def kernel_families(cli: Path | None = None) -> list[dict]:
    """The build's kernel families in the order a load prefers them, as `nin-infer
    --list-kernels --json` lists them from the engine's own table: [{"name", "supported",
    "reason" (why this CPU cannot run it, or None), "chosen"}]."""
    cli = cli or RELEASE / "nin-infer"
    r = subprocess.run([str(cli), "--list-kernels", "--json"], capture_output=True, text=True, env=_isa_env(None))
    if r.returncode != 0:
        raise RuntimeError(f"{cli} --list-kernels --json exited with {r.returncode}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def kernel_family_names(cli: Path | None = None) -> list[str]:
    """The NIN_ISA values of `kernel_families`, best first."""
    return [family["name"] for family in kernel_families(cli)]


def _isa_env(isa: str | None) -> dict:
    """This process's environment with NIN_ISA=`isa` (None: NIN_ISA removed, the library's choice)."""
    env = dict(os.environ)
    env.pop("NIN_ISA", None)
    if isa is not None:
        env["NIN_ISA"] = isa
    return env


def parse_profile(text: str) -> tuple[str | None, float | None]:
    """(family, total ms) from `nin-infer --profile N` output: its first line says
    "profile: N run(s), kernels FAMILY, ..." and a later one "total: T ms"."""
    fam = re.search(r"^profile:.*?\bkernels (\w+)", text, re.M)
    total = re.search(r"^\s*total: ([\d.]+) ms", text, re.M)
    return (fam.group(1) if fam else None), (float(total.group(1)) if total else None)


def profile_family(cli: list[str], model: Path, image: Path, isa: str | None) -> tuple[str | None, float | None]:
    """parse_profile of `cli --profile 1 --model MODEL IMAGE` run with NIN_ISA=`isa`."""
    r = subprocess.run(cli + ["--profile", "1", "--model", str(model), str(image)],
                       capture_output=True, text=True, env=_isa_env(isa))
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cli)} --profile 1 (NIN_ISA={isa}) exited with "
                           f"{r.returncode}: {r.stderr.strip()[-300:]}")
    return parse_profile(r.stdout)


def skip_reason(isa: str, ran: str | None, reason: str | None, where: str = "the CPU") -> str:
    """Why NIN_ISA=`isa` ran family `ran` instead: `reason` (the engine's, from
    `kernel_families`) on this CPU, or that `where` (valgrind's virtual CPU) lacks it."""
    why = f"NIN_ISA={isa} ran {ran or 'an unknown family'}: "
    if where != "the CPU":
        return why + f"{where} lacks it"
    return why + (reason or "this build, the CPU or its OS lacks it")


def probe_families(cli: Path, model: Path, image: Path, cpu: dict) -> dict:
    """Which kernel families run on this machine: each NIN_ISA value is tried with
    `nin-infer --profile 1`, whose first line names the family that really ran (a family the
    CPU lacks falls back to another).  {"auto": the library's choice, "available": [{"family",
    "profile_ms"}] with auto first, "skipped": {family: reason}}."""
    auto, auto_ms = profile_family([str(cli)], model, image, None)
    available, skipped = [], {}
    for family in kernel_families(cli):
        name = family["name"]
        ran, ms = (auto, auto_ms) if name == auto else profile_family([str(cli)], model, image, name)
        if ran == name:
            available.append({"family": name, "profile_ms": ms})
        else:
            skipped[name] = skip_reason(name, ran, family["reason"])
    available.sort(key=lambda f: (f["family"] != auto, f["profile_ms"] or float("inf")))
    return {"auto": auto, "available": available, "skipped": skipped}


def families_line(fams: dict) -> str:
    names = [f"{f['family']}{' (auto)' if f['family'] == fams['auto'] else ''}"
             for f in fams["available"]]
    line = f"kernel families: {', '.join(names)}"
    if fams["skipped"]:
        line += "; skipped: " + "; ".join(f"{k} ({v})" for k, v in fams["skipped"].items())
    return line


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


def valgrind_env(isa: str | None = None) -> tuple[str | None, dict]:
    """(valgrind's path or None, the environment to run nin under it with NIN_ISA=`isa`).

    valgrind 3.19 gives up on the Swift toolchain's DWARF in libnin.so ("Possibly corrupted
    debuginfo file"), so nin_bench loads a copy without debug sections (same code, same
    symbols), under every name the release folder gives the library (libnin.so and its soname
    libnin.so.0), through LD_LIBRARY_PATH, which overrides nin_bench's RUNPATH."""
    valgrind = shutil.which("valgrind")
    env = _isa_env(isa)
    if not valgrind:
        return None, env
    vg_dir = BENCH_BUILD / "valgrind"
    vg_dir.mkdir(parents=True, exist_ok=True)
    lib = RELEASE / "libnin.so"
    stripped = vg_dir / "libnin.so"
    objcopy = shutil.which("objcopy")
    if objcopy and (not stripped.exists() or stripped.stat().st_mtime < lib.stat().st_mtime):
        subprocess.run([objcopy, "--strip-debug", str(lib), str(stripped)], check=True)
    if stripped.exists():
        for other in RELEASE.glob("libnin.so.*"):          # the soname nin_bench asks for
            alias = vg_dir / other.name
            if not alias.is_symlink():
                alias.unlink(missing_ok=True)
                alias.symlink_to(stripped.name)
        env["LD_LIBRARY_PATH"] = str(vg_dir) + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    return valgrind, env


def valgrind_cli() -> Path | None:
    """nin-infer without debug sections (valgrind cannot read the Swift DWARF), or None."""
    cli = RELEASE / "nin-infer"
    stripped = BENCH_BUILD / "valgrind" / "nin-infer"
    objcopy = shutil.which("objcopy")
    if not objcopy or not cli.exists():
        return None
    if not stripped.exists() or stripped.stat().st_mtime < cli.stat().st_mtime:
        stripped.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([objcopy, "--strip-debug", str(cli), str(stripped)], check=True)
    return stripped


def callgrind_instructions(exe: Path, model: Path, isa: str | None = None) -> dict | None:
    """Instructions of one nin_run_prepared_u8 (batch 1, 1 thread) under callgrind, with the
    kernel family NIN_ISA=`isa` (None: the library's choice, under valgrind's CPUID)."""
    valgrind, env = valgrind_env(isa)
    if not valgrind:
        log("  valgrind not found (apt-get install valgrind): instruction count skipped")
        return None
    vg_dir = BENCH_BUILD / "valgrind"
    totals = {}
    for runs in (1, 2):
        outfile = vg_dir / f"callgrind.{model.stem}.{isa or 'auto'}.{runs}.out"
        cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={outfile}",
               "--toggle-collect=nin_run_prepared_u8", str(exe), str(model), str(runs), "1", "1"]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            log(f"  callgrind failed ({r.returncode}): {r.stderr[-400:]}")
            return None
        total = callgrind_total(outfile)
        if total is None:
            log("  callgrind output has no totals line")
            return None
        totals[runs] = total
    ir = totals[2] - totals[1]
    if ir <= 0:
        log(f"  callgrind: runs=2 ({totals[2]}) not above runs=1 ({totals[1]})")
        return None
    return {"instructions": ir, "family": isa, "totals": {str(k): v for k, v in totals.items()},
            "method": "nin_bench runs=2 minus runs=1, --toggle-collect=nin_run_prepared_u8, "
                      "batch 1, 1 thread, under valgrind's CPUID (no AVX-512, AVX-VNNI or AMX)"
                      + (f", NIN_ISA={isa}" if isa else "")}


def callgrind_total(outfile: Path) -> int | None:
    """The event total of a callgrind output file (its "totals:" or "summary:" line)."""
    text = outfile.read_text(errors="replace")
    m = re.search(r"^totals:\s+(\d+)", text, re.M) or re.search(r"^summary:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def valgrind_families(model: Path, image: Path, names: list[str], cpu: dict) -> tuple[list[str], dict]:
    """The families of `names` that run under valgrind's virtual CPU (it hides AVX-512,
    AVX-VNNI and AMX), each checked with `nin-infer --profile 1` under `valgrind --tool=none`;
    ([families], {skipped family: reason})."""
    valgrind, env = valgrind_env()
    cli = valgrind_cli()
    if not valgrind or cli is None:
        return [], {n: "valgrind or objcopy not found" for n in names}
    runnable, skipped = [], {}
    for name in names:
        env["NIN_ISA"] = name
        r = subprocess.run([valgrind, "--tool=none", "-q", str(cli), "--profile", "1", "--model",
                            str(model), str(image)], capture_output=True, text=True, env=env)
        ran, _ = parse_profile(r.stdout)
        if r.returncode != 0:
            skipped[name] = f"nin-infer under valgrind exited with {r.returncode}"
        elif ran != name:
            skipped[name] = skip_reason(name, ran, None, where="valgrind's virtual CPU")
        else:
            runnable.append(name)
    return runnable, skipped


def build_callgrind_region() -> Path | None:
    """Compile bench/callgrind_region.c into a shared library (needs valgrind/callgrind.h,
    which the valgrind package installs), or None when it cannot be built."""
    src = ROOT / "bench" / "callgrind_region.c"
    lib = BENCH_BUILD / "libcallgrind_region.so"
    if lib.exists() and lib.stat().st_mtime >= src.stat().st_mtime:
        return lib
    BENCH_BUILD.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O1", "-shared", "-fPIC", str(src), "-o", str(lib)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        log(f"  (bench/callgrind_region.c not built: {r.stderr.strip()[-200:]}; whole-process "
            "counts instead)")
        return None
    return lib


# Runs ONNX Runtime's int8 session like nin_bench runs nin: 1 intra-op thread, sequential,
# all graph optimizations, one warm-up run, then RUNS runs on a fixed input (nin_bench's byte
# pattern / 255).  With a callgrind_region library, only the RUNS runs are instrumented.
ORT_CALLGRIND_SCRIPT = '''\
import ctypes, sys
import numpy as np
import onnxruntime as ort
path, runs, region = sys.argv[1], int(sys.argv[2]), sys.argv[4]
shape = tuple(int(v) for v in sys.argv[3].split("x"))
so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
so.log_severity_level = 3
sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
i = np.arange(int(np.prod(shape)), dtype=np.uint64)
x = ((((i * 2654435761) & 0xFFFFFFFF) >> 24).astype(np.float32) / 255).reshape(shape)
feed = {"input": np.ascontiguousarray(x, dtype=np.float32)}
sess.run(["logits"], feed)
def body():
    for _ in range(runs):
        sess.run(["logits"], feed)
if region:
    callback = ctypes.CFUNCTYPE(None)(body)
    ctypes.CDLL(region).callgrind_region(callback)
else:
    body()
'''


def ort_callgrind_instructions(int8_path: Path, shape_chw, runs: tuple[int, int] = (1, 6)) -> dict | None:
    """Instructions of one ONNX Runtime int8 inference (batch 1, 1 intra-op thread) under
    callgrind: the session run runs[0] and runs[1] times in two processes, and the difference
    divided by runs[1] - runs[0].  With bench/callgrind_region.c built, only the runs are
    instrumented (--instr-atstart=no: Python's start-up runs fast and uncounted); else the whole
    process is counted and the difference still cancels start-up, imports and session set-up.
    Under valgrind's CPUID ONNX Runtime runs its AVX2 kernels, as nin does."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        log("  valgrind not found (apt-get install valgrind): ORT instruction count skipped")
        return None
    import onnxruntime
    vg_dir = BENCH_BUILD / "valgrind"
    vg_dir.mkdir(parents=True, exist_ok=True)
    script = vg_dir / "ort_callgrind.py"
    script.write_text(ORT_CALLGRIND_SCRIPT)
    region = build_callgrind_region()
    env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1")
    python = os.path.realpath(sys.executable)            # not a launcher script: valgrind
    shape = "x".join(str(int(v)) for v in (1,) + tuple(shape_chw))  # must see python itself
    t0 = time.perf_counter()
    totals = {}
    for n in runs:
        outfile = vg_dir / f"callgrind.ort.{int8_path.parent.name}.{n}.out"
        cmd = ([valgrind, "--tool=callgrind", f"--callgrind-out-file={outfile}"]
               + (["--instr-atstart=no"] if region else [])
               + [python, str(script), str(int8_path), str(n), shape, str(region or "")])
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            log(f"  callgrind of ONNX Runtime failed ({r.returncode}): {r.stderr[-400:]}")
            return None
        totals[n] = callgrind_total(outfile)
        if not totals[n]:
            log("  callgrind of ONNX Runtime counted nothing")
            return None
    lo, hi = runs
    ir = (totals[hi] - totals[lo]) // (hi - lo)
    if ir <= 0:
        log(f"  callgrind of ONNX Runtime: {hi} runs ({totals[hi]}) not above {lo} ({totals[lo]})")
        return None
    return {"instructions": ir, "onnxruntime": onnxruntime.__version__,
            "totals": {str(k): v for k, v in totals.items()},
            "seconds": time.perf_counter() - t0,
            "method": f"python + onnxruntime int8 QDQ session (1 intra-op thread, sequential), "
                      f"runs {hi} minus runs {lo}, divided by {hi - lo}; "
                      + ("only the runs instrumented (bench/callgrind_region.c)" if region
                         else "whole process counted")
                      + "; under valgrind's CPUID (AVX2 kernels)"}


# --------------------------------------------------------------------------------------------
# OpenVINO (optional: pip install openvino) on the same QDQ int8 model
# --------------------------------------------------------------------------------------------

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


def agreement_figures(l_fp: np.ndarray, l_q: np.ndarray, l_nin: np.ndarray, labels: np.ndarray,
                      l_ov: np.ndarray | None = None) -> dict:
    """Top-1 agreement of each int8 engine with fp32, accuracies and logit RMSE / fp32 std
    (OpenVINO's too when its logits `l_ov` are given)."""
    ref_top = top1(l_fp)
    engines = {"nin_int8": l_nin, "ort_int8": l_q}
    if l_ov is not None:
        engines["openvino_int8"] = l_ov
    spread = np.std(l_fp) or 1.0
    res = {"images": int(l_fp.shape[0]),
           "nin_int8_vs_ort_int8": float((top1(l_nin) == top1(l_q)).mean()),
           "disagreements": {}, "accuracy": {"fp32": float((ref_top == labels).mean())},
           "logit_rmse_rel": {}}
    for key, logits in engines.items():
        res[f"{key}_vs_fp32"] = float((top1(logits) == ref_top).mean())
        res["disagreements"][key] = int((top1(logits) != ref_top).sum())
        res["accuracy"][key] = float((top1(logits) == labels).mean())
        res["logit_rmse_rel"][key] = float(np.sqrt(((logits - l_fp) ** 2).mean()) / spread)
    return res


def agreement_line(a: dict) -> str:
    keys = [k for k in ("nin_int8", "ort_int8", "openvino_int8") if f"{k}_vs_fp32" in a]
    agree = ", ".join(f"{ENGINE_NAMES[k]} {a[k + '_vs_fp32']:.2%} ({a['disagreements'][k]} differ)"
                      for k in keys)
    acc = ", ".join(f"{ENGINE_NAMES[k]} {a['accuracy'][k]:.2%}" for k in keys)
    rmse = ", ".join(f"{ENGINE_NAMES[k]} {a['logit_rmse_rel'][k]:.4f}" for k in keys)
    return (f"top-1 agreement with fp32 ({a['images']} test images): {agree}; accuracy fp32 "
            f"{a['accuracy']['fp32']:.2%}, {acc}; logit RMSE/std {rmse}")


def top1(logits: np.ndarray) -> np.ndarray:
    return np.argmax(logits, axis=1)


def model_header(path: Path) -> tuple[F.Model, tuple, Path, dict]:
    """(model, input shape, work folder for its peers, the result dict's first fields)."""
    model = F.read(path)
    shape = tuple(int(v) for v in model.input_shape)
    work = BENCH_BUILD / "peers" / re.sub(r"[^A-Za-z0-9_.-]+", "_", str(path.with_suffix("")))
    work.mkdir(parents=True, exist_ok=True)
    res = {"path": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
           "input_shape": list(shape), "classes": len(model.labels),
           "macs_per_image": conv_macs(model), "metadata": dict(model.metadata)}
    log(f"\n== {res['path']}  input {shape}  {res['macs_per_image'] / 1e6:.1f} M MACs/image")
    return model, shape, work, res


def build_peers(model: F.Model, shape, work: Path, data: dict) -> tuple[Path, Path]:
    """The fp32 ONNX graph of `model`'s weights and its ORT int8 QDQ quantization: their paths."""
    import onnx
    t0 = time.perf_counter()
    fp32_path, int8_path = work / "fp32.onnx", work / "int8_qdq.onnx"
    onnx.save(build_onnx(model), str(fp32_path))
    _, calib = prepared(data["calib"], shape)
    quantize_onnx(fp32_path, int8_path, calib)
    log(f"  ONNX fp32 + ORT int8 (QDQ, per-channel, U8/S8, MinMax on {calib.shape[0]} train "
        f"images) built in {time.perf_counter() - t0:.1f} s")
    return fp32_path, int8_path


def instruction_counts(res: dict, path: Path, exe: Path, int8_path: Path, data: dict) -> None:
    """Fills res["callgrind"] (nin's AVX2 count, the figure to track), "callgrind_families"
    (every family valgrind's CPU runs), "callgrind_ort_int8" and "callgrind_ratio", and logs them."""
    t0 = time.perf_counter()
    slow = {f["family"]: f["profile_ms"] for f in res.get("kernel_families", {}).get("available", [])
            if (f["profile_ms"] or 0) > SLOW_FAMILY_MS}
    skipped = {name: f"{ms:.0f} ms per image natively: too slow under callgrind"
               for name, ms in slow.items()}
    names = [n for n in kernel_family_names() if n not in slow]
    runnable, more = valgrind_families(path, data["image"], names, data["cpu"])
    skipped.update(more)
    counts = {}
    for name in runnable:
        cg = callgrind_instructions(exe, path, name)
        if cg:
            cg["per_mac"] = cg["instructions"] / max(1, res["macs_per_image"])
            counts[name] = cg
    res["callgrind_families"] = counts
    res["callgrind_skipped"] = skipped
    res["callgrind"] = counts.get("avx2") or next(iter(counts.values()), None)
    log(f"  [nin under callgrind: {time.perf_counter() - t0:.0f} s]")
    t0 = time.perf_counter()
    ort_cg = ort_callgrind_instructions(int8_path, res["input_shape"])
    if ort_cg:
        ort_cg["per_mac"] = ort_cg["instructions"] / max(1, res["macs_per_image"])
        log(f"  [ONNX Runtime under callgrind: {time.perf_counter() - t0:.0f} s]")
    res["callgrind_ort_int8"] = ort_cg
    if res["callgrind"] and ort_cg:
        res["callgrind_ratio"] = res["callgrind"]["instructions"] / ort_cg["instructions"]
    for line in callgrind_lines(res):
        log("  " + line)


# Issue 10's goal for nin's AVX2 path: at most this many times ONNX Runtime int8's instructions.
CALLGRIND_GOAL = 0.75


def callgrind_lines(res: dict) -> list[str]:
    counts = res.get("callgrind_families") or {}
    ort_cg = res.get("callgrind_ort_int8")
    if not counts and not ort_cg:
        return []
    lines = ["instructions per inference under callgrind (batch 1, 1 thread; valgrind's CPU has "
             "AVX2, no AVX-512, AVX-VNNI or AMX):"]
    for name, cg in counts.items():
        lines.append(f"  {'nin int8 [' + name + ']':<26} {cg['instructions']:>14,}  "
                     f"{cg['per_mac']:.4f} per MAC")
    if ort_cg:
        lines.append(f"  {'ORT int8 ' + ort_cg['onnxruntime']:<26} {ort_cg['instructions']:>14,}  "
                     f"{ort_cg['per_mac']:.4f} per MAC")
    if res.get("callgrind_ratio") is not None:
        name = res["callgrind"].get("family") or "auto"
        lines.append(f"  nin [{name}] / ORT int8 = {res['callgrind_ratio']:.3f}x (issue 10's goal: "
                     f"at most {CALLGRIND_GOAL}x)   <- the noise-free figure to track")
    if res.get("callgrind_skipped"):
        lines.append("  not counted: " + "; ".join(f"{k} ({v})"
                                                   for k, v in res["callgrind_skipped"].items()))
    return lines


def bench_model(path: Path, args, nin: Nin, exe: Path, data: dict) -> dict:
    import onnxruntime  # noqa: F401  (fail early with a clear ImportError)

    model, shape, work, res = model_header(path)

    # 1. peers -----------------------------------------------------------------------------
    fp32_path, int8_path = build_peers(model, shape, work, data)
    sess_fp32 = ort_session(fp32_path, 2)
    sess_int8 = ort_session(int8_path, 2)
    ov = None if args.no_openvino else openvino_module()
    if ov is None and not args.no_openvino:
        log("  openvino not importable (pip install openvino): its rows are skipped")

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

    # nin's kernel families on this machine ---------------------------------------------------
    fams = probe_families(RELEASE / "nin-infer", path, data["image"], data["cpu"])
    res["kernel_families"] = fams
    log("  " + families_line(fams))

    # 3. agreement: on the first 1,000 test images (the figure the issue asks for) and, when
    # more are given (default: all 10,000), on all of them, where one image is 0.01% -------------
    t0 = time.perf_counter()
    l_fp = ort_logits_u8(sess_fp32, test_u8)
    l_q = ort_logits_u8(sess_int8, test_u8)
    l_nin = nin.logits(path, test_u8)
    l_ov = None
    if ov is not None:
        compiled = ov_compile(ov, int8_path, 2)
        res["openvino_precision"] = ov_precision(compiled)
        log(f"  OpenVINO {ov.__version__.split('-')[0]}: int8 QDQ model compiled for CPU; its precision for "
            f"the non-quantized parts: {res['openvino_precision']}")
        l_ov = ov_logits_u8(compiled, test_u8)
        del compiled
    first = min(1000, test_u8.shape[0])
    res["agreement"] = agreement_figures(l_fp[:first], l_q[:first], l_nin[:first], labels[:first],
                                         None if l_ov is None else l_ov[:first])
    log(f"  {agreement_line(res['agreement'])}")
    if test_u8.shape[0] > first:
        res["agreement_all"] = agreement_figures(l_fp, l_q, l_nin, labels, l_ov)
        log(f"  {agreement_line(res['agreement_all'])}")
    log(f"  [agreement: {time.perf_counter() - t0:.0f} s]")
    del sess_fp32, sess_int8

    # 2. latency -----------------------------------------------------------------------------
    res["latency"] = latency_rows(args, path, exe, fams, fp32_path, int8_path, ov, torch_mod,
                                  test_f32)
    if ov is not None and args.openvino_profile:
        res["openvino_profile"] = ov_profile(ov, int8_path, test_f32, 1, max(20, args.runs))
        res["nin_profile"] = nin_profile(path, data["image"], 1, max(20, args.runs))
        for line in ov_profile_lines(res["openvino_profile"]) + layer_profile.side_by_side_lines(
                res["nin_profile"], res["openvino_profile"]["nodes"]):
            log("  " + line)

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
        instruction_counts(res, path, exe, int8_path, data)
    return res


def latency_rows(args, path: Path, exe: Path, fams: dict, fp32_path: Path, int8_path: Path, ov,
                 torch_mod, test_f32: np.ndarray) -> list[dict]:
    """Medians of every engine in each of CONFIGS, the engines interleaved in ROUNDS rounds.
    nin runs its default family in every configuration and each other family this machine has
    at batch 1 (a family slower than SLOW_FAMILY_MS: one warm-up and one timed run per round)."""
    lat = []
    per_round = -(-args.runs // ROUNDS)  # at least args.runs runs per engine in all
    auto = fams["auto"]
    auto_label = f"nin int8 [{auto}]" if auto else "nin int8"
    for batch, threads in CONFIGS:
        row = {"batch": batch, "threads": threads}
        x = np.ascontiguousarray(np.resize(test_f32, (batch,) + test_f32.shape[1:]))
        # key -> (label, function: runs wanted this round -> milliseconds of the runs done)
        timers = {"nin_int8": (auto_label,
                               lambda n: nin_bench(exe, path, n, threads, batch))}
        if batch == 1:
            for fam in fams["available"]:
                name = fam["family"]
                if name == auto:
                    continue
                if (fam["profile_ms"] or 0) > SLOW_FAMILY_MS:
                    fn = (lambda n, name=name: nin_bench(exe, path, 1, threads, batch, name, 1))
                else:
                    fn = (lambda n, name=name: nin_bench(exe, path, n, threads, batch, name))
                timers[f"nin_int8_{name}"] = (f"nin int8 [{name}]", fn)
        feed = {"input": x}
        timers["ort_int8"] = (ENGINE_NAMES["ort_int8"],
                              lambda n, s=ort_session(int8_path, threads):
                              time_calls(lambda: s.run(["logits"], feed), n))
        if ov is not None:
            ov_run = ov_timer(ov_compile(ov, int8_path, threads, batch=batch), x)
            timers["openvino_int8"] = (ENGINE_NAMES["openvino_int8"], lambda n: time_calls(ov_run, n))
        timers["ort_fp32"] = (ENGINE_NAMES["ort_fp32"],
                              lambda n, s=ort_session(fp32_path, threads):
                              time_calls(lambda: s.run(["logits"], feed), n))
        if torch_mod is not None:
            import torch
            torch.set_num_threads(threads)
            xt = torch.from_numpy(x)

            def run_torch(n):
                with torch.inference_mode():
                    return time_calls(lambda: torch_mod(xt), n)
            timers["torch_fp32"] = (ENGINE_NAMES["torch_fp32"], run_torch)
        samples = {key: [] for key in timers}
        for _ in range(ROUNDS):
            for key, (_, fn) in timers.items():
                samples[key] += fn(per_round)
                time.sleep(PAUSE_S)
        del timers                                  # the sessions and compiled models
        for key, times in samples.items():
            row[key] = summary(times)
            row[key]["images_per_s"] = batch * 1e3 / row[key]["median_ms"]
            row[key]["label"] = (f"nin int8 [{key[len('nin_int8_'):]}]" if key.startswith("nin_int8_")
                                 else auto_label if key == "nin_int8" else ENGINE_NAMES[key])
        for key in samples:
            for peer in ("ort_int8", "openvino_int8"):
                if peer in row and key != peer:
                    row[key][f"vs_{peer}"] = row[key]["median_ms"] / row[peer]["median_ms"]
        lat.append(row)
        log("  " + _latency_line(row))
    return lat


def callgrind_model(path: Path, exe: Path, data: dict) -> dict:
    """--callgrind-only: the instruction counts of one model (nin's families and ORT int8)."""
    model, shape, work, res = model_header(path)
    _, int8_path = build_peers(model, shape, work, data)
    res["kernel_families"] = probe_families(RELEASE / "nin-infer", path, data["image"], data["cpu"])
    instruction_counts(res, path, exe, int8_path, data)
    return res


ENGINES = ["nin_int8", "ort_int8", "openvino_int8", "ort_fp32", "torch_fp32"]
ENGINE_NAMES = {"nin_int8": "nin int8", "ort_int8": "ORT int8", "openvino_int8": "OpenVINO int8",
                "ort_fp32": "ORT fp32", "torch_fp32": "PyTorch fp32"}


def _mib(kib) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _latency_line(row: dict) -> str:
    parts = [f"b{row['batch']} t{row['threads']}:"]
    for key, r in row.items():
        if isinstance(r, dict):
            parts.append(f"{r.get('label', ENGINE_NAMES.get(key, key))} {r['median_ms']:.3f} ms")
    return "  ".join(parts)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def print_table(results: dict) -> str:
    machine = results["machine"]
    lines = [f"machine: {machine['cpu']}, {machine['cpus']} CPUs; "
             f"{cpu_flags_line(machine['cpu_features'])}"]
    for res in results["models"].values():
        lines.append("")
        lines.append(f"{res['path']}  ({res['input_shape'][0]}x{res['input_shape'][1]}x"
                     f"{res['input_shape'][2]}, {res['macs_per_image'] / 1e6:.1f} M MACs/image)")
        if res.get("kernel_families"):
            lines.append(families_line(res["kernel_families"]))
        rows = res.get("latency") or []
        with_ov = any("openvino_int8" in row for row in rows)
        head = (f"{'batch':>5} {'thr':>3} | {'engine':<22} {'median ms':>10} {'best ms':>9} "
                f"{'img/s':>9} | {'/ORT int8':>9}" + (f" {'/OpenVINO':>9}" if with_ov else ""))
        if rows:
            lines.append(head)
            lines.append("-" * len(head))
        for row in rows:
            for key, r in row.items():
                if not isinstance(r, dict):
                    continue
                ratios = [f"{r['vs_ort_int8']:.2f}x" if "vs_ort_int8" in r else ""]
                if with_ov:
                    ratios.append(f"{r['vs_openvino_int8']:.2f}x" if "vs_openvino_int8" in r else "")
                lines.append(f"{row['batch']:>5} {row['threads']:>3} | "
                             f"{r.get('label', ENGINE_NAMES.get(key, key)):<22} "
                             f"{r['median_ms']:>10.3f} {r['best_ms']:>9.3f} "
                             f"{r['images_per_s']:>9.1f} | " + " ".join(f"{t:>9}" for t in ratios))
        if res.get("agreement"):
            lines.append(agreement_line(res["agreement"]))
        if res.get("agreement_all"):
            lines.append(agreement_line(res["agreement_all"]))
        if res.get("openvino_precision"):
            lines.append(f"OpenVINO's precision for the non-quantized parts: "
                         f"{res['openvino_precision']} (its default on this CPU)")
        if res.get("cold_start"):
            cs = res["cold_start"]
            lines.append(f"cold start nin-infer: {cs['median_ms']:.1f} ms median, peak RSS "
                         f"{_mib(cs['peak_rss_kib'])}")
        if res.get("cold_start_ort_int8_python"):
            cs = res["cold_start_ort_int8_python"]
            lines.append(f"cold start python+ORT int8: {cs['median_ms']:.1f} ms median, peak RSS "
                         f"{_mib(cs['peak_rss_kib'])}")
        lines += callgrind_lines(res)
        if res.get("openvino_profile"):
            lines += ov_profile_lines(res["openvino_profile"])
            lines += layer_profile.side_by_side_lines(res["nin_profile"], res["openvino_profile"]["nodes"])
    lines.append("")
    if any(res.get("latency") for res in results["models"].values()):
        with_ov = any("openvino_int8" in row for res in results["models"].values()
                      for row in res.get("latency") or [])
        lines.append(f"/ORT int8{', /OpenVINO' if with_ov else ''} = this row's median / that "
                     "engine's median in the same configuration (< 1: faster than it; at batch "
                     "16 the inverse of the throughput ratio).")
        if results.get("runs_note"):
            lines.append(results["runs_note"])
    load = machine["loadavg_before"]
    if any(res.get("latency") for res in results["models"].values()):
        lines.append(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
                     f"on {machine['cpus']} CPUs (timings are only as quiet as the machine)")
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
    colors = {"nin_int8": "#d62728", "ort_int8": "#1f77b4", "openvino_int8": "#2ca02c",
              "ort_fp32": "#7fb3e0", "torch_fp32": "#ff7f0e"}
    for ax, res in zip(axes[0], models):
        rows = res["latency"]
        keys = [k for k in ENGINES if all(k in r for r in rows)]
        width = 0.8 / len(keys)
        for j, key in enumerate(keys):
            xs = [i + j * width for i in range(len(rows))]
            ys = [r[key]["median_ms"] / r["batch"] for r in rows]
            ax.bar(xs, ys, width, label=rows[0][key].get("label", ENGINE_NAMES[key]),
                   color=colors[key])
        ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(rows))])
        ax.set_xticklabels([f"batch {r['batch']}\n{r['threads']} thr" for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel("median ms per image, log scale (lower is better)")
        ax.set_title(f"{res['path']} {res['input_shape']}", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("nin vs ONNX Runtime / OpenVINO / PyTorch, same weights (loadavg "
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
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu_features": cpu_features()}


def versions() -> dict:
    v = {"numpy": np.__version__}
    for mod in ("onnx", "onnxruntime", "openvino", "torch", "matplotlib"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (not installed, or an install that does not import)
            v[mod] = None
    valgrind = shutil.which("valgrind")
    v["valgrind"] = (subprocess.run([valgrind, "--version"], capture_output=True, text=True)
                     .stdout.strip() if valgrind else None)
    return v


QUICK_RUNS = 20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="--quick: --runs 20, --agree-images 1000, --no-cold (a few minutes on 2 cores). "
               "--callgrind-only: only the instruction counts (default model: the classic one), "
               "written to OUT/callgrind.json.")
    ap.add_argument("--models", nargs="+", type=Path, help="the .nin models to compare")
    ap.add_argument("--runs", type=int, default=None,
                    help="timed runs per measurement (default 50, the figure this benchmark "
                         f"promises; {QUICK_RUNS} with --quick)")
    ap.add_argument("--agree-images", type=int, default=None,
                    help="Fashion-MNIST test images for the agreement: figures for the first "
                         "1000 and, if more, for all (default 10000; 1000 with --quick)")
    ap.add_argument("--calib-images", type=int, default=100,
                    help="Fashion-MNIST training images for ORT calibration (default 100)")
    ap.add_argument("--cold-runs", type=int, default=20, help="fresh processes for cold start")
    ap.add_argument("--image", type=Path,
                    help="PNG for the cold start and the kernel-family probes (default: an example)")
    ap.add_argument("--quick", action="store_true",
                    help=f"fewer runs ({QUICK_RUNS}), agreement on 1000 images, no cold start")
    ap.add_argument("--callgrind-only", action="store_true",
                    help="only the instruction counts under callgrind: nin per family valgrind "
                         "runs (AVX2, ...) and ONNX Runtime int8, with the ratio")
    ap.add_argument("--peers-only", action="store_true",
                    help="only build the peers' ONNX models (fp32 and ORT int8 QDQ) under "
                         ".build/bench/peers/ and print their paths (make bench-kit)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    ap.add_argument("--no-openvino", action="store_true", help="skip OpenVINO even if importable")
    ap.add_argument("--openvino-profile", action="store_true",
                    help="also OpenVINO's per-layer profile (PERF_COUNT, batch 1, 1 thread)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measurement")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (bench/out)")
    args = ap.parse_args(argv)
    if args.runs is None:
        args.runs = QUICK_RUNS if args.quick else 50
    if args.agree_images is None:
        args.agree_images = 1000 if args.quick else 10000
    if args.quick:
        args.no_cold = True
    if args.runs < 1 or args.agree_images < 1 or args.calib_images < 1 or args.cold_runs < 1:
        ap.error("--runs, --agree-images, --calib-images and --cold-runs must be at least 1")
    if args.callgrind_only and args.no_callgrind:
        ap.error("--callgrind-only and --no-callgrind contradict each other")
    runs_note = None
    if args.runs < 50 and not args.callgrind_only:
        runs_note = (f"note: {args.runs} runs per measurement (--runs{' via --quick' if args.quick else ''}), "
                     "below the 50 this benchmark promises")
        log(runs_note)

    lib = RELEASE / "libnin.so"
    for need in (lib, RELEASE / "nin-infer"):
        if not need.exists():
            log(f"{need} is missing: run `make lib cli` first")
            return 1
    t_start = time.perf_counter()
    results = {"machine": machine_info(), "versions": versions(), "models": {},
               "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                           if k != "models"}}
    if runs_note:
        results["runs_note"] = runs_note
    nin = Nin(lib)
    results["versions"]["nin"] = nin.version
    exe = build_nin_bench()
    if args.models:
        models = [p.resolve() for p in args.models]
    else:
        models = [p.resolve() for p in default_models()]
        if args.callgrind_only or args.peers_only:
            models = models[-1:]                        # the classic model
    train_x, _ = FM.load_split("train")
    rng = np.random.default_rng(0)
    calib_idx = rng.choice(train_x.shape[0], size=args.calib_images, replace=False)
    data = {"calib": train_x[np.sort(calib_idx)], "cpu": results["machine"]["cpu_features"],
            "image": (args.image or default_image()).resolve()}
    del train_x
    v = results["versions"]
    log(f"machine: {results['machine']['cpu']}, {results['machine']['cpus']} CPUs, load "
        f"{results['machine']['loadavg_before']}; nin {nin.version}, onnxruntime "
        f"{v['onnxruntime']}, openvino {v['openvino']}, torch {v['torch']}")
    log(cpu_flags_line(data["cpu"]))

    if args.peers_only:
        for path in models:
            model, shape, work, _ = model_header(path)
            for built in build_peers(model, shape, work, data):
                print(built)
        return 0
    if args.callgrind_only:
        for path in models:
            res = callgrind_model(path, exe, data)
            results["models"][res["path"]] = res
        results["seconds"] = time.perf_counter() - t_start
        table = print_table(results)
        results["table"] = table
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "callgrind.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        log(f"\nwrote {args.out / 'callgrind.json'}")
        log(f"total {results['seconds']:.0f} s")
        return 0

    test_x, test_y = FM.load_split("test")
    data.update({"test_images": test_x[:args.agree_images], "test_labels": test_y[:args.agree_images]})
    results["cold_start_image"] = str(data["image"])
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
