"""Independent implementations the tools tests compare nin_tools with: plain Python loops
and exact arithmetic written from the docs (QUANTIZATION.md, PREPROCESSING.md), sharing no
code with nin_tools."""

from __future__ import annotations

import math
import struct

import numpy as np


def _f32(x: float) -> float:
    """Rounds a Python float (an exact double here) to the nearest float32, ties to even."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def requantize_py(acc: int, m: int, n: int, z: int, relu: bool, qmax: int = 255) -> int:
    """QUANTIZATION.md's requantization of one accumulator, clamped to [lo, qmax]."""
    # Every double below is exact before its one rounding to float32: acc < 2^31 and m < 2^31
    # are exact doubles, the float32 product of two 24-bit significands fits 48 bits.
    scale = math.ldexp(_f32(float(m)), -n)
    v = round(_f32(_f32(float(acc)) * scale))        # Python's round: half to even
    lo = z if relu else 0
    return min(max(v + z, lo), qmax)


def conv_naive(x, L, z_in):
    """The convolution of a layer, one output value at a time (padding = z_in)."""
    n, h, w, c = x.shape
    kh, kw = L.kernel
    sh, sw = L.stride
    pt, pl, pb, pr = L.pads
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    wts = L.weights.tolist()
    xs = x.tolist()
    out = np.zeros((n, oh, ow, L.out_channels), np.uint8)
    for b in range(n):
        for y in range(oh):
            for xx in range(ow):
                for o in range(L.out_channels):
                    acc = int(L.bias[o])
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = y * sh + ky - pt, xx * sw + kx - pl
                            for i in range(c):
                                v = xs[b][iy][ix][i] if 0 <= iy < h and 0 <= ix < w else z_in
                                acc += wts[o][ky][kx][i] * (v - z_in)
                    out[b, y, xx, o] = requantize_py(acc, int(L.multiplier[o]), int(L.shift[o]),
                                                     L.output_zero_point, L.relu,
                                                     L.output_max or 255)
    return out


def pool_naive(x, L, z_in, kind):
    """Max (``kind`` "max") or average pooling, one window at a time."""
    n, h, w, c = x.shape
    kh, kw = L.kernel
    sh, sw = L.stride
    pt, pl, pb, pr = L.pads
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    out = np.zeros((n, oh, ow, c), np.uint8)
    d = kh * kw
    for b in range(n):
        for y in range(oh):
            for xx in range(ow):
                for ch in range(c):
                    vals, pads = [], 0
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = y * sh + ky - pt, xx * sw + kx - pl
                            if 0 <= iy < h and 0 <= ix < w:
                                vals.append(int(x[b, iy, ix, ch]))
                            else:
                                pads += 1
                    assert vals
                    if kind == "max":
                        out[b, y, xx, ch] = max(vals)
                    else:
                        s = sum(vals) + pads * z_in
                        out[b, y, xx, ch] = (s + d // 2) // d
    return out


def random_geometry(rng):
    """A random legal window (kernel, stride, pads) and an input size it fits."""
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    pads = (int(rng.integers(0, kh)), int(rng.integers(0, kw)),
            int(rng.integers(0, kh)), int(rng.integers(0, kw)))
    h = int(rng.integers(max(1, kh - pads[0] - pads[2]), 9))
    w = int(rng.integers(max(1, kw - pads[1] - pads[3]), 9))
    return (kh, kw), (sh, sw), pads, h, w


def channels_naive(img, channels):
    """PREPROCESSING.md's channel conversion, one pixel at a time."""
    h, w = img.shape[:2]
    img = img.reshape(h, w, -1)
    c = img.shape[2]
    out = np.zeros((h, w, channels), np.uint8)
    for y in range(h):
        for x in range(w):
            px = [int(v) for v in img[y, x]]
            if c in (1, 2):
                vals = [px[0]] * channels
            elif channels == 3:
                vals = px[:3]
            else:
                r, g, b = px[:3]
                vals = [(19595 * r + 38470 * g + 7471 * b + 32768) >> 16]
            out[y, x] = vals
    return out
