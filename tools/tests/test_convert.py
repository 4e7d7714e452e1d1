"""Tests of the float graph, the converter and the PNG codec (no torch needed).

Run: python -m pytest tools/tests/test_convert.py
The ONNX tests need the ``onnx`` package (pip install onnx) and are skipped without it.
"""

from __future__ import annotations

import os
import struct
import sys
import zlib

import numpy as np
import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOOLS)

import nin_float as nf  # noqa: E402
import nin_convert as nc  # noqa: E402
from png_read import PNGError, decode_png, read_png  # noqa: E402
from png_write import encode_png, write_png  # noqa: E402

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    HAVE_ONNX = True
except ImportError:          # pragma: no cover - CI installs onnx
    HAVE_ONNX = False

needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="onnx is not installed (pip install onnx)")


# --------------------------------------------------------------------------- helpers


def rand_conv(rng, o, i, k, stride=1, pad=0, name="conv", scale=None):
    fan_in = i * k * k
    w = rng.normal(0, scale or np.sqrt(2.0 / fan_in), (o, i, k, k)).astype(np.float32)
    b = rng.normal(0, 0.1, o).astype(np.float32)
    return nf.Conv(w, b, (stride, stride), (pad, pad, pad, pad), name=name)


def rand_bn(rng, c, name="bn"):
    return nf.BatchNorm(rng.uniform(0.5, 1.5, c), rng.normal(0, 0.2, c), rng.normal(0, 0.3, c),
                        rng.uniform(0.3, 2.0, c), 1e-5, name=name)


def onnx_model(nodes, inits, in_shape, opset=17, out_name="logits", out_rank=2):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, *in_shape])
    y = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [None] * out_rank)
    g = helper.make_graph(nodes, "tiny_nin", [x], [y],
                          initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def tiny_onnx(rng, with_bn=True, ceil_mode=1, extra=None):
    """input 1x16x16 -> conv3 pad1 (8) [BN] relu -> conv1x1 relu -> maxpool 3/2 (ceil)
    -> conv3 pad1 (5) relu -> GAP -> flatten.  ``extra``: a node inserted after the maxpool."""
    inits = {}
    nodes = []

    def conv(name, x, y, o, i, k, pad):
        w = rng.normal(0, np.sqrt(2.0 / (i * k * k)), (o, i, k, k)).astype(np.float32)
        inits[name + ".w"] = w
        inits[name + ".b"] = rng.normal(0, 0.1, o).astype(np.float32)
        nodes.append(helper.make_node("Conv", [x, name + ".w", name + ".b"], [y], name=name,
                                      kernel_shape=[k, k], pads=[pad] * 4, strides=[1, 1]))

    conv("c1", "input", "c1o", 8, 1, 3, 1)
    t = "c1o"
    if with_bn:
        for p, v in (("g", rng.uniform(0.5, 1.5, 8)), ("be", rng.normal(0, 0.2, 8)),
                     ("m", rng.normal(0, 0.3, 8)), ("v", rng.uniform(0.3, 2.0, 8))):
            inits["bn1." + p] = v.astype(np.float32)
        nodes.append(helper.make_node("BatchNormalization", ["c1o", "bn1.g", "bn1.be", "bn1.m", "bn1.v"],
                                      ["bn1o"], name="bn1", epsilon=1e-5))
        t = "bn1o"
    nodes.append(helper.make_node("Relu", [t], ["r1"], name="relu1"))
    conv("c2", "r1", "c2o", 8, 8, 1, 0)
    nodes.append(helper.make_node("Relu", ["c2o"], ["r2"], name="relu2"))
    nodes.append(helper.make_node("Dropout", ["r2"], ["d2"], name="drop"))
    nodes.append(helper.make_node("MaxPool", ["d2"], ["p2"], name="pool", kernel_shape=[3, 3],
                                  strides=[2, 2], ceil_mode=ceil_mode))
    t = "p2"
    if extra is not None:
        nodes.append(extra)
        t = extra.output[0]
    conv("c3", t, "c3o", 5, 8, 3, 1)
    nodes.append(helper.make_node("Relu", ["c3o"], ["r3"], name="relu3"))
    nodes.append(helper.make_node("GlobalAveragePool", ["r3"], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["logits"], name="flat"))
    return onnx_model(nodes, inits, (1, 16, 16))


def write_random_pngs(d, n, rng, h=15, w=15, smooth=True):
    """Random images with some structure (blurred noise), mixed colour types."""
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        img = rng.integers(0, 256, (h + 4, w + 4)).astype(np.float32)
        if smooth:
            img = (img[:-4, :-4] + img[2:-2, 2:-2] + img[4:, 4:] + img[2:-2, :-4]) / 4
        img = np.clip((img - 128) * 2 + 128, 0, 255).astype(np.uint8)
        if i % 3 == 1:
            img = np.stack([img, img // 2, 255 - img], axis=2)       # RGB: goes through luma
        write_png(os.path.join(d, f"img_{i:03d}.png"), img)


# --------------------------------------------------------------------------- float graph


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


def test_percentile_tracker_is_numpy_percentile():
    rng = np.random.default_rng(4)
    data = [rng.gamma(2.0, size=s).astype(np.float32) for s in (5000, 12345, 777, 30000)]
    allv = np.concatenate(data)
    for q in (99.999, 99.9, 100.0):
        k = nc.topk_for(allv.size, q)
        hi, lo = nc._TopK(k, True), nc._TopK(k, False)
        for d in data:
            hi.add(d)
            lo.add(-d)
        assert hi.percentile(q) == pytest.approx(float(np.percentile(allv, q)), rel=1e-6)
        assert lo.percentile(q) == pytest.approx(float(np.percentile(-allv, 100 - q)), rel=1e-6)
        assert k < allv.size // 10 or q < 99.99


# --------------------------------------------------------------------------- ONNX import


@needs_onnx
def test_onnx_import_folds_bn_like_the_unfolded_graph():
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(5)
    m = tiny_onnx(rng, with_bn=True)
    graph, qdq = nc.graph_from_onnx(m)
    assert not qdq
    assert [op.op for op in graph.ops] == ["conv", "batchnorm", "relu", "conv", "relu", "maxpool",
                                           "conv", "relu", "gap"]
    x = rng.random((4, 1, 16, 16), dtype=np.float32)
    unfolded = nf.forward(graph, x, layout="NCHW", keep="last")
    folded = nf.forward(nf.fold(graph), x, layout="NCHW", keep="last")
    np.testing.assert_allclose(folded, unfolded, atol=1e-4, rtol=0)
    # and both are what the ONNX reference evaluator computes
    ref = np.concatenate([ReferenceEvaluator(m).run(None, {"input": x[i:i + 1]})[0] for i in range(4)])
    np.testing.assert_allclose(unfolded, ref, atol=1e-4, rtol=0)


@needs_onnx
@pytest.mark.parametrize("bad", [
    ("Sigmoid", "my_sigmoid", {}),
    ("LeakyRelu", "leaky_1", {"alpha": 0.1}),
])
def test_unsupported_node_is_refused_by_name(bad, tmp_path, capsys):
    op_type, name, attrs = bad
    rng = np.random.default_rng(6)
    node = helper.make_node(op_type, ["p2"], ["p2x"], name=name, **attrs)
    m = tiny_onnx(rng, extra=node)
    with pytest.raises(nc.ConvertError) as e:
        nc.graph_from_onnx(m)
    assert name in str(e.value) and op_type in str(e.value)
    path = tmp_path / "bad.onnx"
    onnx.save(m, str(path))
    rc = nc.main([str(path), "-o", str(tmp_path / "bad.nin"), "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert name in err and op_type in err
    assert not (tmp_path / "bad.nin").exists()


@needs_onnx
def test_grouped_conv_is_refused():
    rng = np.random.default_rng(7)
    w = rng.normal(size=(8, 4, 3, 3)).astype(np.float32)
    node = helper.make_node("Conv", ["input", "w"], ["c"], name="grouped", group=2, kernel_shape=[3, 3])
    gap = helper.make_node("GlobalAveragePool", ["c"], ["logits"], name="gap")
    m = onnx_model([node, gap], {"w": w}, (8, 9, 9), out_rank=4)
    with pytest.raises(nc.ConvertError, match="grouped.*group=2"):
        nc.graph_from_onnx(m, input_shape=(8, 9, 9))


@needs_onnx
def test_reduce_mean_is_gap_and_ceil_mode_becomes_padding():
    rng = np.random.default_rng(8)
    m = tiny_onnx(rng, with_bn=False)
    for node in m.graph.node:
        if node.op_type == "GlobalAveragePool":
            node.op_type = "ReduceMean"
            node.attribute.extend([helper.make_attribute("axes", [2, 3]),
                                   helper.make_attribute("keepdims", 1)])
    graph, _ = nc.graph_from_onnx(m)
    assert graph.ops[-1].op == "gap"
    pool = [op for op in graph.ops if op.op == "maxpool"][0]
    assert pool.pads == (0, 0, 1, 1)                  # 16 -> ceil(13/2)+1 = 8 windows
    assert nf.output_shapes(graph)[graph.ops.index(pool)] == (8, 8, 8)


# --------------------------------------------------------------------------- whole conversion


def _agreement(model, graph, x_u8):
    import nin_ref
    q = np.asarray(nin_ref.run(model, x_u8)["logits"], np.float32)
    f = nf.forward(graph, nf.pixels_to_float(x_u8), keep="last")
    return q, f


@needs_onnx
def test_convert_onnx_with_png_calibration(tmp_path, capsys):
    import nin_format
    rng = np.random.default_rng(9)
    m = tiny_onnx(rng, with_bn=True)
    src = tmp_path / "tiny.onnx"
    onnx.save(m, str(src))
    cal = tmp_path / "cal"
    write_random_pngs(str(cal), 120, rng, 16, 16)
    out = tmp_path / "tiny.nin"
    rc = nc.main([str(src), "--calibrate", str(cal), "--name", "tiny", "--meta", "description=test",
                  "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "top-1 agreement" in text and "p99.999" in text
    model = nin_format.read(str(out))
    assert [L.op for L in model.layers] == ["conv", "conv", "maxpool", "conv", "gap"]
    assert all(L.relu for L in model.layers if L.op == "conv")
    assert model.layers[2].pads == (0, 0, 1, 1)
    assert model.labels == [f"class_{i}" for i in range(5)]
    assert model.metadata["name"] == "tiny" and model.metadata["description"] == "test"
    assert model.metadata["source"] == "tiny.onnx" and "converter" in model.metadata
    assert "120 PNG images" in model.metadata["calibration"]

    # int8 (nin_ref) against the fp32 forward on fresh images
    graph, _ = nc.graph_from_onnx(m)
    folded = nf.fold(graph)
    x = rng.integers(0, 256, (200, 16, 16, 1), dtype=np.uint8)
    x = np.clip((x.astype(np.int32) + np.roll(x, 1, axis=1) + np.roll(x, 1, axis=2)) // 3, 0, 255).astype(np.uint8)
    q, f = _agreement(model, folded, x)
    span = float(f.max() - f.min())
    assert np.max(np.abs(q - f)) < 0.05 * span + 1e-6
    assert np.mean(np.argmax(q, 1) == np.argmax(f, 1)) >= 0.9


PNGSUITE = os.path.join(os.path.dirname(TOOLS), "Tests", "fixtures", "pngsuite")
#: gAMA 1.0 (brightened by an sRGB-converting decoder), low-bit gray with tRNS, palettes,
#: 16-bit gray/RGB/RGBA, interlaced: the kinds the old calibration decoder refused or misread.
CALIBRATION_KINDS = ["basn0g08", "basn2c08", "basn3p04", "ftbbn0g04", "basn0g16", "basn2c16",
                     "basn6a16", "ibasn4a16", "iftbbn2c16", "ftbwn3p08"]


def _copy_pngsuite(d, names):
    import shutil
    os.makedirs(d, exist_ok=True)
    for n in names:
        shutil.copy(os.path.join(PNGSUITE, n + ".png"), os.path.join(d, n + ".png"))


@pytest.mark.parametrize("shape", [(1, 16, 16), (3, 20, 24)])
def test_png_calibration_sees_the_stored_samples(tmp_path, shape):
    """Calibration decodes PNGs with the runtime's decoder: every PngSuite kind (16-bit and
    interlaced included) gives the model input that Pillow's samples give
    (Tests/fixtures/pngsuite/expected, tools/make_pngsuite_expected.py)."""
    import nin_preprocess
    cal = str(tmp_path / "cal")
    _copy_pngsuite(cal, CALIBRATION_KINDS)
    x, labels, desc, _ = nc.load_calibration(cal, 100, shape)
    assert labels is None and f"{len(CALIBRATION_KINDS)} PNG images" in desc
    for i, name in enumerate(sorted(CALIBRATION_KINDS)):
        want = np.load(os.path.join(PNGSUITE, "expected", name + ".npy"))
        np.testing.assert_array_equal(x[i], nin_preprocess.prepare(want, shape).reshape(x[i].shape),
                                      err_msg=name)


def _run_converter(args, env=None):
    import subprocess
    return subprocess.run([sys.executable, os.path.join(TOOLS, "nin_convert.py"), *args],
                          capture_output=True, text=True, env=env, timeout=300)


@needs_onnx
def test_converter_png_errors_are_one_line(tmp_path):
    """A corrupt or non-PNG calibration file, or a missing libnin.so, stops the converter with
    one line on stderr and exit status 1, not a traceback; 16-bit PNGs calibrate."""
    rng = np.random.default_rng(12)
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(rng, with_bn=False), str(src))
    good = str(tmp_path / "good")
    _copy_pngsuite(good, CALIBRATION_KINDS)
    run = _run_converter([str(src), "--calibrate", good, "-o", str(tmp_path / "ok.nin"), "--quiet"])
    assert run.returncode == 0, run.stderr
    with open(os.path.join(FIXTURES, "bad", "corrupt_idat.png"), "rb") as f:
        corrupt = f.read()
    for bad_name, data in (("corrupt.png", corrupt), ("text.png", b"not a PNG at all\n" * 8)):
        bad = tmp_path / ("bad_" + bad_name)
        _copy_pngsuite(str(bad), ["basn0g08"])
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
    assert nc.main([str(src), "-o", str(tmp_path / "x.nin")]) == 1
    assert "--calibrate" in capsys.readouterr().err


def _write_idx_u8(path, images):
    """An uncompressed IDX file of uint8 images [N, H, W] (type 0x08)."""
    images = np.asarray(images, np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, images.ndim))
        f.write(struct.pack(">" + "I" * images.ndim, *images.shape))
        f.write(images.tobytes())


def _smooth_images(rng, n, h=16, w=16):
    x = rng.integers(0, 256, (n, h + 2, w + 2)).astype(np.int32)
    return ((x[:, :-2, :-2] + x[:, 1:-1, 1:-1] + x[:, 2:, 2:]) // 3).astype(np.uint8)


@needs_onnx
def test_convert_7_bit_activations_and_weights(tmp_path, capsys):
    """--activation-bits 7 --weight-bits 7: weights within +-63 (each non-zero channel
    reaching 63), +-32 on the 8-bit network input (so four products sum within int16), ReLU activations within [0, 127] in the reference's intermediate outputs
    (the bound reached), a 1.1 file that says so in META; the default stays a 1.0 file."""
    import nin_format
    import nin_ref
    rng = np.random.default_rng(17)
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(rng, with_bn=True), str(src))
    idx = tmp_path / "cal-images-idx3-ubyte"
    _write_idx_u8(idx, _smooth_images(rng, 150))
    out7, out8 = tmp_path / "tiny7.nin", tmp_path / "tiny8.nin"
    assert nc.main([str(src), "--calibrate", str(idx), "--activation-bits", "7", "--weight-bits", "7",
                    "-o", str(out7)]) == 0
    assert "int8 at max" in capsys.readouterr().out
    assert nc.main([str(src), "--calibrate", str(idx), "-o", str(out8), "--quiet"]) == 0
    data7 = out7.read_bytes()
    assert struct.unpack_from("<HH", data7, 4) == (1, 1)
    assert struct.unpack_from("<HH", out8.read_bytes(), 4) == (1, 0)
    m7, m8 = nin_format.from_bytes(data7), nin_format.read(str(out8))
    assert "quantization" not in m8.metadata
    assert m7.metadata["quantization"] == ("activations 7-bit (ReLU outputs in [0, 127]); "
                                           "weights 7-bit (in [-63, 63]; [-32, 32] on the 8-bit network input)")
    convs7 = [L for L in m7.layers if L.op == "conv"]
    assert len(convs7) == 3 and all(L.relu for L in convs7)
    assert [(L.output_max, L.weight_max) for L in m7.layers] == [(127, 32), (127, 63), (0, 0),
                                                                 (127, 63), (0, 0)]
    assert all((L.output_max, L.weight_max) == (0, 0) for L in m8.layers)
    for L7, L8, bound in zip(convs7, (L for L in m8.layers if L.op == "conv"), (32, 63, 63)):
        per_channel = np.abs(L7.weights.astype(np.int32)).reshape(L7.out_channels, -1).max(axis=1)
        assert per_channel.tolist() == [bound] * L7.out_channels
        assert int(np.abs(L8.weights.astype(np.int32)).max()) == 127
        # The same float weights at scale max|w|/bound instead of max|w|/127.
        np.testing.assert_allclose(L7.weight_scale * bound, L8.weight_scale * 127, rtol=1e-6)
    # The 7-bit activation scale is a/127 for the same calibrated a (= 255 * the 8-bit scale).
    np.testing.assert_allclose([L.output_scale * 127 for L in convs7],
                               [L.output_scale * 255 for L in m8.layers if L.op == "conv"], rtol=1e-6)
    x = _smooth_images(rng, 60)[..., None]
    r7 = nin_ref.run(m7, x)
    for L, y in zip(m7.layers[:-1], r7["layers"][:-1]):
        assert y.dtype == np.uint8 and int(y.max()) <= 127, L.op
    assert max(int(y.max()) for y in r7["layers"][:-1]) == 127      # the clamp is reached
    r8 = nin_ref.run(m8, x)
    assert max(int(y.max()) for y in r8["layers"][:-1]) > 127       # 8 bits use the full range
    # Both compute the float network: the logits' error against fp32 stays a small part of
    # their span (a wrong scale, such as a/255 clamped at 127, would be far off).
    graph, _ = nc.graph_from_onnx(onnx.load(str(src)))
    f = nf.forward(nf.fold(graph), nf.pixels_to_float(x), keep="last")
    span = float(f.max() - f.min())
    err7 = float(np.max(np.abs(r7["logits"] - f)))
    err8 = float(np.max(np.abs(r8["logits"] - f)))
    assert err7 < 0.05 * span and err8 < 0.05 * span


@needs_onnx
def test_convert_bits_are_7_or_8(tmp_path, capsys):
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(np.random.default_rng(3)), str(src))
    for flag in ("--activation-bits", "--weight-bits"):
        for bad in ("6", "9"):
            with pytest.raises(SystemExit):
                nc.main([str(src), flag, bad, "-o", str(tmp_path / "x.nin")])
            assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(nc.ConvertError, match="7 or 8"):
        nc.quantize(nf.Graph((1, 4, 4), []), [], None, None, activation_bits=4)


def _qdq_onnx(rng, act_dtype=np.uint8):
    """A hand-made QDQ model in onnxruntime's style: int8 symmetric per-channel weights,
    int32 biases, uint8 or int8 activations, the ReLU of the first conv folded into its Q/DQ
    (zero point at the type's minimum), the second one kept as a node."""
    inits, nodes = {}, []
    zmin = int(np.iinfo(act_dtype).min)

    def qdq_act(x, y, scale, zp, tag):
        inits[tag + ".s"] = np.float32(scale)
        inits[tag + ".z"] = np.array(zp + zmin, act_dtype)
        nodes.append(helper.make_node("QuantizeLinear", [x, tag + ".s", tag + ".z"], [tag + ".q"], name=tag + "_q"))
        nodes.append(helper.make_node("DequantizeLinear", [tag + ".q", tag + ".s", tag + ".z"], [y], name=tag + "_dq"))

    def conv(tag, x, y, o, i, k, pad, s_in):
        w = rng.normal(0, np.sqrt(2.0 / (i * k * k)), (o, i, k, k))
        sw = np.abs(w).reshape(o, -1).max(1) / 127
        wq = np.clip(np.rint(w / sw[:, None, None, None]), -127, 127).astype(np.int8)
        b = rng.normal(0, 0.1, o)
        inits[tag + ".wq"] = wq
        inits[tag + ".ws"] = sw.astype(np.float32)
        inits[tag + ".wz"] = np.zeros(o, np.int8)
        inits[tag + ".bq"] = np.rint(b / (s_in * sw)).astype(np.int32)
        inits[tag + ".bs"] = (s_in * sw).astype(np.float32)
        inits[tag + ".bz"] = np.zeros(o, np.int32)
        nodes.append(helper.make_node("DequantizeLinear", [tag + ".wq", tag + ".ws", tag + ".wz"], [tag + ".w"],
                                      name=tag + "_wdq", axis=0))
        nodes.append(helper.make_node("DequantizeLinear", [tag + ".bq", tag + ".bs", tag + ".bz"], [tag + ".b"],
                                      name=tag + "_bdq", axis=0))
        nodes.append(helper.make_node("Conv", [x, tag + ".w", tag + ".b"], [y], name=tag,
                                      kernel_shape=[k, k], pads=[pad] * 4))
        return wq, sw

    qdq_act("input", "x0", 1 / 255, 0, "in")
    w1 = conv("c1", "x0", "c1o", 6, 1, 3, 1, 1 / 255)
    qdq_act("c1o", "a1", 0.02, 0, "a1")                 # ReLU folded into this Q/DQ
    w2 = conv("c2", "a1", "c2o", 4, 6, 1, 0, 0.02)
    nodes.append(helper.make_node("Relu", ["c2o"], ["r2"], name="relu2"))
    qdq_act("r2", "a2", 0.03, 0, "a2")
    nodes.append(helper.make_node("GlobalAveragePool", ["a2"], ["logits"], name="gap"))
    return onnx_model(nodes, inits, (1, 8, 8), out_rank=4), (w1, w2)


@needs_onnx
@pytest.mark.parametrize("act_dtype", [np.uint8, np.int8])
def test_qdq_model_scales_taken_as_they_are(act_dtype, tmp_path):
    import nin_format
    rng = np.random.default_rng(11)
    m, ((wq1, sw1), (wq2, sw2)) = _qdq_onnx(rng, act_dtype)
    graph, qdq = nc.graph_from_onnx(m)
    assert [op.op for op in graph.ops] == ["conv", "relu", "conv", "relu", "gap"]
    src = tmp_path / "qdq.onnx"
    onnx.save(m, str(src))
    out = tmp_path / "qdq.nin"
    assert nc.main([str(src), "-o", str(out), "--quiet"]) == 0      # no calibration needed
    model = nin_format.read(str(out))
    c1, c2 = model.layers[0], model.layers[1]
    assert c1.relu and c2.relu
    assert c1.output_zero_point == 0 and c2.output_zero_point == 0
    assert np.float32(c1.output_scale) == np.float32(0.02)
    assert np.float32(c2.output_scale) == np.float32(0.03)
    np.testing.assert_array_equal(c1.weights, wq1.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(c2.weights, wq2.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(c1.weight_scale, sw1.astype(np.float32))
    assert "2 activation scale(s) and 2 weight set(s) taken from the QDQ model" in model.metadata["calibration"]
    # the integer model computes what the dequantized float graph computes
    import nin_ref
    x = rng.integers(0, 256, (50, 8, 8, 1), dtype=np.uint8)
    q = np.asarray(nin_ref.run(model, x)["logits"])
    f = nf.forward(nf.fold(graph), x, keep="last")
    assert np.max(np.abs(q - f)) < 0.03


# --------------------------------------------------------------------------- state_dict (numpy, no torch)


def _seed_state_dict(rng, arch, bn):
    sd = {}
    c = arch["input"][0]
    for i, L in enumerate(arch["layers"]):
        if L["type"] != "nin_block":
            continue
        o, k = L["out"], L["kernel"]
        step = 3 if bn else 2
        for j in range(3):
            ci = j * step
            shape = (o, c, k, k) if j == 0 else (o, o, 1, 1)
            sd[f"network.{i}.{ci}.weight"] = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape).astype(np.float32)
            sd[f"network.{i}.{ci}.bias"] = rng.normal(0, 0.05, o).astype(np.float32)
            if bn:
                p = f"network.{i}.{ci + 1}"
                sd[p + ".weight"] = rng.uniform(0.5, 1.5, o).astype(np.float32)
                sd[p + ".bias"] = rng.normal(0, 0.1, o).astype(np.float32)
                sd[p + ".running_mean"] = rng.normal(0, 0.2, o).astype(np.float32)
                sd[p + ".running_var"] = rng.uniform(0.5, 2, o).astype(np.float32)
                sd[p + ".num_batches_tracked"] = np.array(10)
        c = o
    return sd


SMALL_ARCH = {"name": "t", "input": [1, 12, 12], "layers": [
    {"type": "nin_block", "out": 6, "kernel": 3, "stride": 1, "padding": 1},
    {"type": "dropout"},
    {"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True},
    {"type": "nin_block", "out": 3, "kernel": 3, "stride": 1, "padding": 1},
    {"type": "gap"}]}


@pytest.mark.parametrize("bn", [True, False])
def test_state_dict_layout(bn):
    rng = np.random.default_rng(12)
    sd = _seed_state_dict(rng, SMALL_ARCH, bn)
    g = nc.graph_from_state_dict(sd, SMALL_ARCH)
    kinds = [op.op for op in g.ops]
    assert kinds.count("conv") == 6 and kinds.count("batchnorm") == (6 if bn else 0)
    assert g.ops[[op.op for op in g.ops].index("maxpool")].pads == (0, 0, 1, 1)   # 12 -> 6 with ceil
    assert nf.output_shapes(g)[-1] == (3,)
    bad = dict(sd)
    bad["network.3.0.weight"] = bad["network.3.0.weight"][:, :, :2, :2]
    with pytest.raises(nc.ConvertError, match=r"network\.3\.0\.weight"):
        nc.graph_from_state_dict(bad, SMALL_ARCH)
    missing = dict(sd)
    del missing[f"network.0.{3 if bn else 2}.weight"]
    with pytest.raises(nc.ConvertError, match=f"network.0.{3 if bn else 2}.weight"):
        nc.graph_from_state_dict(missing, SMALL_ARCH)
    extra = dict(sd)
    extra["network.5.0.weight"] = np.zeros(3, np.float32)
    with pytest.raises(nc.ConvertError, match=r"network\.5\.0\.weight"):
        nc.graph_from_state_dict(extra, SMALL_ARCH)


def test_classic_topology_is_checked_against_the_weights():
    arch = nc.classic_arch({"network.0.0.weight": np.zeros((96, 1, 11, 11), np.float32),
                            "network.0.4.weight": 0, "network.3.0.weight": np.zeros((256, 96, 5, 5)),
                            "network.3.4.weight": 0, "network.6.0.weight": np.zeros((384, 256, 3, 3)),
                            "network.6.4.weight": 0, "network.9.0.weight": np.zeros((10, 384, 3, 3)),
                            "network.9.4.weight": 0})
    assert arch["input"] == [1, 227, 227] and len(arch["layers"]) == 11
    sd = {"network.0.0.weight": np.zeros((96, 1, 7, 7), np.float32)}
    with pytest.raises(nc.ConvertError, match=r"network\.0\.0\.weight.*11x11"):
        nc.graph_from_state_dict(sd, None)


# --------------------------------------------------------------------------- PNG


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_png_round_trip(channels, filter_type, tmp_path):
    rng = np.random.default_rng(channels * 10 + filter_type)
    img = rng.integers(0, 256, (11, 17, channels), dtype=np.uint8)
    img[3:6] = np.cumsum(img[3:6], axis=1, dtype=np.uint8)      # some smooth rows
    data = encode_png(img if channels > 1 else img[:, :, 0], filter_type=filter_type)
    np.testing.assert_array_equal(decode_png(data), img)
    p = tmp_path / "x.png"
    write_png(str(p), img, filter_type=filter_type)
    np.testing.assert_array_equal(read_png(str(p)), img)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("alpha", [False, True])
def test_png_palette_round_trip(bits, alpha):
    rng = np.random.default_rng(bits)
    n = min(256, 1 << bits)
    pal = rng.integers(0, 256, (n, 4 if alpha else 3), dtype=np.uint8)
    idx = rng.integers(0, n, (9, 13), dtype=np.uint8)
    for f in (0, 4):
        got = decode_png(encode_png(idx, palette=pal, bit_depth=bits, filter_type=f))
        assert got.shape == (9, 13, 4 if alpha else 3)
        np.testing.assert_array_equal(got, pal[idx])


def _png_with_header(width, height, depth, color, interlace=0, raw=b""):
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_png_refusals():
    with pytest.raises(PNGError, match="16-bit"):
        decode_png(_png_with_header(2, 2, 16, 2, raw=b"\0" * (1 + 12) * 2))
    with pytest.raises(PNGError, match="interlaced"):
        decode_png(_png_with_header(2, 2, 8, 0, interlace=1, raw=b"\0" * 6))
    with pytest.raises(PNGError, match="4-bit gray"):
        decode_png(_png_with_header(2, 2, 4, 0, raw=b"\0\0" * 2))
    with pytest.raises(PNGError, match="signature"):
        decode_png(b"GIF89a....")
    good = encode_png(np.zeros((3, 3), np.uint8))
    corrupt = bytearray(good)
    corrupt[40] ^= 0xFF
    with pytest.raises(PNGError):
        decode_png(bytes(corrupt))
    with pytest.raises(PNGError, match="truncated"):
        decode_png(good[:-20])


@needs_onnx
def test_dynamic_batch_flatten_after_gap_is_dropped():
    """``out.view(out.shape[0], -1)`` with a dynamic batch exports as Shape/Gather/Unsqueeze/
    Concat/Reshape after the global pooling (the seed's forward)."""
    rng = np.random.default_rng(14)
    w = rng.normal(size=(3, 1, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Shape", ["g"], ["shp"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="k0", value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Gather", ["shp", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Constant", [], ["ax"], name="k1", value=numpy_helper.from_array(np.array([0], np.int64))),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"], name="unsq"),
        helper.make_node("Constant", [], ["m1"], name="k2", value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "m1"], ["newshape"], name="concat", axis=0),
        helper.make_node("Reshape", ["g", "newshape"], ["logits"], name="reshape"),
    ]
    m = onnx_model(nodes, {"w": w}, (1, 6, 6))
    graph, _ = nc.graph_from_onnx(m)
    assert [op.op for op in graph.ops] == ["conv", "relu", "gap"]
    # but the same Shape before the global pooling is refused
    bad = [helper.make_node("Shape", ["input"], ["s"], name="early_shape")] + nodes
    with pytest.raises(nc.ConvertError, match="early_shape.*Shape"):
        nc.graph_from_onnx(onnx_model(bad, {"w": w}, (1, 6, 6)))


FIXTURES = os.path.join(os.path.dirname(TOOLS), "Tests", "fixtures", "png")


def _fixture_names():
    if not os.path.isdir(FIXTURES):
        return []
    return sorted(n[:-4] for n in os.listdir(FIXTURES) if n.endswith(".png"))


@pytest.mark.skipif(not _fixture_names(), reason="Tests/fixtures/png not present")
@pytest.mark.parametrize("name", _fixture_names() or ["none"])
def test_png_fixtures_from_the_independent_encoder(name):
    """Tests/fixtures/png (tools/make_png_fixtures.py, another encoder): every supported
    kind decodes to the expected pixels; 16-bit, gray below 8 bits and interlaced files
    are refused with a PNGError."""
    with open(os.path.join(FIXTURES, name + ".png"), "rb") as f:
        data = f.read()
    supported = ("interlaced" not in name and not name.endswith("_16")
                 and (name.endswith("_8") or name.startswith("palette_")))
    if not supported:
        with pytest.raises(PNGError):
            decode_png(data)
        return
    with open(os.path.join(FIXTURES, name + ".expected"), "rb") as f:
        header = f.readline().split()
        w, h, c = (int(v) for v in header)
        want = np.frombuffer(f.read(), np.uint8).reshape(h, w, c)
    np.testing.assert_array_equal(decode_png(data), want)


@pytest.mark.skipif(not os.path.isdir(os.path.join(FIXTURES, "bad")), reason="no bad PNG fixtures")
def test_png_bad_fixtures_are_refused():
    bad = os.path.join(FIXTURES, "bad")
    for n in sorted(os.listdir(bad)):
        with pytest.raises(PNGError):
            read_png(os.path.join(bad, n))
