"""NIN_ISA=<family> on a machine that cannot run that family falls back to the best family below
it that the CPU has, and says why in one line on stderr (once per process), with the reason the
library's family list gives; the results are the same bits. A family the CPU runs is used
silently."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List

import pytest

from conftest import DEFAULT_MODEL, NIN_INFER

import nin


def _run(isa: str, images: List[Path]) -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    env = dict(os.environ, NIN_ISA=isa)
    return subprocess.run([str(NIN_INFER), "--no-progress", "--model", str(DEFAULT_MODEL)] + [str(p) for p in images],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("family", [family.name for family in nin.kernel_families()])
def test_a_family_the_cpu_lacks_says_why_once(example_images, family):
    images = example_images[:3] * 2  # several images: still one line
    asked = _run(family, images)
    generic = _run("generic", images)
    assert asked.returncode == 0 and generic.returncode == 0, asked.stderr + generic.stderr
    assert asked.stdout == generic.stdout  # the same bits, whichever family ran
    families = nin.kernel_families()
    names = [f.name for f in families]
    entry = families[names.index(family)]
    lines = [line for line in asked.stderr.splitlines() if "unavailable" in line]
    if entry.supported:
        assert lines == [], asked.stderr
    else:
        fallback = next(f.name for f in families[names.index(family):] if f.supported)
        assert lines == [f"nin: NIN_ISA={family} unavailable ({entry.reason}); using {fallback}"], asked.stderr
