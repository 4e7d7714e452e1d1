"""Tests of nin-convert end to end (nin_tools.convert.cli and tools/nin-convert): an ONNX
model calibrated on PNGs agrees with its float graph, and every refusal is one line."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from nin_tools import float_graph as nf
from nin_tools import model_format, reference
from nin_tools.convert import ConvertError, onnx_import, quantization
from nin_tools.convert.cli import main as convert_main
from source_builders import (CALIBRATION_KINDS, FIXTURES, copy_pngsuite, needs_onnx, onnx, tiny_onnx,
                             write_random_pngs)

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _agreement(model, graph, x_u8):
    q = np.asarray(reference.run(model, x_u8)["logits"], np.float32)
    f = nf.forward(graph, nf.pixels_to_float(x_u8), keep="last")
    return q, f


@needs_onnx
def test_convert_onnx_with_png_calibration(tmp_path, capsys):
    rng = np.random.default_rng(9)
    m = tiny_onnx(rng, with_bn=True)
    src = tmp_path / "tiny.onnx"
    onnx.save(m, str(src))
    cal = tmp_path / "cal"
    write_random_pngs(str(cal), 120, rng, 16, 16)
    out = tmp_path / "tiny.nin"
    rc = convert_main([str(src), "--calibrate", str(cal), "--name", "tiny", "--meta", "description=test",
                  "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "top-1 agreement" in text and "p99.999" in text
    model = model_format.read(str(out))
    assert [L.op for L in model.layers] == ["conv", "conv", "maxpool", "conv", "gap"]
    assert all(L.relu for L in model.layers if L.op == "conv")
    assert model.layers[2].pads == (0, 0, 1, 1)
    assert model.labels == [f"class_{i}" for i in range(5)]
    assert model.metadata["name"] == "tiny" and model.metadata["description"] == "test"
    assert model.metadata["source"] == "tiny.onnx" and "converter" in model.metadata
    assert "120 PNG images" in model.metadata["calibration"]

    # int8 (nin_ref) against the fp32 forward on fresh images
    graph, _ = onnx_import.graph_from_onnx(m)
    folded = nf.fold(graph)
    x = rng.integers(0, 256, (200, 16, 16, 1), dtype=np.uint8)
    x = np.clip((x.astype(np.int32) + np.roll(x, 1, axis=1) + np.roll(x, 1, axis=2)) // 3, 0, 255).astype(np.uint8)
    q, f = _agreement(model, folded, x)
    span = float(f.max() - f.min())
    assert np.max(np.abs(q - f)) < 0.05 * span + 1e-6
    assert np.mean(np.argmax(q, 1) == np.argmax(f, 1)) >= 0.9


def _run_converter(args, env=None):
    """tools/nin-convert (the launcher) under this interpreter."""
    env = dict(env or os.environ, PYTHON=sys.executable)
    return subprocess.run([os.path.join(TOOLS, "nin-convert"), *args],
                          capture_output=True, text=True, env=env, timeout=300)


@needs_onnx
def test_converter_png_errors_are_one_line(tmp_path):
    """A corrupt or non-PNG calibration file, or a missing libnin.so, stops the converter with
    one line on stderr and exit status 1, not a traceback; 16-bit PNGs calibrate."""
    rng = np.random.default_rng(12)
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(rng, with_bn=False), str(src))
    good = str(tmp_path / "good")
    copy_pngsuite(good, CALIBRATION_KINDS)
    run = _run_converter([str(src), "--calibrate", good, "-o", str(tmp_path / "ok.nin"), "--quiet"])
    assert run.returncode == 0, run.stderr
    with open(os.path.join(FIXTURES, "bad", "corrupt_idat.png"), "rb") as f:
        corrupt = f.read()
    for bad_name, data in (("corrupt.png", corrupt), ("text.png", b"not a PNG at all\n" * 8)):
        bad = tmp_path / ("bad_" + bad_name)
        copy_pngsuite(str(bad), ["basn0g08"])
        (bad / bad_name).write_bytes(data)
        run = _run_converter([str(src), "--calibrate", str(bad), "-o", str(tmp_path / "x.nin")])
        assert run.returncode == 1
        assert "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert run.stderr.startswith("nin-convert: error: calibration image: ") and bad_name in run.stderr
    env = dict(os.environ, NIN_LIBRARY=str(tmp_path / "missing" / "libnin.so"))
    run = _run_converter([str(src), "--calibrate", good, "-o", str(tmp_path / "y.nin")], env=env)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "libnin.so" in run.stderr, run.stderr


@needs_onnx
def test_convert_without_calibration_is_refused(tmp_path, capsys):
    rng = np.random.default_rng(10)
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(rng), str(src))
    assert convert_main([str(src), "-o", str(tmp_path / "x.nin")]) == 1
    assert "--calibrate" in capsys.readouterr().err


@needs_onnx
def test_convert_bits_are_7_or_8(tmp_path, capsys):
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(np.random.default_rng(3)), str(src))
    for flag in ("--activation-bits", "--weight-bits"):
        for bad in ("6", "9"):
            with pytest.raises(SystemExit):
                convert_main([str(src), flag, bad, "-o", str(tmp_path / "x.nin")])
            assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(ConvertError, match="7 or 8"):
        quantization.quantize(nf.Graph((1, 4, 4), []), [], None, None, activation_bits=4)


@needs_onnx
def test_converter_without_the_runtime_package_is_one_line(tmp_path):
    """PNG calibration needs the nin package; when ``import nin`` fails (here a stand-in
    package that raises ImportError comes first on PYTHONPATH) the error is one line that says
    how to get it."""
    rng = np.random.default_rng(13)
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(rng, with_bn=False), str(src))
    cal = tmp_path / "cal"
    write_random_pngs(str(cal), 3, rng, 16, 16)
    fake = tmp_path / "fake" / "nin"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no nin here')\n")
    env = dict(os.environ, PYTHONPATH=f"{fake.parent}:{TOOLS}")
    run = subprocess.run([sys.executable, "-m", "nin_tools.convert", str(src), "--calibrate", str(cal),
                          "-o", str(tmp_path / "x.nin")], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "nin Python package is not importable (no nin here)" in run.stderr
    assert "PYTHONPATH=bindings/python" in run.stderr
