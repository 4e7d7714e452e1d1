#!/usr/bin/env python3
"""tools/arm64/bench.py [--cpu CPU]... [ARM64] [MODEL]: nin's arm64 kernel families against ONNX
Runtime's arm64 CPU provider, in instructions per inference counted under qemu-aarch64 (user
mode), one emulated CPU of each arm64 class; `make bench-arm64` runs it (after `make arm64 lib
cli`). ARM64 is the arm64 build (default .build-arm64/release), MODEL the .nin model (default the
classic one); `--cpu` counts only under the CPU models it names (cortex-a53, neoverse-n1, max:
a shorter run while working on one family).

- nin: bench/nin_bench.c cross-compiled with aarch64-linux-gnu-gcc against ARM64's libnin.so,
  batch 1, one thread, NIN_ISA naming each family the CPU runs (the reference kernels, generic,
  once: they are the yardstick, not a contender);
- ONNX Runtime: bench/ort_bench.c, cross-compiled the same way against libonnxruntime.so from
  ONNX Runtime's aarch64 manylinux wheel on PyPI (the version of the host's onnxruntime, which
  quantizes the model; downloaded once into .build-arm64/ort/ by pip download), on `make bench`'s
  QDQ model of the same weights (tools/bench.py --peers-only builds it if missing: needs onnx,
  onnxruntime and Fashion-MNIST); one intra-op thread, one inter-op, sequential. Its MLAS picks
  its kernels from HWCAP as on hardware: SDOT/UDOT where the CPU has asimddp, SMMLA/UMMLA with
  i8mm. Its logits are checked against the host's onnxruntime on the same input.
Both drivers run one warm-up inference, then RUNS (2) between two calls of bench_mark(); the
qemu plugin tools/qemu/insn_count.c (built with the host's cc) prints the running count at each,
so loading, packing and the warm-up are not counted; the figure is the difference / RUNS. The
drivers are linked without PIE, so bench_mark's address is the one nm prints.

An instruction count is not a time: the emulated CPUs have no timing model (qemu's TCG translates
each instruction; a SDOT counts as one instruction, as an ADD does). Timing needs arm64 hardware
(a Raspberry Pi 5, a Graviton or Ampere instance): run nin_bench and ort_bench there (the same
drivers, built natively), as tools/nin_tools/bench does on x86-64."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CROSS_LIB = Path("/usr/aarch64-linux-gnu/lib")  # the guest's loader, glibc and libstdc++ (Debian's *-arm64-cross)
RUNS = 2
# qemu CPU model: (its class, the family nin picks there, the goal: nin at most this times ORT).
CPUS = {"cortex-a53": ("ARMv8.0", "neon", 0.9),
        "neoverse-n1": ("ARMv8.2 + dot product", "neondot", 0.75),
        "max": ("+ i8mm", "i8mm", 0.6)}
# What Linux on each CPU shows in /proc/cpuinfo: qemu's MIDR_EL1 for the model (implementer,
# variant, part, revision) and the HWCAP names it sets.
BASE_FEATURES = "fp asimd evtstrm aes pmull sha1 sha2 crc32"
CPUINFO = {
    "cortex-a53": (0x41, 0x0, 0xd03, 4, BASE_FEATURES + " cpuid"),
    "neoverse-n1": (0x41, 0x4, 0xd0c, 1, BASE_FEATURES + " atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs"),
    "max": (0x00, 0x0, 0x051, 0, BASE_FEATURES + " atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3"
            " sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 sveaes svepmull"
            " svebitperm svesha3 svesm4 flagm2 frint svei8mm svebf16 i8mm bf16 dgh rng bti"),
}


def fail(message: str) -> None:
    sys.exit(f"bench-arm64: {message}")


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def mark_address(exe: Path) -> int:
    """bench_mark's address in the non-PIE executable `exe`."""
    for line in run(["aarch64-linux-gnu-nm", str(exe)], check=True).stdout.splitlines():
        words = line.split()
        if len(words) == 3 and words[2] == "bench_mark":
            return int(words[0], 16)
    fail(f"{exe} has no bench_mark symbol")
    return 0


def guest_root(work: Path, cpu: str) -> Path:
    """The folder qemu-aarch64 -L looks in first for each file the guest opens (qemu falls back to
    the host's own path where the folder lacks it): a consistent glibc, and the CPU's /proc and /sys.
    - lib/: the cross glibc's loader, and lib/aarch64-linux-gnu/ (the loader's first default
      folder) the cross glibc and libstdc++; etc/ld.so.cache empty, so the host's cache (which
      names Debian's multiarch arm64 glibc, another build than the loader's) is not read;
    - proc/cpuinfo and sys/devices/system/cpu/: one CPU of the model, as Linux on it would show
      (qemu-user 7.2 passes the host's x86-64 /proc/cpuinfo through, on which the cpuinfo library
      in ONNX Runtime crashes). Kernels are chosen from HWCAP, which qemu sets for the model."""
    root = work / f"root-{cpu}"
    (root / "lib").mkdir(parents=True, exist_ok=True)
    for link, target in (("lib/ld-linux-aarch64.so.1", CROSS_LIB / "ld-linux-aarch64.so.1"),
                         ("lib/aarch64-linux-gnu", CROSS_LIB)):
        if not (root / link).is_symlink():
            (root / link).symlink_to(target)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc" / "ld.so.cache").write_bytes(b"")
    implementer, variant, part, revision, features = CPUINFO[cpu]
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "cpuinfo").write_text(
        f"processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: {features}\nCPU implementer\t: {implementer:#04x}\n"
        f"CPU architecture: 8\nCPU variant\t: {variant:#x}\nCPU part\t: {part:#05x}\nCPU revision\t: {revision}\n\n")
    system = root / "sys" / "devices" / "system" / "cpu"
    system.mkdir(parents=True, exist_ok=True)
    for name in ("possible", "present", "online", "kernel_max"):
        (system / name).write_text("0\n")
    return root


def counted(exe: Path, args: list[str], cpu: str, plugin: Path, env: dict | None = None) -> tuple[int, str]:
    """(instructions per run between the driver's marks, its stdout) of `exe ARGS` under
    qemu-aarch64 -cpu CPU."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "insn.log"
        cmd = ["qemu-aarch64", "-L", str(guest_root(plugin.parent, cpu)), "-cpu", cpu, "-plugin", f"{plugin},mark={mark_address(exe):#x}",
               "-d", "plugin", "-D", str(log), str(exe), *args]
        done = run(cmd, env={**os.environ, **(env or {})}, timeout=1200)
        if done.returncode != 0:
            fail(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
        marks = [int(line.split()[2]) for line in log.read_text().splitlines() if line.startswith("insn mark ")]
    if len(marks) != 2:
        fail(f"{exe.name} under -cpu {cpu}: {len(marks)} marks, want 2")
    return (marks[1] - marks[0]) // RUNS, done.stdout


def families(arm64: Path, cpu: str) -> list[str]:
    """The kernel families nin-infer runs under -cpu CPU, its choice first."""
    out = run(["qemu-aarch64", "-cpu", cpu, str(arm64 / "nin-infer"), "--list-kernels"], check=True).stdout
    rows = [line.split() for line in out.splitlines() if len(line.split()) >= 2 and line.split()[1] == "yes"]
    chosen = [r[0] for r in rows if "(chosen)" in r]
    return chosen + [r[0] for r in rows if "(chosen)" not in r]


def cross_compile(source: str, out: Path, libdir: Path, lib: str) -> Path:
    """bench/SOURCE built for aarch64 Linux (no PIE: a fixed bench_mark), linked against
    LIBDIR/LIB with LIBDIR as its run path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    run(["aarch64-linux-gnu-gcc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-no-pie",
         "-I", str(ROOT / "include"), str(ROOT / "bench" / source), "-o", str(out),
         "-L", str(libdir), f"-l:{lib}", f"-Wl,-rpath,{libdir}"], check=True)
    return out


def ort_library(work: Path) -> tuple[Path | None, str]:
    """(folder of libonnxruntime.so for aarch64, version) from the aarch64 wheel of the host's
    onnxruntime version, downloaded once; (None, why) where that cannot be done."""
    try:
        import onnxruntime
    except ImportError:
        return None, "the host has no onnxruntime (pip install onnxruntime): it quantizes the model"
    version = onnxruntime.__version__.split("+")[0]
    folder = work / f"onnxruntime-{version}"
    lib = folder / f"libonnxruntime.so.{version}"
    if lib.exists():
        return folder, version
    wheels = work / "wheels"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    cmd = [sys.executable, "-m", "pip", "download", "-q", f"onnxruntime=={version}", "--only-binary=:all:",
           "--no-deps", "--python-version", python, "-d", str(wheels)]
    for tag in ("manylinux_2_28_aarch64", "manylinux_2_27_aarch64", "manylinux2014_aarch64"):
        cmd += ["--platform", tag]
    print(f"bench-arm64: downloading onnxruntime {version}'s aarch64 wheel from PyPI", flush=True)
    done = run(cmd)
    found = sorted(wheels.glob(f"onnxruntime-{version}-*aarch64.whl"))
    if done.returncode != 0 or not found:
        return None, f"pip download of onnxruntime {version} for aarch64 failed: {done.stderr.strip()[-300:]}"
    with zipfile.ZipFile(found[-1]) as wheel:
        member = f"onnxruntime/capi/libonnxruntime.so.{version}"
        if member not in wheel.namelist():
            return None, f"{found[-1].name} has no {member}"
        folder.mkdir(parents=True, exist_ok=True)
        partial = lib.with_suffix(".part")
        with wheel.open(member) as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.rename(lib)
    soname = folder / "libonnxruntime.so.1"
    if not soname.is_symlink():
        soname.symlink_to(lib.name)
    return folder, version


def qdq_model(model: Path) -> tuple[Path | None, str]:
    """`make bench`'s QDQ model of MODEL's weights (built by tools/bench.py --peers-only if
    missing), or (None, why)."""
    def found() -> list[Path]:
        return sorted((ROOT / ".build" / "bench" / "peers").glob(f"*{model.stem}/int8_qdq.onnx"),
                      key=lambda p: p.stat().st_mtime)
    if not found():
        print("bench-arm64: building the QDQ model (tools/bench.py --peers-only)", flush=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bindings" / "python"),
                                                                        os.environ.get("PYTHONPATH")]))}
        done = run([sys.executable, str(ROOT / "tools" / "bench.py"), "--peers-only", "--models", str(model)], env=env)
        if done.returncode != 0 or not found():
            return None, f"tools/bench.py --peers-only failed: {(done.stdout + done.stderr).strip()[-400:]}"
    return found()[-1], ""


def host_logits(onnx_model: Path) -> list[float]:
    """The host onnxruntime's logits for ort_bench.c's input (its bytes / 255)."""
    import numpy as np
    import onnxruntime as ort
    session = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
    shape = [1] + [int(d) for d in session.get_inputs()[0].shape[1:]]
    count = int(np.prod(shape))
    pixels = ((np.arange(count, dtype=np.uint64) * 2654435761) % (1 << 32)) >> 24
    x = (pixels.astype(np.float32) / np.float32(255)).reshape(shape)
    return [float(v) for v in session.run(["logits"], {"input": x})[0].ravel()]


def main() -> int:
    args, cpus = sys.argv[1:], []
    while "--cpu" in args:
        at = args.index("--cpu")
        if at + 1 >= len(args) or args[at + 1] not in CPUS:
            fail(f"--cpu takes one of {', '.join(CPUS)}")
        cpus.append(args[at + 1])
        del args[at:at + 2]
    arm64 = Path(args[0]) if len(args) > 0 else ROOT / ".build-arm64" / "release"
    model = (Path(args[1]) if len(args) > 1 else ROOT / "models" / "fashion_classic.nin").resolve()
    for tool in ("qemu-aarch64", "aarch64-linux-gnu-gcc", "cc"):
        if not shutil.which(tool):
            fail(f"{tool} not found (.ci/deps installs qemu-user and gcc-aarch64-linux-gnu)")
    if not (CROSS_LIB / "libstdc++.so.6").exists():
        fail(f"no {CROSS_LIB / 'libstdc++.so.6'} (apt-get install libstdc++6-arm64-cross; ONNX Runtime needs it)")
    if not (arm64 / "libnin.so").exists():
        fail(f"no {arm64 / 'libnin.so'} (run make arm64)")
    work = ROOT / ".build-arm64" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    plugin = work / "insn_count.so"
    run(["cc", "-O2", "-shared", "-fPIC", str(ROOT / "tools" / "qemu" / "insn_count.c"), "-o", str(plugin)], check=True)
    nin_bench = cross_compile("nin_bench.c", work / "nin_bench", arm64.resolve(), "libnin.so")

    ort_bench, ort_why, onnx_model = None, "", None
    ort_dir, version = ort_library(ROOT / ".build-arm64" / "ort")
    if ort_dir is None:
        ort_why = version
    else:
        onnx_model, ort_why = qdq_model(model)
    if onnx_model is not None:
        ort_bench = cross_compile("ort_bench.c", work / "ort_bench", ort_dir.resolve(), f"libonnxruntime.so.{version}")
        host = host_logits(onnx_model)

    nin_args = [str(model), str(RUNS), "1", "1", "1"]  # runs, threads, batch, warm-up
    rows, generic = [], None
    for cpu, (what, goal_family, goal) in CPUS.items():
        if cpus and cpu not in cpus:
            continue
        ran = families(arm64, cpu)
        if not ran or ran[0] != goal_family:
            fail(f"-cpu {cpu}: nin picks {ran[:1]}, want {goal_family} (make test-arm64 checks this)")
        ort_count = None
        if ort_bench is not None:
            ort_count, out = counted(ort_bench, [str(onnx_model), str(RUNS), "1", "1"], cpu, plugin)
            logits = [float(v) for v in re.search(r"^logits=(.*)$", out, re.M).group(1).split(",")]
            diff = max(abs(a - b) for a, b in zip(logits, host))
            same_top = logits.index(max(logits)) == host.index(max(host))
            if len(logits) != len(host) or not same_top or diff > 0.05 * max(abs(v) for v in host):
                fail(f"ort_bench under -cpu {cpu}: logits {logits} differ from the host onnxruntime's {host}")
        for family in ran:
            if family == "generic":
                if generic is None:
                    generic = (cpu, counted(nin_bench, nin_args, cpu, plugin, {"NIN_ISA": family})[0])
                continue
            count = counted(nin_bench, nin_args, cpu, plugin, {"NIN_ISA": family})[0]
            rows.append((cpu, what, family, count, ort_count, goal if family == goal_family else None))
            print(f"  counted: -cpu {cpu} nin {family}", flush=True)

    print(f"\nInstructions per inference: {model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}, "
          f"batch 1, one thread, under qemu-aarch64 {qemu_version()} (user mode)")
    print("counted by the TCG plugin tools/qemu/insn_count.c between bench_mark() calls around "
          f"{RUNS} runs after one warm-up (load and weight packing not counted)")
    print(f"ONNX Runtime: {'the CPU provider of onnxruntime ' + version + ' (aarch64 wheel), ' + onnx_model.name if ort_bench else 'not run: ' + ort_why}")
    print(f"\n  {'qemu -cpu':<13}{'class':<23}{'nin family':<14}{'nin':>14}{'ORT int8':>14}{'nin/ORT':>9}  goal")
    for cpu, what, family, count, ort_count, goal in rows:
        ratio = f"{count / ort_count:.3f}" if ort_count else "-"
        verdict = ""
        if goal is not None:
            verdict = f"<= {goal:.2f}x: " + ("no ORT figure" if not ort_count else
                                           "met" if count <= goal * ort_count else "NOT met")
        ort_cell = f"{ort_count:,}" if ort_count else "-"
        print(f"  {cpu:<13}{what:<23}{family:<14}{count:>14,}{ort_cell:>14}{ratio:>9}  {verdict}")
    if generic:
        print(f"  (generic, the reference kernels: {generic[1]:,} under -cpu {generic[0]})")
    print("\nAn instruction count is not a time: qemu's CPU models have no timing (each instruction is")
    print("translated; SDOT or SMMLA counts one, as an ADD does; memory costs nothing). Timing needs arm64")
    print("hardware (Raspberry Pi 5, a Graviton or Ampere instance): build bench/nin_bench.c and")
    print("bench/ort_bench.c there against libnin.so (make arm64) and the same wheel's libonnxruntime.so,")
    print("and time them (median of 50 runs, one thread), as make bench does on x86-64.")
    return 0


def qemu_version() -> str:
    out = run(["qemu-aarch64", "--version"]).stdout
    found = re.search(r"version (\S+)", out)
    return found.group(1) if found else "?"


if __name__ == "__main__":
    sys.exit(main())
