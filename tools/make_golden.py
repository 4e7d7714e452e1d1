"""Regenerate every golden test vector under Tests/golden/ (layout: Tests/golden/README.md).

    python tools/make_golden.py [--out DIR]

Deterministic: fixed seeds, integer arithmetic, and float calibration built only from IEEE
basic operations (no BLAS in anything that decides a stored byte except exact integer
products).  ``tools/tests/test_golden.py`` regenerates into a temporary directory and
compares every byte with Tests/golden, so drift is a test failure.

Writes:
- ``net/<case>/``        model.nin, input.u8, layer_<i>.bin, logits.f32, shapes.txt
- ``preprocess/<case>/`` image.u8, image.txt, target.txt, prepared.u8
- ``shipped/<model>/``   only when models/*.nin and examples/images/*.png exist (decoded by
                         nin_tools.png_read); skipped with a note otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

from nin_tools import model_format as F
from nin_tools import preprocess as P
from nin_tools import reference as R
from nin_tools.png_read import read_png

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "Tests" / "golden"
GENERATED_DIRS = ("net", "bounds", "preprocess", "shipped")


# --------------------------------------------------------------------------------------------
# Building calibrated random networks
# --------------------------------------------------------------------------------------------

class NetBuilder:
    """Builds a Model layer by layer, calibrating each conv on the running activations."""

    def __init__(self, rng: np.random.Generator, x: np.ndarray, input_scale: float,
                 input_zero_point: int):
        self.rng = rng
        self.input = x
        self.x = x
        self.input_scale = float(np.float32(input_scale))
        self.scale = np.float32(input_scale)
        self.zp = int(input_zero_point)
        self.input_zero_point = int(input_zero_point)
        self.layers: list[F.Layer] = []
        self.outs: list[np.ndarray] = []
        self.bound = 255                 # the largest value the current activations can hold

    # -- conv ----------------------------------------------------------------------------
    def conv(self, out_c, kernel, stride=(1, 1), pads=(0, 0, 0, 0), relu=True,
             bias_frac=0.3, pct=99.9, z_out=None, output_max=0, weight_max=0):
        """A calibrated conv; ``output_max``/``weight_max`` (format 1.1, 0 = 255/127) narrow
        its output range and its weights."""
        rng = self.rng
        kh, kw = kernel
        cin = self.x.shape[3]
        fan_in = kh * kw * cin
        wmax = weight_max or 127
        qmax = output_max or 255
        wf = rng.standard_normal((out_c, kh, kw, cin))
        amax = np.abs(wf).reshape(out_c, -1).max(axis=1)
        wq = np.clip(np.rint(wf * (float(wmax) / amax)[:, None, None, None]), -wmax, wmax).astype(np.int8)
        gain = 1.0 / np.sqrt(float(fan_in))
        sw = (amax * gain / float(wmax)).astype(np.float32)
        layer = F.Layer(op="conv", in_channels=cin, out_channels=out_c, kernel=(kh, kw),
                        stride=tuple(stride), pads=tuple(pads), relu=relu,
                        output_max=output_max, weight_max=weight_max,
                        weights=wq, bias=np.zeros(out_c, np.int32),
                        multiplier=np.full(out_c, 1 << 30, np.int32),
                        shift=np.full(out_c, 31, np.int32), weight_scale=sw)
        acc0 = R.conv_acc(self.x, layer, self.zp)                       # no bias yet
        limit = (1 << 31) - 1 - self.bound * wmax * fan_in
        bias = np.zeros(out_c, np.int64)
        for o in range(out_c):
            spread = float(np.percentile(np.abs(acc0[..., o]), 90.0))
            b = int(np.rint(rng.uniform(-bias_frac, bias_frac) * spread))
            bias[o] = max(-limit, min(limit, b))
        layer.bias = bias.astype(np.int32)
        acc = acc0 + bias
        s_in = float(self.scale)
        real = acc.astype(np.float64) * (s_in * sw.astype(np.float64))
        if relu:
            a = float(np.percentile(np.maximum(real, 0.0), pct))
            if a <= 0.0:
                a = max(float(np.abs(real).max()), 1e-3)
            s_out = np.float32(a / float(qmax))
            zp = 0
        else:
            lo = min(float(np.percentile(real, 100.0 - pct)), 0.0)
            hi = max(float(np.percentile(real, pct)), 0.0)
            if hi - lo <= 0.0:
                hi, lo = 1e-3, -1e-3
            s_out = np.float32((hi - lo) / float(qmax))
            zp = int(np.clip(np.rint(-lo / float(s_out)), 0, qmax - 1)) if z_out is None else z_out
        layer.output_scale = float(s_out)
        layer.output_zero_point = zp
        mn = [F.quantize_multiplier(s_in * float(sw[o]) / float(s_out)) for o in range(out_c)]
        layer.multiplier = np.array([m for m, _ in mn], np.int32)
        layer.shift = np.array([n for _, n in mn], np.int32)
        return self._push(layer)

    def _push(self, layer: F.Layer):
        """Append a layer and run it (nin_ref) on the current activations."""
        self.layers.append(layer)
        if layer.op == "conv":
            y = R.conv(self.x, layer, self.zp)
            self.scale, self.zp = np.float32(layer.output_scale), int(layer.output_zero_point)
            self.bound = int(layer.output_max) or 255
        elif layer.op == "maxpool":
            y = R.maxpool(self.x, layer)
        elif layer.op == "avgpool":
            y = R.avgpool(self.x, layer, self.zp)
        else:
            y = R.gap(self.x, self.zp)
        self.outs.append(y)
        if layer.op != "gap":
            self.x = y
        return layer

    def pool(self, op, kernel, stride, pads=(0, 0, 0, 0), repeat_bound=False):
        """A pooling layer; ``repeat_bound`` writes its input's bound as its output_max (1.1)
        instead of 0."""
        c = self.x.shape[3]
        return self._push(F.Layer(op=op, in_channels=c, out_channels=c, kernel=tuple(kernel),
                                  stride=tuple(stride), pads=tuple(pads),
                                  output_scale=float(self.scale), output_zero_point=self.zp,
                                  output_max=self.bound if repeat_bound else 0))

    def gap(self):
        c = self.x.shape[3]
        return self._push(F.Layer(op="gap", in_channels=c, out_channels=c,
                                  output_scale=float(self.scale), output_zero_point=self.zp))

    def rerun(self):
        """Recompute every layer output from the input (after manual edits of layers)."""
        layers, self.layers, self.outs = self.layers, [], []
        self.x = self.input
        self.scale, self.zp = np.float32(self.input_scale), self.input_zero_point
        self.bound = 255
        for layer in layers:
            self._push(layer)

    def model(self, labels=None, metadata=None) -> F.Model:
        n = self.layers[-1].out_channels
        labels = labels or [f"class{j}" for j in range(n)]
        h, w, c = self.input.shape[1:]
        return F.Model(input_shape=(c, h, w), layers=self.layers, labels=labels,
                       input_scale=self.input_scale, input_zero_point=self.input_zero_point,
                       metadata=dict(metadata or {}))


def _builder(rng, x, input_scale=1 / 255, input_zero_point=0) -> NetBuilder:
    return NetBuilder(rng, x, input_scale, input_zero_point)


# --------------------------------------------------------------------------------------------
# Network cases
# --------------------------------------------------------------------------------------------

def _smooth_image(rng, n, h, w, c):
    """Random images with some spatial structure (gradients + blobs + noise), uint8."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, c), np.uint8)
    for i in range(n):
        for ch in range(c):
            a, b, ph = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 6.283)
            base = 128 + 90 * np.sin(a * yy * 0.7 + b * xx * 0.7 + ph)
            noise = rng.integers(-40, 41, (h, w))
            out[i, :, :, ch] = np.clip(base + noise, 0, 255).astype(np.uint8)
    return out


def case_k11s4_batch3():
    rng = np.random.default_rng(1001)
    x = _smooth_image(rng, 3, 35, 39, 3)
    b = _builder(rng, x)
    b.conv(8, (11, 11), (4, 4))
    b.conv(8, (1, 1))
    b.pool("maxpool", (3, 3), (2, 2))
    b.conv(5, (1, 1))
    b.gap()
    return b.model(metadata={"name": "k11s4_batch3", "dataset": "synthetic"}), x


def case_zin_padding():
    rng = np.random.default_rng(1002)
    x = _smooth_image(rng, 2, 13, 10, 1)
    b = _builder(rng, x, input_scale=0.02, input_zero_point=100)
    b.conv(6, (3, 5), (1, 2), (1, 2, 0, 1), relu=False)
    b.conv(7, (3, 3), (1, 1), (1, 1, 1, 1), relu=True)
    b.pool("avgpool", (3, 3), (2, 2), (1, 1, 1, 1))
    b.conv(4, (1, 1), relu=False)
    b.gap()
    return b.model(), x


def case_pools():
    rng = np.random.default_rng(1003)
    x = _smooth_image(rng, 1, 17, 23, 3)
    b = _builder(rng, x)
    b.conv(6, (3, 3), (2, 2), (0, 0, 1, 1), relu=False)
    b.pool("avgpool", (3, 3), (2, 2), (1, 1, 1, 1))
    b.pool("maxpool", (2, 3), (1, 2), (1, 0, 0, 2))
    b.pool("avgpool", (2, 2), (2, 2))
    b.conv(3, (1, 1))
    b.gap()
    return b.model(), x


def case_nonsquare():
    rng = np.random.default_rng(1004)
    x = _smooth_image(rng, 2, 21, 16, 3)
    b = _builder(rng, x)
    b.conv(6, (5, 3), (3, 1), (2, 1, 2, 1))
    b.conv(5, (1, 3), (1, 2), (0, 1, 0, 0))
    b.pool("maxpool", (3, 3), (2, 3), (1, 1, 1, 1))
    b.conv(6, (3, 3), (1, 1), (1, 1, 1, 1), relu=False)
    b.gap()
    return b.model(), x


def case_extremes():
    """Multiplier/shift extremes, ties, float32 rounding, the accumulator bound hit exactly."""
    rng = np.random.default_rng(1005)
    x = _smooth_image(rng, 2, 9, 8, 1)
    x[0, 2:6, 0:4, 0] = 255          # a 4x4 saturated patch: windows where acc = +-(2^31-1)
    x[1, 4:8, 3:7, 0] = 0            # a dark patch: windows where acc = bias
    b = _builder(rng, x)
    L = b.conv(11, (3, 3), (1, 1), (1, 1, 1, 1), relu=False)
    k = 9
    limit = (1 << 31) - 1 - 255 * 127 * k            # |bias| + 255*127*k == 2^31 - 1 exactly
    # channel: (weights override, bias override, multiplier, shift)
    specs = {
        0: (None, None, 1 << 30, 1),                  # huge gain: saturates at 0 and 255
        1: (None, None, (1 << 31) - 1, 62),           # tiny gain: ~z_out
        2: (None, None, (1 << 31) - 1, 31),           # ~acc itself
        3: (127, limit, (1 << 31) - 1, 62),           # acc up to 2^31-1, product near 2^62
        4: (-127, -limit, 1 << 30, 62),               # acc down to -(2^31-1): v rounds from -0.5+
        5: ("pm1", 0, 1 << 30, 36),                   # acc / 64, ties
        6: (None, None, (1 << 31) - 1, 1),            # maximal gain
        # channel 7: calibrated. Channels 8-10 (zero weights: acc = bias) pin the float32 rules:
        8: (0, 5 * 2 ** 23 + 1, 1 << 30, 54),         # float32(acc) = 5 * 2^23: 2.5 -> 2 (exact: 3)
        9: (0, 1, (1 << 30) + 1, 31),                 # float32(m) = 2^30: 0.5 -> 0 (exact: 1)
        10: (0, -5, 1 << 30, 31),                     # -2.5 -> -2: ties go to even
    }
    for o, (wv, bv, m, n) in specs.items():
        if wv == "pm1":
            L.weights[o] = rng.choice(np.array([-1, 1], np.int8), size=L.weights[o].shape)
        elif wv is not None:
            L.weights[o] = wv
        if bv is not None:
            L.bias[o] = bv
        L.multiplier[o] = m
        L.shift[o] = n
    L.output_zero_point = 128
    b.rerun()
    b.conv(4, (1, 1), relu=True)
    b.gap()
    return b.model(metadata={"name": "extremes", "description": "multiplier/shift extremes"}), x


def case_classic_narrow():
    """Classic NiN topology on 1x227x227, narrow (8/16/16/10 channels)."""
    rng = np.random.default_rng(1006)
    small = np.zeros((28, 28), np.uint8)
    for _ in range(5):                                # a few bright strokes on black
        y0, x0 = rng.integers(3, 25, 2)
        dy, dx = rng.integers(-2, 3, 2)
        for t in range(10):
            yy, xx = y0 + dy * t // 2, x0 + dx * t // 2
            if 0 <= yy < 27 and 0 <= xx < 27:
                small[yy:yy + 2, xx:xx + 2] = rng.integers(180, 256)
    small = np.clip(small.astype(np.int64) + rng.integers(0, 20, (28, 28)), 0, 255)
    x = P.prepare(small.astype(np.uint8), (1, 227, 227))[None]
    b = _builder(rng, x)
    b.conv(8, (11, 11), (4, 4))
    b.conv(8, (1, 1))
    b.conv(8, (1, 1))
    b.pool("maxpool", (3, 3), (2, 2))
    b.conv(16, (5, 5), (1, 1), (2, 2, 2, 2))
    b.conv(16, (1, 1))
    b.conv(16, (1, 1))
    b.pool("maxpool", (3, 3), (2, 2))
    b.conv(16, (3, 3), (1, 1), (1, 1, 1, 1))
    b.conv(16, (1, 1))
    b.conv(16, (1, 1))
    b.pool("maxpool", (3, 3), (2, 2))
    b.conv(10, (3, 3), (1, 1), (1, 1, 1, 1))
    b.conv(10, (1, 1))
    b.conv(10, (1, 1))
    b.gap()
    labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
              "Sneaker", "Bag", "Ankle boot"]
    return b.model(labels=labels, metadata={"name": "classic_narrow",
                                            "description": "NiN topology, random weights"}), x


def case_no_weights():
    """Pools only: an empty WGHT section; nonzero input zero point."""
    rng = np.random.default_rng(1007)
    x = _smooth_image(rng, 2, 6, 7, 3)
    b = _builder(rng, x, input_scale=1 / 255, input_zero_point=17)
    b.pool("maxpool", (2, 2), (2, 2))
    b.pool("avgpool", (3, 3), (1, 1), (1, 1, 1, 1))
    b.gap()
    return b.model(labels=["red", "green", "blue"]), x


def case_gap_only():
    rng = np.random.default_rng(1008)
    x = _smooth_image(rng, 1, 5, 5, 3)
    b = _builder(rng, x)
    b.gap()
    return b.model(labels=["r", "g", "b"]), x


def case_bounds_7bit():
    """Format 1.1 as nin-convert --activation-bits 7 --weight-bits 7 writes it: every ReLU
    output clamps at 127, every weight within +-63."""
    rng = np.random.default_rng(1101)
    x = _smooth_image(rng, 2, 19, 17, 1)
    b = _builder(rng, x)
    b.conv(20, (3, 3), (1, 1), (1, 1, 1, 1), output_max=127, weight_max=63, pct=97.0)
    b.pool("maxpool", (3, 3), (2, 2), (0, 0, 1, 1))
    b.conv(40, (1, 1), output_max=127, weight_max=63, pct=97.0)
    b.pool("avgpool", (2, 2), (1, 1))
    b.conv(10, (3, 3), (1, 1), (1, 1, 1, 1), output_max=127, weight_max=63, pct=97.0)
    b.gap()
    return b.model(metadata={"name": "bounds_7bit"}), x


def case_bounds_mixed():
    """Every 1.1 combination the reader accepts: a conv without ReLU clamping at 200 above
    its zero point with weights within +-100, a max pool repeating that bound, a ReLU conv at
    31 with 8-bit weights, then an 8-bit conv (both fields 0)."""
    rng = np.random.default_rng(1102)
    x = _smooth_image(rng, 2, 15, 15, 3)
    b = _builder(rng, x)
    b.conv(24, (3, 3), (1, 1), (1, 1, 1, 1), relu=False, output_max=200, weight_max=100, pct=97.0)
    b.pool("maxpool", (2, 2), (2, 2), (0, 0, 1, 1), repeat_bound=True)
    b.conv(17, (1, 1), output_max=31, pct=97.0)
    b.conv(6, (3, 3), (1, 1), (1, 1, 1, 1))
    b.gap()
    return b.model(metadata={"name": "bounds_mixed"}), x


def case_bounds_7bit_quad_weights():
    """Format 1.2: a 7-bit network whose file also carries every convolution's weights
    quad-blocked (nin-convert --quad-weights), which the quad kernel families read in place;
    odd channel counts (20, 33, 10) leave padding lanes in the copy's last blocks."""
    rng = np.random.default_rng(1201)
    x = _smooth_image(rng, 2, 17, 19, 3)
    b = _builder(rng, x)
    b.conv(20, (5, 5), (1, 1), (2, 2, 2, 2), output_max=127, weight_max=63, pct=97.0)
    b.pool("maxpool", (3, 3), (2, 2), (0, 0, 1, 1))
    b.conv(33, (1, 1), output_max=127, weight_max=63, pct=97.0)
    b.conv(10, (3, 3), (1, 1), (1, 1, 1, 1), output_max=127, weight_max=63, pct=97.0)
    b.gap()
    model = b.model(metadata={"name": "bounds_7bit_quad_weights"})
    for layer in model.layers:
        layer.quad_weights = layer.op == "conv"
    return model, x


#: Format 1.1 networks (output_max, weight_max), and one of 1.2 (quad weights), in
#: Tests/golden/bounds/ with net/'s layout.
BOUNDS_CASES = {
    "bounds_7bit": case_bounds_7bit,
    "bounds_mixed": case_bounds_mixed,
    "bounds_7bit_quad_weights": case_bounds_7bit_quad_weights,
}


NET_CASES = {
    "k11s4_batch3": case_k11s4_batch3,
    "zin_padding": case_zin_padding,
    "pools": case_pools,
    "nonsquare": case_nonsquare,
    "extremes": case_extremes,
    "classic_narrow": case_classic_narrow,
    "no_weights": case_no_weights,
    "gap_only": case_gap_only,
}


def _write_net_case(d: Path, model: F.Model, x: np.ndarray, verbose: bool):
    d.mkdir(parents=True, exist_ok=True)
    F.write(model, d / "model.nin")
    # The stored model is what the Swift side reads: run the reference on the re-read file.
    model = F.read(d / "model.nin")
    out = R.run(model, x)
    x.astype(np.uint8).tofile(d / "input.u8")
    shapes = model.output_shapes()
    c, h, w = model.input_shape
    lines = [f"batch {x.shape[0]}", f"input {c} {h} {w}", f"layers {len(model.layers)}"]
    top = 255                            # the bound of the current activations
    for i, (L, y, s) in enumerate(zip(model.layers, out["layers"], shapes)):
        if L.op == "conv":
            top = int(L.output_max) or 255
        if L.op == "gap":
            np.ascontiguousarray(y, dtype="<i4").tofile(d / f"layer_{i}.bin")
        else:
            assert y.shape[1:] == (s[1], s[2], s[0])
            np.ascontiguousarray(y, dtype=np.uint8).tofile(d / f"layer_{i}.bin")
        lines.append(f"{i} {L.op} {s[0]} {s[1]} {s[2]}")
        if verbose:
            if L.op == "gap":
                print(f"    layer {i:2d} gap      sums [{int(y.min())}, {int(y.max())}]")
            else:
                print(f"    layer {i:2d} {L.op:<8} {s[0]}x{s[1]}x{s[2]}  "
                      f"at 0: {np.mean(y == 0):6.1%}  at {top}: {np.mean(y == top):6.1%}")
    np.ascontiguousarray(out["logits"], dtype="<f4").tofile(d / "logits.f32")
    (d / "shapes.txt").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------
# Preprocessing cases
# --------------------------------------------------------------------------------------------

def _preprocess_cases():
    rng = np.random.default_rng(2001)

    def img(h, w, c):
        return _smooth_image(rng, 1, h, w, c)[0]

    luma = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255],
                      [0, 0, 0], [1, 1, 1], [254, 254, 254], [128, 64, 32]],
                     [[255, 255, 0], [0, 255, 255], [255, 0, 255], [1, 0, 0],
                      [0, 1, 0], [0, 0, 1], [127, 128, 129], [200, 100, 50]]], np.uint8)
    return {
        "gray28_to_1x227x227": (img(28, 28, 1), (1, 227, 227)),
        "rgb28_to_3x227x227": (img(28, 28, 3), (3, 227, 227)),
        "gray28_to_3x64x64": (img(28, 28, 1), (3, 64, 64)),
        "rgba40x30_to_1x17x23": (img(40, 30, 4), (1, 17, 23)),
        "rgba40x30_to_3x17x23": (img(40, 30, 4), (3, 17, 23)),
        "graya19x33_to_3x33x19": (img(19, 33, 2), (3, 33, 19)),
        "graya19x33_to_1x19x33": (img(19, 33, 2), (1, 19, 33)),
        "rgb16_identity": (img(16, 16, 3), (3, 16, 16)),
        "rgba13x7_to_3x13x7": (img(13, 7, 4), (3, 13, 7)),
        "rgb64x48_to_1x20x15": (img(64, 48, 3), (1, 20, 15)),
        "rgb30x30_to_3x227x227": (img(30, 30, 3), (3, 227, 227)),
        "gray1x37_to_1x5x9": (img(1, 37, 1), (1, 5, 9)),
        "gray23x1_to_3x1x11": (img(23, 1, 1), (3, 1, 11)),
        "rgb1x1_to_3x4x4": (img(1, 1, 3), (3, 4, 4)),
        "gray5x5_to_1x1x1": (img(5, 5, 1), (1, 1, 1)),
        "gray7x3_to_1x3x7": (img(7, 3, 1), (1, 3, 7)),
        "rgb_luma_2x8": (luma, (1, 2, 8)),
    }


def _write_preprocess_case(d: Path, image: np.ndarray, target):
    d.mkdir(parents=True, exist_ok=True)
    if image.ndim == 2:
        image = image[:, :, None]
    prepared = P.prepare(image, target)
    c, h, w = target
    assert prepared.shape == (h, w, c) and prepared.dtype == np.uint8
    image.astype(np.uint8).tofile(d / "image.u8")
    (d / "image.txt").write_text("%d %d %d\n" % image.shape)
    (d / "target.txt").write_text(f"{c} {h} {w}\n")
    prepared.tofile(d / "prepared.u8")


# --------------------------------------------------------------------------------------------
# Shipped models x example images (only once others have produced them)
# --------------------------------------------------------------------------------------------

#: Per-image bytes of all layer outputs above which a shipped model keeps only maps and sums.
SHIPPED_FULL_LIMIT = 256 * 1024


def shipped_cases(out: Path, verbose: bool = True) -> None:
    """Tests/golden/shipped/<model>/<image>.{input.u8,layer_<i>.bin,logits.f32}."""
    models = sorted((ROOT / "models").glob("*.nin"))
    images = sorted((ROOT / "examples" / "images").glob("*.png"))
    if not models or not images:
        print("note: shipped cases skipped: no models/*.nin or no examples/images/*.png yet")
        return
    for mpath in models:
        model = F.read(mpath)
        d = out / "shipped" / mpath.stem
        d.mkdir(parents=True, exist_ok=True)
        for ipath in images:
            pixels = np.asarray(read_png(ipath), dtype=np.uint8)
            x = P.prepare(pixels, model.input_shape)
            res = R.run(model, x)
            x.tofile(d / f"{ipath.stem}.input.u8")
            # Large models keep only the confidence maps and the sums per image (the layer
            # kernels are covered by net/ cases), so the vectors stay small.
            total = sum(np.asarray(y).nbytes for y in res["layers"])
            keep = range(len(res["layers"])) if total <= SHIPPED_FULL_LIMIT else range(max(len(res["layers"]) - 2, 0), len(res["layers"]))
            for i, y in enumerate(res["layers"]):
                if i not in keep:
                    continue
                if model.layers[i].op == "gap":
                    np.ascontiguousarray(y, dtype="<i4").tofile(d / f"{ipath.stem}.layer_{i}.bin")
                else:
                    np.ascontiguousarray(y, np.uint8).tofile(d / f"{ipath.stem}.layer_{i}.bin")
            np.ascontiguousarray(res["logits"], dtype="<f4").tofile(d / f"{ipath.stem}.logits.f32")
            if verbose:
                top = int(np.argmax(res["logits"][0]))
                print(f"  shipped {mpath.stem}/{ipath.stem}: top-1 {model.labels[top]}")


# --------------------------------------------------------------------------------------------

def generate(out, verbose: bool = True) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for sub in GENERATED_DIRS:
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    for name, fn in NET_CASES.items():
        if verbose:
            print(f"net/{name}")
        model, x = fn()
        _write_net_case(out / "net" / name, model, x, verbose)
    for name, fn in BOUNDS_CASES.items():
        if verbose:
            print(f"bounds/{name}")
        model, x = fn()
        _write_net_case(out / "bounds" / name, model, x, verbose)
    for name, (image, target) in _preprocess_cases().items():
        _write_preprocess_case(out / "preprocess" / name, image, target)
    if verbose:
        print(f"preprocess: {len(_preprocess_cases())} cases")
    shipped_cases(out, verbose)
    if verbose:
        total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"total {total} bytes under {out}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    generate(args.out, verbose=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
