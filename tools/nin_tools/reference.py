"""numpy reference of nin's whole integer pipeline: the executable spec (docs/QUANTIZATION.md).

Tensors are uint8 NHWC.  Per-kind functions:

- :func:`conv`        int8 OHWI weights, int32 bias, padding with ``z_in``, fused requantize+ReLU
- :func:`requantize`  ``clamp(rint(f32(acc) * f32(m) * 2^-n) + z_out, lo, qmax)`` (float32, half
                      even; ``qmax`` is the layer's output_max, 255 when it is 0)
- :func:`maxpool`     padded positions never selected
- :func:`avgpool`     padded positions count as ``z_in``, divisor ``KH*KW``, round half up
- :func:`gap`         int32 sums ``S[n, c] = sum (q - z_in)``; :func:`gap_logits` turns them into
                      float32 logits with exactly two float32 operations

:func:`run` chains them over a :class:`nin_tools.model_format.Model`.

The convolution is an im2col product.  Its integer dot products are computed with a float64
matrix product: every partial sum is an integer of magnitude at most
``sum_i |w_i| * 255 + |bias|``, which the model reader bounds below ``2^31`` (asserted below
against ``2^53``), so every float64 partial sum is exact whatever order BLAS adds in.

CLI: ``python3 -m nin_tools.reference MODEL.nin --raw FILE.u8 --hwc H W C`` (with ``tools/`` on
``PYTHONPATH``) prints the top-5 classes.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from nin_tools import model_format

__all__ = ["conv", "conv_acc", "requantize", "requantization_scale", "maxpool", "avgpool", "gap", "gap_logits",
           "softmax", "run", "dequantize", "dequantize_weights", "dequantize_bias",
           "output_size"]


#: The contract's output size (model_format.output_size, its one Python definition).
output_size = model_format.output_size


def _as_nhwc(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"activations must be uint8, not {x.dtype}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"activations must be NHWC or HWC, got shape {x.shape}")
    return x


def _windows(xp: np.ndarray, kernel, stride, out_hw) -> np.ndarray:
    """xp [N, Hp, Wp, C] -> [N, OH, OW, KH, KW, C] (a copy), window origin (oy*sh, ox*sw)."""
    kh, kw = kernel
    sh, sw = stride
    oh, ow = out_hw
    n, _, _, c = xp.shape
    cols = np.empty((n, oh, ow, kh, kw, c), dtype=xp.dtype)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, :, ky, kx, :] = xp[:, ky:ky + sh * (oh - 1) + 1:sh,
                                          kx:kx + sw * (ow - 1) + 1:sw, :]
    return cols


def _geometry(x: np.ndarray, layer):
    kh, kw = (int(v) for v in layer.kernel)
    sh, sw = (int(v) for v in layer.stride)
    pt, pl, pb, pr = (int(v) for v in layer.pads)
    _, h, w, _ = x.shape
    oh = output_size(h, kh, sh, pt, pb)
    ow = output_size(w, kw, sw, pl, pr)
    assert oh >= 1 and ow >= 1, "window does not fit the padded input"
    return (kh, kw), (sh, sw), (pt, pl, pb, pr), (oh, ow)


def _pad(x: np.ndarray, pads, value, dtype) -> np.ndarray:
    pt, pl, pb, pr = pads
    return np.pad(x.astype(dtype), ((0, 0), (pt, pb), (pl, pr), (0, 0)),
                  mode="constant", constant_values=value)


# --------------------------------------------------------------------------------------------
# Convolution and requantization
# --------------------------------------------------------------------------------------------

def conv_acc(x, layer, z_in: int) -> np.ndarray:
    """int64 accumulators [N, OH, OW, O]: bias + sum w * (X - z_in), padding = z_in."""
    x = _as_nhwc(x)
    kernel, stride, pads, out_hw = _geometry(x, layer)
    w = np.asarray(layer.weights).astype(np.int64)
    o, kh, kw, cin = w.shape
    assert (kh, kw) == kernel and cin == x.shape[3], "weights do not match the layer"
    assert np.abs(w).max(initial=0) <= 127
    bias = np.asarray(layer.bias).astype(np.int64)
    # Exactness of the float64 product: every partial sum is bounded by this.
    bound = 255 * int(np.abs(w).reshape(o, -1).sum(axis=1).max()) + int(np.abs(bias).max())
    assert bound < 2 ** 53, "partial sums could exceed 2^53"
    xp = _pad(x, pads, int(z_in), np.int16) - np.int16(z_in)          # X - z_in, padding 0
    cols = _windows(xp, kernel, stride, out_hw)                        # N OH OW KH KW C
    n = x.shape[0]
    a = cols.reshape(-1, kh * kw * cin).astype(np.float64)
    acc = a @ w.reshape(o, -1).T.astype(np.float64)
    acc = acc.astype(np.int64).reshape(n, out_hw[0], out_hw[1], o) + bias
    return acc


def requantization_scale(multiplier, shift) -> np.ndarray:
    """float32 ``f32(m) * 2^-n``: m rounded to float32 (half even), then an exact power of two.

    With m in [2^30, 2^31) and n in [1, 62] the scale lies in [2^-32, 2^30): always a normal
    float32, so the scaling by 2^-n is exact.
    """
    m = np.asarray(multiplier).astype(np.int64)
    n = np.asarray(shift).astype(np.int64)
    assert ((m >= 2 ** 30) & (m < 2 ** 31)).all() and ((n >= 1) & (n <= 62)).all()
    return np.ldexp(m.astype(np.float32), -n.astype(np.int32)).astype(np.float32)


def requantize(acc, multiplier, shift, z_out: int, relu: bool, qmax: int = 255) -> np.ndarray:
    """u8 = clamp(rint(f32(acc) * scale) + z_out, z_out if relu else 0, qmax), in float32.

    ``acc`` int [..., O] with |acc| < 2^31; ``multiplier``/``shift`` broadcast on the last axis;
    ``scale = requantization_scale(m, n)``. ``f32(acc)`` and the product are IEEE float32
    round-to-nearest-even operations, ``rint`` rounds half to even. ``qmax`` is the layer's
    effective output_max (docs/FORMAT.md 1.1): 255, or less for a narrower activation.
    """
    acc = np.asarray(acc).astype(np.int64)
    assert (np.abs(acc) < 2 ** 31).all(), "accumulator outside int32"
    scale = requantization_scale(multiplier, shift)
    v = np.rint(acc.astype(np.float32) * scale).astype(np.int64)     # float32 product, half even
    lo = int(z_out) if relu else 0
    qmax = int(qmax)
    assert 1 <= qmax <= 255, "output_max must lie in [1, 255]"
    return np.clip(v + int(z_out), lo, qmax).astype(np.uint8)


def conv(x, layer, z_in: int) -> np.ndarray:
    """Convolution fused with requantization and ReLU: uint8 [N, OH, OW, O]."""
    acc = conv_acc(x, layer, z_in)
    qmax = int(getattr(layer, "output_max", 0)) or 255
    return requantize(acc, layer.multiplier, layer.shift, int(layer.output_zero_point),
                      bool(layer.relu), qmax)


# --------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------

def maxpool(x, layer) -> np.ndarray:
    """Max over each window of the real input positions (padding is never selected)."""
    x = _as_nhwc(x)
    kernel, stride, pads, out_hw = _geometry(x, layer)
    xp = _pad(x, pads, -1, np.int16)
    m = _windows(xp, kernel, stride, out_hw).max(axis=(3, 4))
    assert (m >= 0).all(), "a window holds no real input position"
    return m.astype(np.uint8)


def avgpool(x, layer, z_in: int) -> np.ndarray:
    """floor((sum + floor(d/2)) / d), d = KH*KW, padded positions counting as z_in."""
    x = _as_nhwc(x)
    kernel, stride, pads, out_hw = _geometry(x, layer)
    d = kernel[0] * kernel[1]
    xp = _pad(x, pads, int(z_in), np.int32)
    s = _windows(xp, kernel, stride, out_hw).sum(axis=(3, 4), dtype=np.int64)
    q = (s + d // 2) // d
    assert ((q >= 0) & (q <= 255)).all()
    return q.astype(np.uint8)


def gap(x, z_in: int) -> np.ndarray:
    """int32 sums [N, C]: S[c] = sum over H*W of (q - z_in)."""
    x = _as_nhwc(x)
    s = (x.astype(np.int64) - int(z_in)).sum(axis=(1, 2))
    assert (np.abs(s) < 2 ** 31).all()
    return s.astype(np.int32)


def gap_logits(sums, s_in, height: int, width: int) -> np.ndarray:
    """logit = float32(S) * (float32(s_in) / float32(H*W)): two IEEE float32 operations."""
    factor = np.float32(s_in) / np.float32(int(height) * int(width))   # once per layer
    return np.asarray(sums).astype(np.float32) * factor                 # once per class


def softmax(logits) -> np.ndarray:
    """float32 softmax after subtracting the maximum (platform expf: compare with tolerance)."""
    z = np.asarray(logits, dtype=np.float32)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Whole network
# --------------------------------------------------------------------------------------------

def run(model, x) -> dict:
    """Run the integer pipeline on prepared uint8 NHWC (or HWC) input.

    Returns ``{"layers": [uint8 NHWC per layer; int32 [N, C] sums for GAP], "sums": int32 [N, C],
    "logits": float32 [N, C], "probabilities": float32 [N, C]}``.
    """
    x = _as_nhwc(x)
    c, h, w = (int(v) for v in model.input_shape)
    if x.shape[1:] != (h, w, c):
        raise ValueError(f"input is {x.shape[1:]} (HWC) but the model wants {(h, w, c)}")
    scale = np.float32(model.input_scale)
    zp = int(model.input_zero_point)
    outs = []
    sums = logits = None
    for i, L in enumerate(model.layers):
        if L.op == "conv":
            x = conv(x, L, zp)
            scale, zp = np.float32(L.output_scale), int(L.output_zero_point)
            outs.append(x)
        elif L.op == "maxpool":
            x = maxpool(x, L)
            outs.append(x)
        elif L.op == "avgpool":
            x = avgpool(x, L, zp)
            outs.append(x)
        elif L.op == "gap":
            if i != len(model.layers) - 1:
                raise ValueError("gap must be the last layer")
            sums = gap(x, zp)
            logits = gap_logits(sums, scale, x.shape[1], x.shape[2])
            outs.append(sums)
        else:
            raise ValueError(f"layer {i}: unknown op {L.op!r}")
    if sums is None:
        raise ValueError("the last layer must be gap")
    return {"layers": outs, "sums": sums, "logits": logits, "probabilities": softmax(logits)}


# --------------------------------------------------------------------------------------------
# Dequantization helpers
# --------------------------------------------------------------------------------------------

def dequantize(q, scale, zero_point) -> np.ndarray:
    """Real values s * (q - z) of a quantized tensor, float32."""
    return (np.float32(scale) * (np.asarray(q).astype(np.float32) - np.float32(zero_point))
            ).astype(np.float32)


def dequantize_weights(layer) -> np.ndarray:
    """float32 OHWI weights w[o] * sw[o]."""
    ws = np.asarray(layer.weight_scale, dtype=np.float32)
    return np.asarray(layer.weights).astype(np.float32) * ws[:, None, None, None]


def dequantize_bias(layer, input_scale) -> np.ndarray:
    """float32 bias b[o] * s_in * sw[o]."""
    ws = np.asarray(layer.weight_scale, dtype=np.float32)
    return np.asarray(layer.bias).astype(np.float32) * (np.float32(input_scale) * ws)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    """The CLI: top classes of one raw image by the reference."""
    ap = argparse.ArgumentParser(description="Run the numpy reference on a raw u8 image.")
    ap.add_argument("model")
    ap.add_argument("--raw", required=True, help="raw interleaved uint8 pixels, H x W x C")
    ap.add_argument("--hwc", nargs=3, type=int, required=True, metavar=("H", "W", "C"))
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)
    from nin_tools import preprocess
    try:
        model = model_format.read(args.model)
    except (OSError, model_format.NinFormatError) as e:
        print(f"error: {args.model}: {e}", file=sys.stderr)
        return 1
    h, w, c = args.hwc
    try:
        with open(args.raw, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8)
    except OSError as e:
        print(f"error: {args.raw}: {e}", file=sys.stderr)
        return 1
    if raw.size != h * w * c:
        print(f"error: {args.raw} has {raw.size} bytes, expected {h}*{w}*{c} = {h * w * c}",
              file=sys.stderr)
        return 1
    x = preprocess.prepare(raw.reshape(h, w, c), model.input_shape)
    out = run(model, x)
    logits, probs = out["logits"][0], out["probabilities"][0]
    order = sorted(range(len(logits)), key=lambda j: (-float(logits[j]), j))[:args.top]
    for rank, j in enumerate(order, 1):
        print(f"{rank}. {model.labels[j]:<24} p={float(probs[j]):.6f}  logit={float(logits[j]):.6g}"
              f"  sum={int(out['sums'][0][j])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
