"""nin-infer --profile: per-layer medians, and for each convolution its GMAC/s and its share of
the family's measured single-thread peak times the thread count (the "peak:" line); a family
without a peak loop (portable) says so and prints no shares."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from cli_paths import DEFAULT_MODEL, EXAMPLE_IMAGES, NIN_INFER

PEAK = re.compile(r"^peak: ([0-9.]+) GMAC/s per thread \((.+), from registers\); "
                  r"% of peak: GMAC/s over (\d+) x that, MACs counting padding taps$")
CONV = re.compile(r"^  (\d+) conv \S+ -> \S+: ([0-9.]+) ms  ([0-9.]+) GMAC/s(?:  ([0-9.]+)% of peak)?  \[(.+)\]$")


def _profile(isa: str, threads: int) -> list[str]:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    image = sorted(EXAMPLE_IMAGES.glob("*.png"))[0]
    result = subprocess.run([str(NIN_INFER), "--profile", "3", "--threads", str(threads), "--model",
                             str(DEFAULT_MODEL), str(image)], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "NIN_ISA": isa})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("threads", [1, 2])
def test_profile_gives_each_convolution_its_share_of_the_peak(threads):
    lines = _profile("", threads)
    family = re.match(r"^profile: 3 run\(s\), kernels (\w+), (\d+) thread\(s\)", lines[0])
    assert family and int(family.group(2)) == threads, lines[0]
    peak = PEAK.match(lines[1])
    if family.group(1) in ("portable", "generic"):
        pytest.skip(f"the default family here is {family.group(1)}, which has no peak loop")
    assert peak, lines[1]
    per_thread, shown_threads = float(peak.group(1)), int(peak.group(3))
    assert per_thread > 0 and shown_threads == threads
    convolutions = [m for m in map(CONV.match, lines) if m]
    assert len(convolutions) == 12, lines  # the classic model's 4 blocks of 3
    for m in convolutions:
        gmacs, share = float(m.group(3)), m.group(4)
        assert share is not None, m.group(0)
        # the share printed is GMAC/s over threads x the peak, to its one decimal
        assert abs(float(share) - 100 * gmacs / (per_thread * threads)) <= 0.051 + 1e-3 * float(share), m.group(0)


def test_profile_of_a_family_without_a_peak_loop_says_so():
    lines = _profile("portable", 1)
    assert lines[0].startswith("profile: 3 run(s), kernels portable, 1 thread(s)")
    assert lines[1] == "peak: none (kernels portable have no peak loop)"
    convolutions = [m for m in map(CONV.match, lines) if m]
    assert len(convolutions) == 12 and all(m.group(4) is None for m in convolutions)
