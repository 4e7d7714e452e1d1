"""Image preparation exactly as docs/PREPROCESSING.md (numpy only).

- :func:`to_channels`  1/2/3/4-channel u8 pixels -> the model's 1 or 3 channels (integer luma);
- :func:`resize_u8`    exact fixed-point bilinear resize (half-pixel centres, 1/256 weights);
- :func:`prepare`      both, for one image, to the model's ``(C, H, W)`` input -> u8 ``H x W x C``;
- :func:`prepare_batch` / :func:`resize_batch_u8`  the same for ``N`` images at once (training);
- :func:`quantize_float_input`  an already-prepared float tensor -> u8 (QUANTIZATION.md).

The fast resize writes the separable formula as integer weight matrices: ``Ry`` (out_h x in_h)
with ``Ry[d, i0] += 256 - f`` and ``Ry[d, i1] += f`` (likewise ``Rx``), so that
``out = (Ry @ img @ Rx^T + 32768) >> 16``.  All products and partial sums are non-negative
integers at most ``255 * 256 * 256 = 16,711,680 < 2^24``, so the matrix products are exact even
in float32 (every intermediate is an integer representable in a float32 significand), which
lets BLAS do the work.  :func:`_resize_u8_scalar` is the literal per-pixel formula, for tests.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["to_channels", "resize_u8", "resize_batch_u8", "prepare", "prepare_batch",
           "quantize_float_input", "axis_taps", "axis_matrix"]

LUMA_R, LUMA_G, LUMA_B = 19595, 38470, 7471


def _as_u8(img) -> np.ndarray:
    a = np.asarray(img)
    if a.dtype != np.uint8:
        raise ValueError(f"image must be uint8, not {a.dtype}")
    return a


def _luma(rgb: np.ndarray) -> np.ndarray:
    """(19595 R + 38470 G + 7471 B + 32768) >> 16 over the last axis (R, G, B)."""
    r = rgb[..., 0].astype(np.uint32)
    g = rgb[..., 1].astype(np.uint32)
    b = rgb[..., 2].astype(np.uint32)
    y = (LUMA_R * r + LUMA_G * g + LUMA_B * b + 32768) >> 16
    return y.astype(np.uint8)[..., None]


def _channels_last(a: np.ndarray, channels: int) -> np.ndarray:
    """a is ... x C with C in 1..4; returns ... x channels (1 or 3)."""
    c = a.shape[-1]
    if c not in (1, 2, 3, 4):
        raise ValueError(f"image has {c} channels; expected 1 (gray), 2 (gray+alpha), "
                         f"3 (RGB) or 4 (RGBA)")
    if channels not in (1, 3):
        raise ValueError(f"model input has {channels} channels; expected 1 or 3")
    if c <= 2:                       # gray (+ alpha): the gray value, copied for RGB
        g = a[..., :1]
        return np.ascontiguousarray(g if channels == 1 else np.repeat(g, 3, axis=-1))
    if channels == 3:                # RGB(A): R, G, B as stored, alpha dropped
        return np.ascontiguousarray(a[..., :3])
    return _luma(a)


def to_channels(img_u8, channels: int) -> np.ndarray:
    """HxW, HxWx1, HxWx2, HxWx3 or HxWx4 uint8 -> HxWxchannels (channels 1 or 3)."""
    a = _as_u8(img_u8)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"image must be HxW or HxWxC, got shape {a.shape}")
    return _channels_last(a, int(channels))


# --------------------------------------------------------------------------------------------
# Resize
# --------------------------------------------------------------------------------------------

def axis_taps(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, f) int64 arrays of length m for one axis, input size n, output size m."""
    n, m = int(n), int(m)
    if n < 1 or m < 1:
        raise ValueError(f"resize sizes must be >= 1 (input {n}, output {m})")
    d = np.arange(m, dtype=np.int64)
    t = np.maximum((2 * d + 1) * n - m, 0)
    i0 = t // (2 * m)
    r = t % (2 * m)
    f = (r * 256 + m) // (2 * m)
    last = i0 >= n - 1
    i0 = np.where(last, n - 1, i0)
    f = np.where(last, 0, f)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, f


@lru_cache(maxsize=64)
def _axis_matrix_cached(n: int, m: int) -> np.ndarray:
    i0, i1, f = axis_taps(n, m)
    R = np.zeros((m, n), dtype=np.int64)
    rows = np.arange(m)
    np.add.at(R, (rows, i0), 256 - f)
    np.add.at(R, (rows, i1), f)
    R.setflags(write=False)
    return R


def axis_matrix(n: int, m: int) -> np.ndarray:
    """Integer weight matrix (m x n) of one axis; each row sums to 256 (read-only)."""
    return _axis_matrix_cached(int(n), int(m))


def _f32_matrix(n: int, m: int) -> np.ndarray:
    return _axis_matrix_f32(int(n), int(m))


@lru_cache(maxsize=64)
def _axis_matrix_f32(n: int, m: int) -> np.ndarray:
    R = axis_matrix(n, m).astype(np.float32)
    R.setflags(write=False)
    return R


def _finish(acc: np.ndarray) -> np.ndarray:
    """(acc + 32768) >> 16 for exact non-negative integer-valued float32 acc (in place)."""
    # acc + 32768 <= 16,744,448 < 2^24 is exact, scaling by 2^-16 is exact, and the cast
    # truncates toward zero, which is floor for these non-negative values (all below 256).
    acc += np.float32(32768)
    acc *= np.float32(1.0 / 65536)
    return acc.astype(np.uint8)


def resize_u8(img_u8, out_h: int, out_w: int) -> np.ndarray:
    """Exact fixed-point bilinear resize (PREPROCESSING.md section 2) of HxW or HxWxC uint8."""
    a = _as_u8(img_u8)
    squeeze = a.ndim == 2
    if squeeze:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"image must be HxW or HxWxC, got shape {a.shape}")
    out = resize_batch_u8(a[None], out_h, out_w)[0]
    return out[:, :, 0] if squeeze else out


def resize_batch_u8(imgs_u8, out_h: int, out_w: int, chunk: int = 256) -> np.ndarray:
    """resize_u8 for a batch: N x H x W (gray) or N x H x W x C uint8 -> N x out_h x out_w (x C)."""
    a = _as_u8(imgs_u8)
    squeeze = a.ndim == 3
    if squeeze:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(f"batch must be NxHxW or NxHxWxC, got shape {a.shape}")
    n, h, w, c = a.shape
    out_h, out_w = int(out_h), int(out_w)
    Ry = _f32_matrix(h, out_h)            # out_h x h
    RxT = _f32_matrix(w, out_w).T         # w x out_w
    out = np.empty((n, out_h, out_w, c), dtype=np.uint8)
    if h == out_h and w == out_w:
        out[...] = a                      # the formula is the identity (PREPROCESSING.md)
    else:
        for s in range(0, n, chunk):
            blk = a[s:s + chunk]
            k = blk.shape[0]
            # rows first, as one GEMM: (out_h, h) @ (h, k*c*w)
            x = np.ascontiguousarray(blk.transpose(1, 0, 3, 2), dtype=np.float32)
            t = Ry @ x.reshape(h, k * c * w)                          # out_h, k*c*w
            # then columns, as one GEMM: (out_h*k*c, w) @ (w, out_w)
            y = t.reshape(out_h * k * c, w) @ RxT                     # out_h*k*c, out_w
            y = y.reshape(out_h, k, c, out_w)
            out[s:s + k].transpose(1, 0, 3, 2)[...] = _finish(y)
    return out[..., 0] if squeeze else out


def _resize_u8_scalar(img_u8, out_h: int, out_w: int) -> np.ndarray:
    """The literal per-pixel formula of PREPROCESSING.md, in Python ints.  Tests only."""
    a = _as_u8(img_u8)
    squeeze = a.ndim == 2
    if squeeze:
        a = a[:, :, None]
    in_h, in_w, c = a.shape

    def taps(n, m, d):
        t = (2 * d + 1) * n - m
        if t < 0:
            t = 0
        i0 = t // (2 * m)
        r = t % (2 * m)
        f = (r * 256 + m) // (2 * m)
        if i0 >= n - 1:
            i0, f = n - 1, 0
        i1 = min(i0 + 1, n - 1)
        return i0, i1, f

    p = a.tolist()
    out = np.zeros((out_h, out_w, c), dtype=np.uint8)
    for dy in range(out_h):
        ay0, ay1, fy = taps(in_h, out_h, dy)
        for dx in range(out_w):
            ax0, ax1, fx = taps(in_w, out_w, dx)
            for ch in range(c):
                v = ((p[ay0][ax0][ch] * (256 - fx) + p[ay0][ax1][ch] * fx) * (256 - fy)
                     + (p[ay1][ax0][ch] * (256 - fx) + p[ay1][ax1][ch] * fx) * fy
                     + 32768) >> 16
                out[dy, dx, ch] = v
    return out[:, :, 0] if squeeze else out


# --------------------------------------------------------------------------------------------
# Whole preparation
# --------------------------------------------------------------------------------------------

def prepare(img_u8, input_shape_chw) -> np.ndarray:
    """One image (HxW or HxWxC, C in 1..4) -> the model input, uint8 H x W x C."""
    c, h, w = (int(v) for v in input_shape_chw)
    return resize_u8(to_channels(img_u8, c), h, w)


def prepare_batch(imgs_u8, input_shape_chw, chunk: int = 256) -> np.ndarray:
    """N images (NxHxW gray, or NxHxWxC with C in 1..4) -> uint8 N x H x W x C."""
    a = _as_u8(imgs_u8)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(f"batch must be NxHxW or NxHxWxC, got shape {a.shape}")
    c, h, w = (int(v) for v in input_shape_chw)
    out = np.empty((a.shape[0], h, w, c), dtype=np.uint8)
    for s in range(0, a.shape[0], chunk):
        out[s:s + chunk] = resize_batch_u8(_channels_last(a[s:s + chunk], c), h, w, chunk)
    return out


def quantize_float_input(x_float32) -> np.ndarray:
    """q = clamp(floor(x * 255 + 0.5), 0, 255) in float32 (QUANTIZATION.md); NaN is refused."""
    x = np.asarray(x_float32, dtype=np.float32)
    if np.isnan(x).any():
        raise ValueError("input contains NaN")
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.floor(x * np.float32(255) + np.float32(0.5))
    return np.clip(y, 0, 255).astype(np.uint8)
