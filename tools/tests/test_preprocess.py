"""Tests of nin_tools.preprocess: channel conversion, the fixed-point resize and the
quantization of float input (docs/PREPROCESSING.md, docs/QUANTIZATION.md), against the
literal formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nin_tools import preprocess as P
from oracles import channels_naive


def test_resize_fast_equals_scalar():
    rng = np.random.default_rng(11)
    sizes = [(1, 1, 1, 1), (1, 1, 5, 7), (5, 7, 1, 1), (28, 28, 40, 40), (2, 3, 300, 2),
             (300, 2, 3, 1), (13, 17, 13, 17), (16, 9, 5, 3), (3, 1, 8, 1), (1, 37, 5, 9)]
    sizes += [tuple(int(v) for v in rng.integers(1, 24, 4)) for _ in range(40)]
    for h, w, oh, ow in sizes:
        c = int(rng.integers(1, 5))
        img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        fast = P.resize_u8(img, oh, ow)
        assert fast.shape == (oh, ow, c) and fast.dtype == np.uint8
        assert np.array_equal(fast, P._resize_u8_scalar(img, oh, ow)), (h, w, oh, ow, c)
        g = img[:, :, 0]
        assert np.array_equal(P.resize_u8(g, oh, ow), P._resize_u8_scalar(g, oh, ow))


def test_resize_extremes_and_identity():
    rng = np.random.default_rng(12)
    for v in (0, 255):
        img = np.full((7, 5, 3), v, np.uint8)
        assert (P.resize_u8(img, 23, 2) == v).all()
    img = rng.integers(0, 256, (19, 11, 2), dtype=np.uint8)
    assert np.array_equal(P.resize_u8(img, 19, 11), img)
    # f can reach 256 when m >= 256.
    _, _, f = P.axis_taps(7, 256)
    assert f.max() == 256
    img = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    assert np.array_equal(P.resize_u8(img, 256, 2), P._resize_u8_scalar(img, 256, 2))
    for n, m in ((1, 1), (2, 300), (28, 227), (227, 28), (5, 5)):
        R_ = P.axis_matrix(n, m)
        assert R_.shape == (m, n) and (R_.sum(axis=1) == 256).all() and (R_ >= 0).all()


def test_resize_batch_and_prepare_batch():
    rng = np.random.default_rng(13)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    out = P.resize_batch_u8(imgs, 31, 17, chunk=2)
    for i in range(5):
        assert np.array_equal(out[i], P.resize_u8(imgs[i], 31, 17))
    rgba = rng.integers(0, 256, (4, 10, 12, 4), dtype=np.uint8)
    pb = P.prepare_batch(rgba, (1, 7, 9), chunk=3)
    assert pb.shape == (4, 7, 9, 1)
    for i in range(4):
        assert np.array_equal(pb[i], P.prepare(rgba[i], (1, 7, 9)))
    pb = P.prepare_batch(imgs, (3, 8, 8))
    assert np.array_equal(pb[2], P.prepare(imgs[2], (3, 8, 8)))


def test_to_channels():
    rng = np.random.default_rng(14)
    for c in (1, 2, 3, 4):
        img = rng.integers(0, 256, (6, 9, c), dtype=np.uint8)
        for target in (1, 3):
            got = P.to_channels(img, target)
            assert got.shape == (6, 9, target) and got.dtype == np.uint8
            assert np.array_equal(got, channels_naive(img, target))
    g = rng.integers(0, 256, (4, 5), dtype=np.uint8)
    assert np.array_equal(P.to_channels(g, 1)[:, :, 0], g)
    assert np.array_equal(P.to_channels(g, 3), np.stack([g] * 3, axis=2))
    # Pillow's convert("L") values for primaries.
    prim = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]],
                    np.uint8)
    assert P.to_channels(prim, 1)[0, :, 0].tolist() == [76, 150, 29, 255, 0]
    # All 2^24 colours against the formula in Python ints would be slow; sample densely.
    rgb = rng.integers(0, 256, (1, 4096, 3), dtype=np.uint8)
    y = P.to_channels(rgb, 1)[0, :, 0]
    for (r, gg, b), v in zip(rgb[0].tolist(), y.tolist()):
        assert v == (19595 * r + 38470 * gg + 7471 * b + 32768) >> 16
    with pytest.raises(ValueError):
        P.to_channels(np.zeros((2, 2, 5), np.uint8), 1)
    with pytest.raises(ValueError):
        P.to_channels(np.zeros((2, 2, 3), np.uint8), 2)
    with pytest.raises(ValueError):
        P.to_channels(np.zeros((2, 2, 3), np.float32), 1)


def test_quantize_float_input():
    rng = np.random.default_rng(15)
    x = np.concatenate([rng.uniform(-0.2, 1.2, 2000).astype(np.float32),
                        (np.arange(256, dtype=np.float32) + np.float32(0.5)) / np.float32(255),
                        np.array([0, 1, -0.0, np.inf, -np.inf, 1e30, -1e30], np.float32)])
    q = P.quantize_float_input(x)
    for xi, qi in zip(x.tolist(), q.tolist()):
        t = np.float32(np.float32(xi) * np.float32(255)) + np.float32(0.5)
        want = int(min(max(math.floor(float(np.float32(t))), 0), 255)) if math.isfinite(t) else (
            255 if t > 0 else 0)
        assert qi == want, xi
    assert P.quantize_float_input(np.float32(1.0)) == 255
    with pytest.raises(ValueError):
        P.quantize_float_input(np.array([0.5, np.nan], np.float32))
