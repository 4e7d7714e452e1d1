"""What a new user meets first (issue 28): a run that found no image says so and fails; --heatmap
creates its folder; the one-line usage and --help list every option, aligned; and the README's
heatmap images are what `make heatmaps` writes now."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import List, Optional

import nin
import numpy as np
import pytest

from cli_paths import EXAMPLE_IMAGES, GOLDEN_NET, NIN_INFER, REPO
from nin_tools.png_write import write_png

MODEL = str(GOLDEN_NET / "k11s4_batch3" / "model.nin")


def _nin_infer(args: List[str], stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    return subprocess.run([str(NIN_INFER)] + [str(a) for a in args], capture_output=True, text=True,
                          input=stdin if stdin is not None else "", timeout=300)


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(str(path), np.random.default_rng(7).integers(0, 256, (35, 39, 3), dtype=np.uint8))
    return path


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--jsonl"], ["--csv"]])
def test_folder_without_png_is_an_error(tmp_path, fmt):
    empty = tmp_path / "photos"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "cat.jpg").write_bytes(b"\xff\xd8\xff")     # not a PNG: not an image to nin-infer
    result = _nin_infer(["--model", MODEL, "--no-progress"] + fmt + [empty])
    assert result.returncode == 1
    assert result.stderr == f"nin-infer: {empty}: no image found: no *.png file below this directory\n"
    # Other inputs still run; the empty one still makes the status 1.
    image = _png(tmp_path / "one" / "a.png")
    mixed = _nin_infer(["--model", MODEL] + fmt + [empty, image.parent])
    assert mixed.returncode == 1 and str(image) in mixed.stdout
    assert mixed.stderr == result.stderr


def test_empty_stdin_is_an_error(tmp_path):
    result = _nin_infer(["--model", MODEL, "-"], stdin="")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "nin-infer: -: no image found: stdin gave no path\n"
    blank = _nin_infer(["--model", MODEL, "-"], stdin="\n\n")                  # only empty lines
    assert (blank.returncode, blank.stderr) == (1, result.stderr)
    image = _png(tmp_path / "b.png")
    ok = _nin_infer(["--model", MODEL, "-"], stdin=f"{image}\n")
    assert ok.returncode == 0 and ok.stdout.startswith(f"{image}\n") and ok.stderr == ""


def test_heatmap_creates_its_folder(tmp_path):
    image = _png(tmp_path / "in" / "c.png")
    out = tmp_path / "maps" / "deep" / "er"
    result = _nin_infer(["--model", MODEL, "--heatmap", out, image])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["c.heatmap.png"]
    again = _nin_infer(["--model", MODEL, "--heatmap", str(out) + "/", image])   # exists now: fine
    assert again.returncode == 0, again.stderr
    # A path that exists and is a file stays an error, and so does a folder below a file.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _nin_infer(["--model", MODEL, "--heatmap", blocker, image])
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"nin-infer: --heatmap {blocker}: not a directory\n"
    below = _nin_infer(["--model", MODEL, "--heatmap", blocker / "sub", image])
    assert below.returncode == 2
    assert below.stderr == (f"nin-infer: --heatmap {blocker / 'sub'}: cannot create directory "
                            f"{blocker / 'sub'}: Not a directory\n")


def _help_options(text: str) -> List[str]:
    """The option names of --help's OPTIONS section ("--model", "-h", "--help", ...)."""
    section = text.split("OPTIONS:\n", 1)[1].split("\n\n", 1)[0]
    names = []
    for line in section.splitlines():
        m = re.match(r"^  (-[^\s,]+)(?:, (-\S+))?", line)
        if m:
            names += [n for n in m.groups() if n]
    return names


def test_usage_line_lists_every_option():
    help_text = _nin_infer(["--help"]).stdout
    options = _help_options(help_text)
    assert "--heatmap" in options and "--version" in options and len(options) >= 15
    usage = _nin_infer(["--bogus"]).stderr.splitlines()[1]
    assert usage.startswith("Usage: nin-infer ")
    listed = set(re.findall(r"-{1,2}[a-z][a-z-]*", usage))
    assert [o for o in options if o not in listed] == []


def test_help_continuation_lines_are_aligned():
    help_text = _nin_infer(["--help"]).stdout
    for title in ("ARGUMENTS:", "OPTIONS:"):
        section = help_text.split(title + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
        first = re.match(r"^  \S.*?\s{2,}(?=\S)", section[0])
        column = first.end()                        # where every description starts
        for line in section:
            if line.startswith("   "):              # a continuation of the description above
                assert len(line) - len(line.lstrip(" ")) == column, line
            else:
                assert re.match(r"^  \S.*?\s{2,}(?=\S)", line).end() == column, line


def test_committed_heatmaps_are_current(tmp_path):
    """`make heatmaps` (nin-infer --top 1 --heatmap docs/heatmaps on the example images) would
    write exactly the committed docs/heatmaps/ files."""
    images = sorted(EXAMPLE_IMAGES.glob("*.png"))
    result = _nin_infer(["--no-progress", "--top", "1", "--heatmap", tmp_path] + images)
    assert result.returncode == 0, result.stderr
    committed = REPO / "docs" / "heatmaps"
    fresh = sorted(p.name for p in tmp_path.iterdir())
    assert fresh == sorted(p.name for p in committed.iterdir())
    # Pixels, not bytes: another zlib may compress the same image differently.
    stale = [name for name in fresh
             if not np.array_equal(nin.load_png(tmp_path / name), nin.load_png(committed / name))]
    assert stale == [], f"run `make heatmaps`: {stale} changed"
