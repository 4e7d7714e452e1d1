"""Tests of nin_tools.convert.quantization: narrower activations and weights
(``--activation-bits 7 --weight-bits 7``) against the 8-bit default and the float graph."""

from __future__ import annotations

import struct

import numpy as np

from nin_tools import float_graph as nf
from nin_tools import model_format, reference
from nin_tools.convert import onnx_import
from nin_tools.convert.cli import main as convert_main
from source_builders import needs_onnx, onnx, smooth_images, tiny_onnx, write_idx_u8


@needs_onnx
def test_convert_7_bit_activations_and_weights(tmp_path, capsys):
    """--activation-bits 7 --weight-bits 7: weights within +-63 (each non-zero channel
    reaching 63), +-32 on the 8-bit network input (so four products sum within int16), ReLU activations within [0, 127] in the reference's intermediate outputs
    (the bound reached), a 1.1 file that says so in META; the default stays a 1.0 file."""
    rng = np.random.default_rng(17)
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_onnx(rng, with_bn=True), str(src))
    idx = tmp_path / "cal-images-idx3-ubyte"
    write_idx_u8(idx, smooth_images(rng, 150))
    out7, out8 = tmp_path / "tiny7.nin", tmp_path / "tiny8.nin"
    assert convert_main([str(src), "--calibrate", str(idx), "--activation-bits", "7", "--weight-bits", "7",
                    "-o", str(out7)]) == 0
    assert "int8 at max" in capsys.readouterr().out
    assert convert_main([str(src), "--calibrate", str(idx), "-o", str(out8), "--quiet"]) == 0
    data7 = out7.read_bytes()
    assert struct.unpack_from("<HH", data7, 4) == (1, 1)
    assert struct.unpack_from("<HH", out8.read_bytes(), 4) == (1, 0)
    m7, m8 = model_format.from_bytes(data7), model_format.read(str(out8))
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
    x = smooth_images(rng, 60)[..., None]
    r7 = reference.run(m7, x)
    for L, y in zip(m7.layers[:-1], r7["layers"][:-1]):
        assert y.dtype == np.uint8 and int(y.max()) <= 127, L.op
    assert max(int(y.max()) for y in r7["layers"][:-1]) == 127      # the clamp is reached
    r8 = reference.run(m8, x)
    assert max(int(y.max()) for y in r8["layers"][:-1]) > 127       # 8 bits use the full range
    # Both compute the float network: the logits' error against fp32 stays a small part of
    # their span (a wrong scale, such as a/255 clamped at 127, would be far off).
    graph, _ = onnx_import.graph_from_onnx(onnx.load(str(src)))
    f = nf.forward(nf.fold(graph), nf.pixels_to_float(x), keep="last")
    span = float(f.max() - f.min())
    err7 = float(np.max(np.abs(r7["logits"] - f)))
    err8 = float(np.max(np.abs(r8["logits"] - f)))
    assert err7 < 0.05 * span and err8 < 0.05 * span
