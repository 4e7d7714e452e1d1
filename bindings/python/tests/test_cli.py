"""``python -m nin`` prints exactly what nin-infer prints, and predict() on a PNG gives the same
float32 probabilities as the C library driven by nin-infer. (nin-infer's own command line is
tested in Tests/cli, the C examples against this package in bindings/c/tests.)"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import List, Tuple

import numpy as np
import pytest

from conftest import GOLDEN_NET, NIN_INFER, PACKAGE_ROOT

import nin
from nin._cli import format_probability, json_string, main, swift_float


def _nin_infer(args: List[str]) -> subprocess.CompletedProcess:
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (swift build -c release -Xswiftc -static-stdlib --product nin-infer)")
    return subprocess.run([str(NIN_INFER)] + args, capture_output=True, text=True, timeout=120)


def _python_cli(args: List[str]) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _python_module(args: List[str], **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), **env)
    return subprocess.run([sys.executable, "-m", "nin"] + args, capture_output=True, text=True,
                          env=environment, timeout=120)


@pytest.fixture(scope="module")
def rgb_pngs(tmp_path_factory) -> List[str]:
    from nin_tools.png_write import write_png

    out = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(41)
    paths = []
    for i, shape in enumerate([(35, 39, 3), (70, 20, 3), (35, 39, 1), (12, 50, 4), (35, 39, 2)]):
        p = out / f"img{i}.png"
        write_png(str(p), rng.integers(0, 256, shape, dtype=np.uint8))
        paths.append(str(p))
    (out / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    paths.insert(2, str(out / "broken.png"))
    paths.insert(4, str(out / "missing.png"))
    return paths


# ---- formatting helpers --------------------------------------------------------------------

def test_format_probability_rounds_like_nin_infer():
    assert format_probability(0.21369253) == "0.2137"
    assert format_probability(1.0) == "1.0000"
    assert format_probability(0.0) == "0.0000"
    assert format_probability(0.99996) == "1.0000"
    # Exact ties (p * 10000 = n + 0.5) go away from zero, as Swift's rounded() does; C's
    # printf("%.4f") (examples/c/classify.c) rounds them to even instead.
    assert format_probability(0.03125) == "0.0313" and "%.4f" % 0.03125 == "0.0312"
    assert format_probability(0.15625) == "0.1563"


def test_swift_float_description():
    assert swift_float(1.0) == "1.0"
    assert swift_float(0.5) == "0.5"
    assert swift_float(0.0) == "0.0"
    assert swift_float(0.0001) == "0.0001"
    assert swift_float(0.00001) == "1e-05"
    assert swift_float(1.2345e-07) == "1.2345e-07"
    assert swift_float(9.5e-05) == "9.5e-05"
    assert swift_float(0.21369253) == "0.21369253"
    for x in np.random.default_rng(0).random(1000, dtype=np.float32):
        assert np.float32(float(swift_float(x))) == x


def test_json_string_escapes():
    assert json_string('a"b\\c\nd\te\r\x01é') == '"a\\"b\\\\c\\nd\\te\\r\\u0001é"'


# ---- against nin-infer -----------------------------------------------------------------------

@pytest.mark.parametrize("extra", [[], ["--top", "2"], ["--top", "5"], ["--json"],
                                   ["--json", "--top", "1"], ["--threads", "3"]])
def test_same_output_as_nin_infer(rgb_pngs, extra):
    model = str(GOLDEN_NET / "k11s4_batch3" / "model.nin")
    args = ["--model", model] + extra + rgb_pngs
    reference = _nin_infer(args)
    code, out, err = _python_cli(args)
    assert out == reference.stdout
    assert code == reference.returncode == 1
    assert [line.split(": ", 1)[1] for line in err.splitlines()] == \
           [line.split(": ", 1)[1] for line in reference.stderr.splitlines()]
    assert len(err.splitlines()) == 2                  # one line per bad file
    if "--json" in extra:
        records = json.loads(out)
        assert [r["image"] for r in records] == rgb_pngs
        assert sum("error" in r for r in records) == 2


def test_module_entry_point(rgb_pngs):
    model = str(GOLDEN_NET / "k11s4_batch3" / "model.nin")
    result = _python_module(["--model", model, rgb_pngs[0], rgb_pngs[2]])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == rgb_pngs[0] and len(lines) == 6
    assert all(line.startswith("  0.") or line.startswith("  1.") for line in lines[1:])
    assert result.stderr.startswith("nin: " + rgb_pngs[2] + ": ")
    ok = _python_module(["--model", model, "--top", "3", rgb_pngs[0]])
    assert ok.returncode == 0 and len(ok.stdout.splitlines()) == 4 and ok.stderr == ""


def test_cli_usage_and_model_errors(rgb_pngs, tmp_path):
    with pytest.raises(SystemExit) as info:
        _python_cli(["--top", "0", rgb_pngs[0]])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        _python_cli([])
    code, out, err = _python_cli(["--model", str(tmp_path / "none.nin"), rgb_pngs[0]])
    assert code == 2 and out == "" and "none.nin" in err
    bad = tmp_path / "bad.nin"
    bad.write_bytes(b"NINx" + bytes(100))
    code, out, err = _python_cli(["--model", str(bad), rgb_pngs[0]])
    assert code == 2 and err.startswith(f"nin: {bad}: ")
    result = _python_module([rgb_pngs[0]], NIN_MODEL=str(tmp_path / "missing.nin"))
    assert result.returncode == 2 and "missing.nin" in result.stderr


# ---- the shipped model on the example images -------------------------------------------------

def test_shipped_model_cli_identical(shipped_model_path, example_images):
    paths = [str(p) for p in example_images]
    for extra in ([], ["--json", "--top", "10"]):
        args = ["--model", str(shipped_model_path)] + extra + paths
        reference = _nin_infer(args)
        code, out, err = _python_cli(args)
        assert reference.returncode == 0, reference.stderr
        assert (code, out, err) == (0, reference.stdout, "")
    # the default model (no --model) is the shipped one for both
    assert _python_cli(paths[:2])[1] == _nin_infer(paths[:2]).stdout


def test_shipped_model_predict_bit_identical_to_nin_infer(shipped_model_path, example_images):
    paths = [str(p) for p in example_images]
    with nin.Model(shipped_model_path) as model:
        k = model.class_count
        reference = json.loads(_nin_infer(["--model", str(shipped_model_path), "--json", "--top", str(k)]
                                          + paths).stdout)
        images = [nin.load_png(p) for p in paths]
        batch = model.predict(images)                     # one batch, runtime preprocessing
        for n, (record, image) in enumerate(zip(reference, images)):
            single = model.predict(image)[0]              # one uint8 image
            expected = np.zeros(k, np.float32)
            for entry in record["top"]:
                expected[entry["index"]] = np.float32(entry["probability"])
            assert np.array_equal(single.view(np.uint32), expected.view(np.uint32)), paths[n]
            assert np.array_equal(batch[n].view(np.uint32), expected.view(np.uint32)), paths[n]
            ranked = model.top_k(paths[n], k)
            assert [i for i, _ in ranked] == [e["index"] for e in record["top"]]


@pytest.fixture(scope="module")
def wide_range_model(tmp_path_factory):
    """A GAP-only model with a large input scale: its probabilities span 1 down to 1e-30 and
    below (printed in exponent form by nin-infer), labels that need JSON escaping, and ties."""
    from nin_tools import model_format as F

    out = tmp_path_factory.mktemp("wide")
    model = F.Model(input_shape=(3, 4, 4),
                    layers=[F.Layer(op="gap", in_channels=3, out_channels=3, output_scale=0.3)],
                    labels=['say "hi"', "back\\slash", "tab\there"], input_scale=0.3,
                    metadata={"name": "wide_range"})
    F.write(model, out / "wide.nin")
    from nin_tools.png_write import write_png

    images = []
    for i, rgb in enumerate([(255, 0, 128), (200, 190, 0), (7, 7, 7), (255, 0, 0), (40, 0, 90)]):
        p = out / f"c{i}.png"
        write_png(str(p), np.tile(np.array(rgb, np.uint8), (4, 4, 1)))
        images.append(str(p))
    return out / "wide.nin", images


def test_exponent_formats_escaping_and_ties_match_nin_infer(wide_range_model):
    model, images = wide_range_model
    for extra in (["--json"], [], ["--json", "--top", "2"]):
        args = ["--model", str(model)] + extra + images
        reference = _nin_infer(args)
        assert reference.returncode == 0, reference.stderr
        code, out, err = _python_cli(args)
        assert (code, out, err) == (0, reference.stdout, "")
    printed = _nin_infer(["--model", str(model), "--json"] + images).stdout
    assert "e-" in printed and '\\"hi\\"' in printed and "\\t" in printed   # the cases are exercised
    records = json.loads(printed)
    assert [e["index"] for e in records[2]["top"]] == [0, 1, 2]             # ties: lower index first
