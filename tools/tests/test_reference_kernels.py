"""Tests of nin_tools.reference, the integer pipeline in numpy (docs/QUANTIZATION.md): each
kernel against the plain-loop oracles, the whole run, and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from model_builders import bounded_model, conv_layer, small_model
from nin_tools import model_format as F
from nin_tools import reference as R
from oracles import conv_naive, pool_naive, random_geometry, requantize_py

TOOLS = Path(__file__).resolve().parent.parent
GOLDEN = TOOLS.parent / "Tests" / "golden"


def test_requantize_random_and_extreme():
    rng = np.random.default_rng(21)
    accs = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31 - 1), 2 ** 30, -(2 ** 30), 3, -3, 5, -5, 2 ** 24 + 1, -(2 ** 24 + 3)]
    accs += rng.integers(-(2 ** 31 - 1), 2 ** 31, 300).tolist()
    accs += rng.integers(-5000, 5000, 300).tolist()
    ms = [2 ** 30, 2 ** 31 - 1, 1518500250, 2 ** 30 + 64, 2 ** 30 + 32] + rng.integers(2 ** 30, 2 ** 31, 20).tolist()
    ns = [1, 2, 30, 31, 32, 40, 61, 62] + rng.integers(1, 63, 10).tolist()
    acc = np.array(accs, np.int64)
    for m in ms:
        for n in ns:
            for z, relu in ((0, True), (0, False), (128, False), (255, False), (37, False)):
                got = R.requantize(acc[:, None], np.array([m]), np.array([n]), z, relu)[:, 0]
                want = [requantize_py(a, m, n, z, relu) for a in accs]
                assert got.tolist() == want, (m, n, z, relu)
    # Per-channel broadcasting.
    a2 = rng.integers(-10 ** 6, 10 ** 6, (4, 3)).astype(np.int32)
    mm = np.array([2 ** 30, 2 ** 31 - 1, 1 << 30], np.int32)
    nn = np.array([20, 62, 1], np.int32)
    got = R.requantize(a2, mm, nn, 9, False)
    for i in range(4):
        for o in range(3):
            assert got[i, o] == requantize_py(int(a2[i, o]), int(mm[o]), int(nn[o]), 9, False)
    # Ties go to even: 3 * 2^30 / 2^31 = 1.5 -> 2, 5 * 2^30 / 2^31 = 2.5 -> 2, -1.5 -> -2.
    assert R.requantize(np.array([3, 5, -3]), 2 ** 30, 31, 100, False).tolist() == [102, 102, 98]
    # float32(acc) rounds: 2^24 + 1 becomes 2^24 (scale 1/2: 2^23, clamped to 255 anyway), and
    # m = 2^31 - 1 rounds up to 2^31 in float32, so the scale is exactly 2^(31-n).
    assert float(R.requantization_scale(2 ** 31 - 1, 31)) == 1.0


def test_conv_against_naive():
    rng = np.random.default_rng(31)
    for trial in range(40):
        kernel, stride, pads, h, w = random_geometry(rng)
        cin, cout, n = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
        relu = bool(trial % 2)
        L = conv_layer(rng, cin, cout, kernel, stride, pads, relu=relu,
                       zp=0 if relu else int(rng.integers(0, 256)))
        L.multiplier = rng.integers(2 ** 30, 2 ** 31, cout).astype(np.int32)
        L.shift = rng.integers(8, 20, cout).astype(np.int32)
        x = rng.integers(0, 256, (n, h, w, cin), dtype=np.uint8)
        z_in = int(rng.integers(0, 256))
        got = R.conv(x, L, z_in)
        assert np.array_equal(got, conv_naive(x, L, z_in)), trial


def test_requantize_clamps_at_output_max():
    rng = np.random.default_rng(22)
    accs = rng.integers(-(2 ** 20), 2 ** 20, 400).tolist() + [0, 1, -1, 2 ** 31 - 1, -(2 ** 31 - 1)]
    acc = np.array(accs, np.int64)
    for m, n in ((2 ** 30, 20), (1518500250, 22), (2 ** 31 - 1, 25)):
        for z, relu, qmax in ((0, True, 127), (0, True, 1), (0, False, 63), (10, False, 11),
                              (100, False, 200), (0, True, 255)):
            got = R.requantize(acc[:, None], np.array([m]), np.array([n]), z, relu, qmax)[:, 0]
            want = [requantize_py(a, m, n, z, relu, qmax) for a in accs]
            assert got.tolist() == want, (m, n, z, relu, qmax)
            assert int(got.max()) == qmax                     # the bound is reached, not passed


def test_conv_clamps_at_output_max():
    """A conv with output_max 127 against the naive loop, on data where the unclamped output
    would exceed 127 (so the clamp is exercised)."""
    rng = np.random.default_rng(35)
    for trial in range(20):
        kernel, stride, pads, h, w = random_geometry(rng)
        cin, cout = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        relu = bool(trial % 2)
        qmax = int(rng.integers(60, 200))
        zp = 0 if relu else int(rng.integers(0, qmax))
        L = conv_layer(rng, cin, cout, kernel, stride, pads, relu=relu, zp=zp)
        L.multiplier = rng.integers(2 ** 30, 2 ** 31, cout).astype(np.int32)
        L.shift = rng.integers(8, 12, cout).astype(np.int32)
        x = rng.integers(0, 256, (2, h, w, cin), dtype=np.uint8)
        wide = R.conv(x, L, 0)
        L.output_max = qmax
        got = R.conv(x, L, 0)
        assert np.array_equal(got, conv_naive(x, L, 0)), trial
        assert np.array_equal(got, np.minimum(wide, qmax)), trial
        assert int(got.max()) <= qmax
    # The run over a whole model clamps every bounded conv.
    m = bounded_model(out_max0=30, out_max3=12)
    x = rng.integers(0, 256, (3, 9, 8, 3), dtype=np.uint8)
    out = R.run(m, x)
    y0 = conv_naive(x, m.layers[0], 0)
    assert np.array_equal(out["layers"][0], y0) and int(y0.max()) == 30
    y3 = conv_naive(out["layers"][2], m.layers[3], 10)
    assert np.array_equal(out["layers"][3], y3) and int(y3.max()) == 12
    m.layers[3].output_max = 0
    assert int(conv_naive(out["layers"][2], m.layers[3], 10).max()) > 12


def test_conv_extreme_accumulator():
    # Weights all +-127, input all 255 (z_in 0), bias at the limit: acc = +-(2^31 - 1).
    k = 3 * 3 * 2
    lim = 2 ** 31 - 1 - 255 * 127 * k
    L = F.Layer(op="conv", in_channels=2, out_channels=2, kernel=(3, 3), stride=(1, 1),
                weights=np.stack([np.full((3, 3, 2), 127), np.full((3, 3, 2), -127)]
                                 ).astype(np.int8),
                bias=np.array([lim, -lim], np.int32),
                multiplier=np.array([2 ** 31 - 1, 2 ** 31 - 1], np.int32),
                shift=np.array([55, 55], np.int32), weight_scale=np.ones(2, np.float32),
                output_zero_point=100)
    x = np.full((1, 3, 3, 2), 255, np.uint8)
    acc = R.conv_acc(x, L, 0)
    assert acc.ravel().tolist() == [2 ** 31 - 1, -(2 ** 31 - 1)]
    assert R.conv(x, L, 0).ravel().tolist() == [
        requantize_py(2 ** 31 - 1, 2 ** 31 - 1, 55, 100, False),
        requantize_py(-(2 ** 31 - 1), 2 ** 31 - 1, 55, 100, False)]


def test_pools_against_naive():
    rng = np.random.default_rng(32)
    for trial in range(60):
        kernel, stride, pads, h, w = random_geometry(rng)
        c, n = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        x = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
        z_in = int(rng.integers(0, 256))
        L = F.Layer(op="maxpool", in_channels=c, out_channels=c, kernel=kernel, stride=stride,
                    pads=pads)
        assert np.array_equal(R.maxpool(x, L), pool_naive(x, L, z_in, "max")), trial
        L.op = "avgpool"
        assert np.array_equal(R.avgpool(x, L, z_in), pool_naive(x, L, z_in, "avg")), trial


def test_gap_and_logits():
    rng = np.random.default_rng(33)
    x = rng.integers(0, 256, (3, 5, 7, 4), dtype=np.uint8)
    z = 77
    s = R.gap(x, z)
    assert s.dtype == np.int32
    for b in range(3):
        for c in range(4):
            assert s[b, c] == sum(int(v) - z for v in x[b, :, :, c].ravel())
    scale = 0.0123
    lg = R.gap_logits(s, scale, 5, 7)
    assert lg.dtype == np.float32
    f = np.float32(scale) / np.float32(35)
    for b in range(3):
        for c in range(4):
            assert lg[b, c].tobytes() == (np.float32(int(s[b, c])) * f).tobytes()
    p = R.softmax(lg)
    assert p.dtype == np.float32 and np.allclose(p.sum(axis=1), 1, atol=1e-6)


def test_run_matches_kernels():
    m = small_model()
    rng = np.random.default_rng(34)
    x = rng.integers(0, 256, (2, 9, 8, 3), dtype=np.uint8)
    out = R.run(m, x)
    y0 = conv_naive(x, m.layers[0], 0)
    assert np.array_equal(out["layers"][0], y0)
    y1 = pool_naive(y0, m.layers[1], 10, "max")
    assert np.array_equal(out["layers"][1], y1)
    y2 = pool_naive(y1, m.layers[2], 10, "avg")
    assert np.array_equal(out["layers"][2], y2)
    y3 = conv_naive(y2, m.layers[3], 10)
    assert np.array_equal(out["layers"][3], y3)
    assert np.array_equal(out["sums"], R.gap(y3, 0))
    assert out["logits"].shape == (2, 3) and out["probabilities"].shape == (2, 3)
    assert np.array_equal(R.run(m, x[0])["sums"], out["sums"][:1])


def test_dequantize_helpers():
    m = small_model()
    L = m.layers[0]
    assert np.allclose(R.dequantize(np.array([10, 30], np.uint8), 0.05, 10), [0, 1.0])
    wd = R.dequantize_weights(L)
    assert wd.shape == L.weights.shape and wd.dtype == np.float32
    assert np.allclose(wd[1], L.weights[1] * L.weight_scale[1])
    bd = R.dequantize_bias(L, 1 / 255)
    assert np.allclose(bd, L.bias * (np.float32(1 / 255) * L.weight_scale))


def test_nin_ref_cli(tmp_path):
    case = GOLDEN / "net" / "classic_narrow"
    raw = tmp_path / "img.u8"
    raw.write_bytes((case / "input.u8").read_bytes())
    r = subprocess.run([sys.executable, "-m", "nin_tools.reference", str(case / "model.nin"),
                        "--raw", str(raw), "--hwc", "227", "227", "1"],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(TOOLS)))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 5
    logits = np.fromfile(case / "logits.f32", "<f4")
    assert f"logit={float(logits.max()):.6g}" in lines[0]
