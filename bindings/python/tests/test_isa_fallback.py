"""NIN_ISA=amx on a machine that cannot run AMX falls back to the next kernel family and says
why in one line on stderr (once per process); the results are the same bits. Where the CPU has
AMX (and the kernel grants it), nothing is said. Other families fall back silently."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import List

import pytest

from conftest import DEFAULT_MODEL, NIN_INFER


def _cpu_flags() -> set:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _run(isa: str, images: List[Path]) -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    env = dict(os.environ, NIN_ISA=isa)
    return subprocess.run([str(NIN_INFER), "--no-progress", "--model", str(DEFAULT_MODEL)] + [str(p) for p in images],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the AMX family exists on x86-64 builds only")
def test_amx_fallback_says_why_once(example_images):
    images = example_images[:3] * 2  # several images: still one line
    amx = _run("amx", images)
    generic = _run("generic", images)
    assert amx.returncode == 0 and generic.returncode == 0, amx.stderr + generic.stderr
    assert amx.stdout == generic.stdout  # the same bits, whichever family ran
    lines = [line for line in amx.stderr.splitlines() if line.startswith("nin: NIN_ISA=amx unavailable")]
    flags = _cpu_flags()
    if not {"amx_tile", "amx_int8"} <= flags:
        vnni = {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"} <= flags
        reason = "CPU lacks amx_tile/amx_int8" if vnni else "CPU lacks avx512f/avx512bw/avx512vl/avx512_vnni"
        assert len(lines) == 1, amx.stderr
        assert lines[0].startswith(f"nin: NIN_ISA=amx unavailable ({reason}); using "), amx.stderr
        assert lines[0].rsplit(" ", 1)[-1] == ("avx512vnni" if vnni else "avx2" if {"avx2", "fma"} <= flags else "generic")
    else:
        # AMX present: silent, unless the kernel refused the tile state (then it says so).
        assert all("kernel refused" in line or "OS does not enable" in line for line in lines), amx.stderr


def test_other_families_fall_back_silently(example_images):
    for isa in ("avx2", "avx512vnni", "generic"):
        result = _run(isa, example_images[:1])
        assert result.returncode == 0
        assert "unavailable" not in result.stderr
