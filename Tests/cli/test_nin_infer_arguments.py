"""nin-infer's own command line (no swift-argument-parser, see
Sources/nin-infer/CommandLineOptions.swift): every mistake is one line on stderr, then the usage,
and status 2; --help; --name=value and ``--``."""

from __future__ import annotations

import subprocess
from typing import List

import numpy as np
import pytest

from cli_paths import GOLDEN_NET, NIN_INFER
from nin_tools.png_write import write_png


def _nin_infer(args: List[str]) -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    return subprocess.run([str(NIN_INFER)] + args, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def png_paths(tmp_path_factory) -> List[str]:
    """One RGB PNG the golden model below reads (written by the independent encoder)."""
    path = tmp_path_factory.mktemp("args") / "rgb.png"
    write_png(str(path), np.random.default_rng(41).integers(0, 256, (35, 39, 3), dtype=np.uint8))
    return [str(path)]


def test_nin_infer_command_line_errors(png_paths):
    """nin-infer parses its own command line (no swift-argument-parser, see
    CommandLineOptions.swift): a mistake is one line on stderr, then the usage, and status 2."""
    model = str(GOLDEN_NET / "k11s4_batch3" / "model.nin")
    for args, message in [(["--top", "0", png_paths[0]], "--top must be at least 1"),
                          (["--threads", "0", png_paths[0]], "--threads must be 1 to 256"),
                          (["--threads", "two", png_paths[0]], "--threads needs an integer, not 'two'"),
                          (["--profile", "0", png_paths[0]], "--profile must be at least 1"),
                          (["--bogus", png_paths[0]], "unknown option '--bogus'"),
                          (["--json=yes", png_paths[0]], "--json takes no value"),
                          ([png_paths[0], "--model"], "--model needs a value"),
                          (["--model", model], "give at least one IMAGE (or --plan)"),
                          ([], "give at least one IMAGE (or --plan)")]:
        result = _nin_infer(args)
        assert (result.returncode, result.stdout) == (2, ""), args
        lines = result.stderr.splitlines()
        assert lines[0] == f"nin-infer: {message}" and lines[1].startswith("Usage: nin-infer "), args
    help_text = _nin_infer(["--help"])
    assert help_text.returncode == 0 and help_text.stdout.startswith("USAGE: nin-infer")
    assert "--threads N" in help_text.stdout and help_text.stderr == ""
    # --name=value equals --name value, and after -- every argument is an image
    spaced = _nin_infer(["--model", model, "--top", "2", png_paths[0]])
    joined = _nin_infer([f"--model={model}", "--top=2", "--", png_paths[0]])
    assert spaced.returncode == 0 and (joined.returncode, joined.stdout) == (0, spaced.stdout)
    dashed = _nin_infer(["--model", model, "--", "--json"])
    assert dashed.returncode == 1 and "nin-infer: --json: " in dashed.stderr
