"""bench/nin_bench.c: compiled against the release libnin.so, and run for nin's timings (a C
loop around nin_run_prepared_u8, no Python in the timed region)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from nin_tools.bench.common import BENCH_BUILD, RELEASE, ROOT, log
from nin_tools.bench.families import isa_env


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
    env = isa_env(isa)
    out = subprocess.run([str(exe), str(model), str(runs), str(threads), str(batch), str(warmup)],
                         check=True, capture_output=True, text=True, env=env).stdout
    m = re.search(r"times_ms=([\d.,]+)", out)
    if not m:
        raise RuntimeError(f"nin_bench printed {out!r}")
    return [float(t) for t in m.group(1).split(",")]
