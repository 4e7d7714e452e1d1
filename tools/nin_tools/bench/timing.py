"""The one timing loop of the benchmarks: milliseconds of repeated calls after a warm-up, and
their summary. Used by tools/bench.py (nin_tools.bench.latency) and by the bench kit's
engines.py, which `make bench-kit` copies it beside: so it imports the standard library only."""

from __future__ import annotations

import statistics
import time


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


def median_ms(fn, runs: int, warmup: int = 5) -> float:
    """The median of `time_calls(fn, runs, warmup)`."""
    return statistics.median(time_calls(fn, runs, warmup))


def summary(times: list[float]) -> dict:
    """The median, the best and the count of `times` (milliseconds), as the results record them."""
    return {"median_ms": statistics.median(times), "best_ms": min(times), "runs": len(times)}
