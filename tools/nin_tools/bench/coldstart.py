"""Cold start: the wall time of fresh processes and their peak resident set size."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time

from nin_tools.bench.common import log


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


def mib(kib) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"
