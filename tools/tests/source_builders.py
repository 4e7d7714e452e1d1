"""Conversion sources for the tools tests: random float ops, tiny ONNX models, PNG and IDX
calibration sets, and the PNG fixtures' locations.

The ONNX helpers need the ``onnx`` package (.ci/deps installs it); without it ``onnx`` is None
and the tests marked :data:`needs_onnx` are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import struct

import numpy as np
import pytest

from nin_tools import float_graph as nf
from nin_tools.png_write import write_png

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:          # pragma: no cover - CI installs onnx
    onnx = TensorProto = helper = numpy_helper = None

needs_onnx = pytest.mark.skipif(onnx is None, reason="onnx is not installed (pip install onnx)")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PNGSUITE = os.path.join(REPO, "Tests", "fixtures", "pngsuite")
#: gAMA 1.0 (brightened by an sRGB-converting decoder), low-bit gray with tRNS, palettes,
#: 16-bit gray/RGB/RGBA, interlaced: the kinds the old calibration decoder refused or misread.
CALIBRATION_KINDS = ["basn0g08", "basn2c08", "basn3p04", "ftbbn0g04", "basn0g16", "basn2c16",
                     "basn6a16", "ibasn4a16", "iftbbn2c16", "ftbwn3p08"]
FIXTURES = os.path.join(REPO, "Tests", "fixtures", "png")


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


def copy_pngsuite(d, names):
    os.makedirs(d, exist_ok=True)
    for n in names:
        shutil.copy(os.path.join(PNGSUITE, n + ".png"), os.path.join(d, n + ".png"))


def write_idx_u8(path, images):
    """An uncompressed IDX file of uint8 images [N, H, W] (type 0x08)."""
    images = np.asarray(images, np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, images.ndim))
        f.write(struct.pack(">" + "I" * images.ndim, *images.shape))
        f.write(images.tobytes())


def smooth_images(rng, n, h=16, w=16):
    x = rng.integers(0, 256, (n, h + 2, w + 2)).astype(np.int32)
    return ((x[:, :-2, :-2] + x[:, 1:-1, 1:-1] + x[:, 2:, 2:]) // 3).astype(np.uint8)
