"""Instructions of one inference under valgrind's callgrind, the noise-free figures to track:
nin per kernel family valgrind's virtual CPU runs (nin_bench, collection toggled on
nin_run_prepared_u8) and ONNX Runtime int8 (bench/callgrind_region.c), their ratio and its
lines in the report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nin_tools.bench.common import BENCH_BUILD, RELEASE, ROOT, log
from nin_tools.bench.families import (SLOW_FAMILY_MS, isa_env, kernel_family_names, parse_profile,
                                      skip_reason)


def valgrind_env(isa: str | None = None) -> tuple[str | None, dict]:
    """(valgrind's path or None, the environment to run nin under it with NIN_ISA=`isa`).

    valgrind 3.19 gives up on the Swift toolchain's DWARF in libnin.so ("Possibly corrupted
    debuginfo file"), so nin_bench loads a copy without debug sections (same code, same
    symbols), under every name the release folder gives the library (libnin.so and its soname
    libnin.so.0), through LD_LIBRARY_PATH, which overrides nin_bench's RUNPATH."""
    valgrind = shutil.which("valgrind")
    env = isa_env(isa)
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
