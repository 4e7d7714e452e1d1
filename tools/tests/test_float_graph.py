"""Tests of nin_tools.float_graph: folding (batch norm, input normalization), the float
forward pass and ceil-mode pooling, against direct loops and the ONNX reference evaluator."""

from __future__ import annotations

import numpy as np
import pytest

from nin_tools import float_graph as nf
from source_builders import helper, needs_onnx, onnx_model, rand_bn, rand_conv


def test_bn_folding_matches_unfolded_forward():
    rng = np.random.default_rng(0)
    ops = [rand_conv(rng, 6, 3, 3, 1, 1), rand_bn(rng, 6), nf.Relu(),
           rand_conv(rng, 6, 6, 1), rand_bn(rng, 6), nf.Relu(),
           nf.MaxPool(3, 2, (0, 0, 1, 1)),
           rand_conv(rng, 4, 6, 3, 2, 0), rand_bn(rng, 4), nf.Relu(),
           nf.AvgPool(2, 1), nf.GlobalAvgPool()]
    g = nf.Graph((3, 13, 13), ops)
    folded = nf.fold(g)
    assert [op.op for op in folded.ops] == ["conv", "relu", "conv", "relu", "maxpool", "conv",
                                            "relu", "avgpool", "gap"]
    x = rng.random((5, 13, 13, 3), dtype=np.float32)
    a = nf.forward(g, x, keep="last")
    b = nf.forward(folded, x, keep="last")
    assert a.shape == (5, 4)
    np.testing.assert_allclose(b, a, atol=1e-4, rtol=0)
    # NCHW input gives the same result
    c = nf.forward(folded, x.transpose(0, 3, 1, 2), layout="NCHW", keep="last")
    np.testing.assert_allclose(c, b, atol=1e-6, rtol=0)


def test_normalization_folding_exact_without_padding():
    rng = np.random.default_rng(1)
    g = nf.Graph((3, 9, 9), [nf.Normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3]),
                             rand_conv(rng, 4, 3, 3), nf.Relu(), nf.GlobalAvgPool()])
    x = rng.random((3, 9, 9, 3), dtype=np.float32)
    np.testing.assert_allclose(nf.forward(nf.fold(g), x, keep="last"), nf.forward(g, x, keep="last"),
                               atol=1e-4, rtol=0)
    padded = nf.Graph((3, 9, 9), [nf.Normalize(0.5, 0.25), rand_conv(rng, 4, 3, 3, pad=1),
                                  nf.GlobalAvgPool()])
    with pytest.warns(UserWarning, match="padded"):
        nf.fold(padded)


def test_conv_forward_matches_direct_loop():
    rng = np.random.default_rng(2)
    conv = rand_conv(rng, 3, 2, 3, stride=2, pad=1)
    conv = nf.Conv(conv.weight, conv.bias, (2, 1), (1, 0, 2, 1))
    x = rng.random((2, 7, 6, 2), dtype=np.float32)
    got = nf.forward(nf.Graph((2, 7, 6), [conv]), x, keep="last")
    xp = np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0)))
    oh, ow = (7 + 3 - 3) // 2 + 1, (6 + 1 - 3) // 1 + 1
    ref = np.zeros((2, oh, ow, 3))
    for n in range(2):
        for y in range(oh):
            for xx in range(ow):
                win = xp[n, y * 2:y * 2 + 3, xx:xx + 3, :]          # kh, kw, i
                ref[n, y, xx] = np.einsum("hwi,oihw->o", win, conv.weight) + conv.bias
    np.testing.assert_allclose(got, ref, atol=1e-5)


def brute_ceil_maxpool(x, k, s, p):
    """PyTorch's ceil_mode max pooling, written out (x: H x W)."""
    h, w = x.shape

    def osize(n):
        o = -(-(n + 2 * p - k) // s) + 1
        if (o - 1) * s >= n + p:
            o -= 1
        return o
    oh, ow = osize(h), osize(w)
    out = np.empty((oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * s - p, j * s - p
            win = x[max(0, y0):min(h, y0 + k), max(0, x0):min(w, x0 + k)]
            out[i, j] = win.max()
    return out


@pytest.mark.parametrize("n,k,s,p", [(8, 3, 2, 0), (13, 3, 2, 0), (6, 3, 2, 1), (7, 2, 2, 0),
                                     (10, 3, 3, 1), (5, 3, 2, 0), (55, 3, 2, 0), (9, 4, 3, 1)])
def test_ceil_mode_maxpool_equivalence(n, k, s, p):
    rng = np.random.default_rng(n * 100 + k)
    x = rng.normal(size=(n, n)).astype(np.float32)
    extra = nf.ceil_mode_extra(n, k, s, p, p)
    assert p + extra < k                              # stays a legal .nin pad
    op = nf.MaxPool(k, s, (p, p, p + extra, p + extra))
    got = nf.forward(nf.Graph((1, n, n), [op]), x[None, :, :, None], keep="last")[0, :, :, 0]
    np.testing.assert_array_equal(got, brute_ceil_maxpool(x, k, s, p))


@needs_onnx
def test_ceil_mode_maxpool_matches_onnx_reference():
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(3)
    for n, k, s, p in [(8, 3, 2, 0), (13, 3, 2, 0), (6, 3, 2, 1), (10, 3, 3, 1)]:
        node = helper.make_node("MaxPool", ["input"], ["logits"], name="mp", kernel_shape=[k, k],
                                strides=[s, s], pads=[p] * 4, ceil_mode=1)
        m = onnx_model([node], {}, (2, n, n), out_rank=4)
        x = rng.normal(size=(1, 2, n, n)).astype(np.float32)
        want = ReferenceEvaluator(m).run(None, {"input": x})[0]
        g = nf.Graph((2, n, n), [nf.MaxPool(k, s, (p, p, p + nf.ceil_mode_extra(n, k, s, p, p),
                                                      p + nf.ceil_mode_extra(n, k, s, p, p)))])
        got = nf.forward(g, x, layout="NCHW", keep="last").transpose(0, 3, 1, 2)
        np.testing.assert_array_equal(got, want)
