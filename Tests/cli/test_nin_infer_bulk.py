"""nin-infer on real workloads: directories, paths on stdin, streamed JSON lines and CSV,
batches, progress and summary, --version, refused out-of-range options, --plan --json.
Every format must carry the same classes and float32 probabilities as the plain JSON output of
one image at a time (the reference the other CLI tests already tie to the library)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path
from typing import List

import numpy as np
import pytest

from cli_paths import GOLDEN_NET, NIN_INFER, REPO

MODEL = GOLDEN_NET / "k11s4_batch3" / "model.nin"   # 5 classes, 3 x 35 x 39 input


def _run(args: List[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    return subprocess.run([str(NIN_INFER), "--model", str(MODEL)] + [str(a) for a in args],
                          input=stdin, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A folder of PNGs: nested, one uppercase extension, one broken, one non-PNG file."""
    from nin_tools.png_write import write_png

    root = tmp_path_factory.mktemp("bulk")
    rng = np.random.default_rng(7)
    (root / "b" / "deeper").mkdir(parents=True)
    (root / "a").mkdir()
    names = ["z.png", "a/x.png", "a/y.PNG", "b/deeper/w.png", "b/v.png", "m.png"]
    for i, name in enumerate(names):
        write_png(str(root / name), rng.integers(0, 256, (20 + i, 30 + 2 * i, 1 + i % 4), dtype=np.uint8))
    (root / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "notes.txt").write_text("not an image")
    return root


def _expected_order(root: Path) -> List[str]:
    return [str(root / n) for n in ["a/x.png", "a/y.PNG", "b/broken.png", "b/deeper/w.png", "b/v.png",
                                    "m.png", "z.png"]]


def _reference(paths: List[str]) -> dict:
    """Image path -> top list (or error) from --json, one image per run."""
    records = {}
    for path in paths:
        out = _run(["--json", "--top", "3", path]).stdout
        records[path] = json.loads(out)[0]
    return records


def test_directory_is_walked_sorted_and_formats_agree(tree):
    order = _expected_order(tree)
    reference = _reference(order)
    as_json = _run(["--json", "--top", "3", tree])
    assert as_json.returncode == 1                          # the broken file
    records = json.loads(as_json.stdout)
    assert [r["image"] for r in records] == order
    assert records == [reference[p] for p in order]
    assert as_json.stderr.decode().splitlines() == [
        line for line in as_json.stderr.decode().splitlines() if "broken.png" in line]
    assert len(as_json.stderr.decode().splitlines()) == 1

    lines = _run(["--jsonl", "--top", "3", tree]).stdout.decode().splitlines()
    assert [json.loads(line) for line in lines] == records

    rows = list(csv.reader(io.StringIO(_run(["--csv", "--top", "3", tree]).stdout.decode())))
    assert rows[0] == ["image", "label_1", "probability_1", "label_2", "probability_2",
                       "label_3", "probability_3", "error"]
    assert [r[0] for r in rows[1:]] == order
    for row, record in zip(rows[1:], records):
        if "error" in record:
            assert row[1:7] == [""] * 6 and row[7] == record["error"]
        else:
            assert row[1:7:2] == [t["label"] for t in record["top"]]
            assert [np.float32(v) for v in row[2:7:2]] == [np.float32(t["probability"]) for t in record["top"]]
            assert row[7] == ""


def test_paths_from_stdin_and_batches(tree):
    order = _expected_order(tree)
    reference = _run(["--json", "--top", "2", tree]).stdout
    piped = _run(["--json", "--top", "2", "-"], stdin=("\n".join(order) + "\n").encode())
    assert piped.stdout == reference
    for extra in (["--batch", "3"], ["--batch", "4", "--threads", "2"], ["--threads", "3"]):
        assert _run(["--json", "--top", "2"] + extra + [tree]).stdout == reference, extra


def test_progress_and_summary(tree):
    quiet = _run(["--jsonl", tree])          # stderr is a pipe: no progress, no summary
    assert "images/s" not in quiet.stderr.decode()
    shown = _run(["--jsonl", "--progress", tree]).stderr.decode()
    summary = shown.splitlines()[-1].split("\r")[-1]
    assert re.fullmatch(r"\x1b\[Knin-infer: 7 images, 1 failed, \d+\.\d s, \d+\.\d images/s", summary), summary
    assert "7/7 images" in shown
    assert "images/s" not in _run(["--jsonl", "--progress", "--no-progress", tree]).stderr.decode()


def test_version_is_the_headers():
    header = (REPO / "include" / "nin.h").read_text()
    version = re.search(r'#define NIN_VERSION_STRING "([^"]+)"', header).group(1)
    result = _run(["--version"])
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 0 and len(lines) == 2 and lines[0] == f"nin-infer {version}"
    listed = subprocess.run([str(NIN_INFER), "--list-kernels"], capture_output=True, timeout=60).stdout.decode()
    assert lines[1] in [f"kernels: {line.split()[0]}" for line in listed.splitlines() if " yes" in line]


@pytest.mark.parametrize("family", ["generic", "portable"])
def test_version_names_the_kernels_nin_isa_asks_for(family):
    # generic and portable run on every CPU.
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    result = subprocess.run([str(NIN_INFER), "--version"], env={**os.environ, "NIN_ISA": family},
                            capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.decode().splitlines()[1] == f"kernels: {family}"


def test_out_of_range_options_are_refused(tree):
    too_many = _run(["--top", "6", tree])
    assert too_many.returncode == 2 and too_many.stdout == b""
    assert too_many.stderr.decode() == "nin-infer: --top 6 is more than the model's 5 classes\n"
    for args, message in [(["--batch", "0", tree], "--batch must be 1 to 4096"),
                          (["--json", "--csv", tree], "--json and --csv cannot be combined"),
                          (["--plan", "--csv"], "--plan prints text, or JSON with --json")]:
        result = _run(args)
        assert result.returncode == 2, args
        assert result.stderr.decode().splitlines()[0] == f"nin-infer: {message}"


def test_plan_as_json_matches_the_text_plan():
    text = _run(["--plan"]).stdout.decode()
    plan = json.loads(_run(["--plan", "--json"]).stdout)
    arena = int(re.search(r"arena: (\d+) bytes; lower bound .*: (\d+) bytes", text).group(1))
    assert plan["arena_bytes"] == arena
    rows = [line.split() for line in text.splitlines()[2:] if re.match(r"^\S+\s+\d+\s+\d+\s+\d+\.\.\.\d+$", line)]
    assert [(t["name"], t["offset"], t["bytes"]) for t in plan["tensors"]] == \
           [(r[0], int(r[1]), int(r[2])) for r in rows]


def test_default_batch_is_no_larger_than_the_images_given(tree):
    """With several threads the default batch is 8 per thread, but never more images than the
    command was given: the plan of one image on 4 threads is batch 1, of three images batch 3,
    and of none (--plan alone) 32; --batch still overrides it."""
    one = sorted(tree.rglob("*.png"))[0]
    def batch(args):
        result = _run(["--plan", "--json", "--threads", "4"] + args)
        assert result.returncode == 0, result.stderr.decode()
        plan, _ = json.JSONDecoder().raw_decode(result.stdout.decode())  # (the results follow it)
        return plan["batch"]
    assert batch([]) == 32
    assert batch([one]) == 1
    assert batch([one, one, one]) == 3
    assert batch(["--batch", "5", one]) == 5
