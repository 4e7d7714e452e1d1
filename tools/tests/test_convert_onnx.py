"""Tests of nin_tools.convert.onnx_import: supported nodes become the float graph (checked
against the ONNX reference evaluator), anything else is refused by name, and QDQ models keep
their quantization parameters."""

from __future__ import annotations

import numpy as np
import pytest

from nin_tools import float_graph as nf
from nin_tools import model_format, reference
from nin_tools.convert import ConvertError, onnx_import
from nin_tools.convert.cli import main as convert_main
from source_builders import helper, needs_onnx, numpy_helper, onnx, onnx_model, tiny_onnx


@needs_onnx
def test_onnx_import_folds_bn_like_the_unfolded_graph():
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(5)
    m = tiny_onnx(rng, with_bn=True)
    graph, qdq = onnx_import.graph_from_onnx(m)
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
    with pytest.raises(ConvertError) as e:
        onnx_import.graph_from_onnx(m)
    assert name in str(e.value) and op_type in str(e.value)
    path = tmp_path / "bad.onnx"
    onnx.save(m, str(path))
    rc = convert_main([str(path), "-o", str(tmp_path / "bad.nin"), "--quiet"])
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
    with pytest.raises(ConvertError, match="grouped.*group=2"):
        onnx_import.graph_from_onnx(m, input_shape=(8, 9, 9))


@needs_onnx
def test_reduce_mean_is_gap_and_ceil_mode_becomes_padding():
    rng = np.random.default_rng(8)
    m = tiny_onnx(rng, with_bn=False)
    for node in m.graph.node:
        if node.op_type == "GlobalAveragePool":
            node.op_type = "ReduceMean"
            node.attribute.extend([helper.make_attribute("axes", [2, 3]),
                                   helper.make_attribute("keepdims", 1)])
    graph, _ = onnx_import.graph_from_onnx(m)
    assert graph.ops[-1].op == "gap"
    pool = [op for op in graph.ops if op.op == "maxpool"][0]
    assert pool.pads == (0, 0, 1, 1)                  # 16 -> ceil(13/2)+1 = 8 windows
    assert nf.output_shapes(graph)[graph.ops.index(pool)] == (8, 8, 8)


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
    rng = np.random.default_rng(11)
    m, ((wq1, sw1), (wq2, sw2)) = _qdq_onnx(rng, act_dtype)
    graph, qdq = onnx_import.graph_from_onnx(m)
    assert [op.op for op in graph.ops] == ["conv", "relu", "conv", "relu", "gap"]
    src = tmp_path / "qdq.onnx"
    onnx.save(m, str(src))
    out = tmp_path / "qdq.nin"
    assert convert_main([str(src), "-o", str(out), "--quiet"]) == 0      # no calibration needed
    model = model_format.read(str(out))
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
    x = rng.integers(0, 256, (50, 8, 8, 1), dtype=np.uint8)
    q = np.asarray(reference.run(model, x)["logits"])
    f = nf.forward(nf.fold(graph), x, keep="last")
    assert np.max(np.abs(q - f)) < 0.03


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
    graph, _ = onnx_import.graph_from_onnx(m)
    assert [op.op for op in graph.ops] == ["conv", "relu", "gap"]
    # but the same Shape before the global pooling is refused
    bad = [helper.make_node("Shape", ["input"], ["s"], name="early_shape")] + nodes
    with pytest.raises(ConvertError, match="early_shape.*Shape"):
        onnx_import.graph_from_onnx(onnx_model(bad, {"w": w}, (1, 6, 6)))
