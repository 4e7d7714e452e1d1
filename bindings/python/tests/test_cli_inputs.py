"""``python -m nin`` takes nin-infer's inputs (folders, ``-``), options (--csv, --jsonl,
--heatmap, --class, --batch, ...) and exit codes: both run on the same folders and their stdout,
exit status and stderr reasons are compared. Also: runs that find no image fail, saying so
(both commands, and ``classify_files``), and a directory passed as an image names the cause."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest

from conftest import GOLDEN_NET, NIN_INFER, PACKAGE_ROOT

import nin
from nin._cli import main

MODEL = str(GOLDEN_NET / "k11s4_batch3" / "model.nin")


def _nin_infer(args: List[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    return subprocess.run([str(NIN_INFER)] + [str(a) for a in args], capture_output=True,
                          input=stdin, timeout=300)


def _python_cli(args: List[str], stdin: bytes = b"") -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err, stdin=io.BytesIO(stdin))
    return code, out.getvalue(), err.getvalue()


def _reasons(stderr: str) -> List[str]:
    """stderr without each line's program prefix ("nin-infer: " or "nin: ")."""
    return [line.split(": ", 1)[1] for line in stderr.splitlines()]


def _assert_same(args: List[str], stdin: bytes = b"") -> Tuple[int, str]:
    reference = _nin_infer(args, stdin)
    code, out, err = _python_cli(args, stdin)
    assert out == reference.stdout.decode(), args
    assert code == reference.returncode, args
    assert _reasons(err) == _reasons(reference.stderr.decode()), args
    return code, out


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A folder as users have them: class subfolders, an upper-case .PNG, a broken PNG, a
    JPEG, an empty subfolder, a link to a folder (not entered), and a name that needs CSV
    quoting."""
    from nin_tools.png_write import write_png

    root = tmp_path_factory.mktemp("tree") / "data"
    rng = np.random.default_rng(28)
    for i, rel in enumerate(["b/one.png", "b/two.PNG", "a/three.png", "a/deeper/four.png", "five, too.png",
                             "c/one.png"]):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(str(path), rng.integers(0, 256, (30 + i, 41, 3), dtype=np.uint8))
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / "a" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (root / "empty").mkdir()
    os.symlink(root / "b", root / "link")
    return root


@pytest.mark.parametrize("extra", [[], ["--json"], ["--jsonl"], ["--csv"], ["--csv", "--top", "1"],
                                   ["--jsonl", "--batch", "3", "--threads", "2"], ["--json", "--batch", "2"]])
def test_folder_same_as_nin_infer(tree, extra):
    code, out = _assert_same(["--model", MODEL] + extra + [tree])
    assert code == 1                                          # the broken PNG
    assert str(tree / "a" / "deeper" / "four.png") in out and str(tree / "b" / "two.PNG") in out
    assert "/link/" not in out and "photo.jpg" not in out


def test_stdin_and_mixed_inputs_same_as_nin_infer(tree):
    listed = f"{tree / 'b' / 'one.png'}\n\n{tree / 'c' / 'one.png'}\r\n{tree / 'missing.png'}\n".encode()
    code, out = _assert_same(["--model", MODEL, "--csv", "-", tree / "a"], stdin=listed)
    assert code == 1 and out.count("\n") == 1 + 3 + 3    # header, 3 stdin paths, 3 PNGs under a/
    code, _ = _assert_same(["--model", MODEL, "-"], stdin=f"{tree / 'b' / 'one.png'}".encode())
    assert code == 0


def test_no_image_found_fails_in_both(tree):
    for args, stdin in [([tree / "empty"], b""), (["-"], b""), (["-"], b"\n\n"),
                        (["--json", tree / "empty", tree / "b"], b"")]:
        code, _ = _assert_same(["--model", MODEL] + args, stdin)
        assert code == 1, args
    _, _, err = _python_cli(["--model", MODEL, tree / "empty"])
    assert err == f"nin: {tree / 'empty'}: no image found: no *.png file below this directory\n"
    _, _, err = _python_cli(["--model", MODEL, "-"])
    assert err == "nin: -: no image found: stdin gave no path\n"


def test_classify_files_with_no_path_says_so(small_model_path):
    with nin.Model(small_model_path) as model:
        with pytest.raises(nin.InvalidArgumentError, match="no image found"):
            list(nin.classify_files([], model=model, top=2))
        with pytest.raises(nin.InvalidArgumentError, match="no image found"):
            list(nin.classify_files(Path("/nonexistent").glob("*.png"), model=model, top=2))


def test_heatmaps_same_as_nin_infer(tree, tmp_path):
    labels = nin.Model(MODEL).labels
    for extra in ([], ["--class", labels[1]]):
        theirs, ours = tmp_path / "theirs", tmp_path / "ours" / "not" / "yet"    # ours is created
        theirs.mkdir(exist_ok=True)
        _assert_same(["--model", MODEL, "--heatmap", theirs] + extra + [tree / "a", tree / "b", tree / "c"])
        _python_cli(["--model", MODEL, "--heatmap", ours] + extra + [tree / "a", tree / "b", tree / "c"])
        names = sorted(p.name for p in theirs.iterdir())
        assert names == sorted(p.name for p in ours.iterdir())
        assert "one.heatmap.png" in names and "one-2.heatmap.png" in names and "two.heatmap.png" in names
        for name in names:
            assert np.array_equal(nin.load_png(ours / name), nin.load_png(theirs / name)), name
    file = tmp_path / "file"
    file.write_text("x")
    code, out, err = _python_cli(["--model", MODEL, "--heatmap", file, tree / "b"])
    assert (code, out, err) == (2, "", f"nin: --heatmap {file}: not a directory\n")


def test_module_entry_point_on_a_folder(tree):
    environment = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    result = subprocess.run([sys.executable, "-m", "nin", "--model", MODEL, "--jsonl", str(tree / "b")],
                            capture_output=True, text=True, env=environment, timeout=120)
    reference = _nin_infer(["--model", MODEL, "--jsonl", tree / "b"])
    assert (result.returncode, result.stdout) == (0, reference.stdout.decode())


def test_options_nin_infer_has(tree):
    for args in (["--batch", "0", tree], ["--class", "x", tree], ["--json", "--csv", tree], []):
        with pytest.raises(SystemExit) as info:
            _python_cli(["--model", MODEL] + args)
        assert info.value.code == 2 == _nin_infer(["--model", MODEL] + args).returncode, args
    for args in (["--plan"], ["--profile", "3", tree]):          # nin-infer's alone: refused, status 2
        with pytest.raises(SystemExit) as info:
            _python_cli(["--model", MODEL] + args)
        assert info.value.code == 2, args
    code, out, _ = _python_cli(["--version"])
    assert code == 0 and out.startswith(f"python -m nin {nin.__version__}\n")


def test_directory_as_image_names_the_cause(tree):
    with pytest.raises(nin.NinIOError) as info:
        nin.load_png(tree / "a")
    assert info.value.message == f'cannot open PNG "{tree / "a"}": Is a directory, not a PNG file'
    with nin.Model(MODEL) as model:
        with pytest.raises(nin.NinIOError, match="Is a directory"):
            model.classify(str(tree / "a"))
    code, _ = _assert_same(["--model", MODEL, "-"], stdin=f"{tree / 'a'}\n".encode())   # a folder on stdin
    assert code == 1


@pytest.mark.parametrize("nin_isa", [None, "generic", "portable", "amx", "no-such-family"])
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_list_kernels_is_the_librarys_list(monkeypatch, nin_isa, extra):
    # nin-infer --list-kernels (the engine linked into nin-infer) and python -m nin (libnin.so
    # through nin.kernel_families()) print the same list; it names every family of the library
    # in its order, says which run here (a reason for each that does not), and marks as chosen
    # the family --version names.
    if nin_isa is None:
        monkeypatch.delenv("NIN_ISA", raising=False)
    else:
        monkeypatch.setenv("NIN_ISA", nin_isa)
    # (stdout and status: the line a library says once on stderr for an unavailable NIN_ISA
    # comes when nin-infer asks for the chosen family, and test_isa_fallback checks it)
    reference = _nin_infer(["--list-kernels"] + extra)
    code, out, _ = _python_cli(["--list-kernels"] + extra)
    assert out == reference.stdout.decode() and code == reference.returncode == 0
    families = nin.kernel_families()
    version = _nin_infer(["--version"]).stdout.decode().splitlines()[1]
    if extra:
        listed = json.loads(out)
        assert [entry["name"] for entry in listed] == [family.name for family in families]
        assert [entry["supported"] for entry in listed] == [family.supported for family in families]
        assert [entry["reason"] for entry in listed] == [family.reason for family in families]
        assert [entry["name"] for entry in listed if entry["chosen"]] == [version.removeprefix("kernels: ")]
        assert [tuple(entry["cpu_flags"]) for entry in listed] == [family.cpu_flags for family in families]
    else:
        lines = out.splitlines()
        assert [line.split()[0] for line in lines] == [family.name for family in families]
        for line, family in zip(lines, families):
            assert line.split(None, 1)[1].startswith("yes") if family.supported else line.endswith(f"no: {family.reason}")
        assert [line.split()[0] for line in lines if line.endswith("(chosen)")] == [version.removeprefix("kernels: ")]
    if nin_isa in ("generic", "portable"):
        assert version == f"kernels: {nin_isa}"


def test_list_kernels_takes_no_csv():
    code, _, _ = _python_cli_exit(["--list-kernels", "--csv"])
    assert code == 2 and _nin_infer(["--list-kernels", "--csv"]).returncode == 2


def _python_cli_exit(args: List[str]) -> Tuple[int, str, str]:
    """_python_cli for a usage error, which argparse raises as SystemExit."""
    try:
        return _python_cli(args)
    except SystemExit as exc:
        return int(exc.code), "", ""
