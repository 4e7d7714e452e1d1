"""Minimal PNG encoder: zlib + struct (+ numpy), no Pillow.

Writes 8-bit non-interlaced PNGs: gray (H x W or H x W x 1), gray + alpha (x2), RGB (x3),
RGBA (x4), or palette images (H x W indices plus a palette of N x 3 RGB or N x 4 RGBA
entries, the alpha going to a ``tRNS`` chunk).  ``filter_type`` picks the scanline filter
(0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) for every row; the default 0 keeps files
reproducible and small images tiny.

    from nin_tools.png_write import write_png
    write_png("out.png", img_u8)          # img: H x W (x C) uint8
"""

from __future__ import annotations

import struct
import zlib
from typing import Optional

import numpy as np

__all__ = ["encode_png", "write_png"]

_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + ctype + body
            + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF))


def _filter_rows(rows: np.ndarray, bpp: int, filter_type: int) -> np.ndarray:
    """rows: uint8 [H, stride]; returns the filtered bytes, int16 math wrapped to uint8."""
    x = rows.astype(np.int16)
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    if filter_type == 0:
        pred = np.zeros_like(x)
    elif filter_type == 1:
        pred = left
    elif filter_type == 2:
        pred = up
    elif filter_type == 3:
        pred = (left + up) >> 1
    elif filter_type == 4:
        upleft = np.zeros_like(x)
        upleft[1:, bpp:] = x[:-1, :-bpp]
        p = left + up - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
        pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    else:
        raise ValueError(f"filter_type must be 0..4, not {filter_type}")
    return ((x - pred) & 0xFF).astype(np.uint8)


def encode_png(img: np.ndarray, palette: Optional[np.ndarray] = None, filter_type: int = 0,
               level: int = 9, bit_depth: int = 8) -> bytes:
    """PNG bytes for ``img`` (see the module docstring).  ``bit_depth`` 1, 2 or 4 packs the
    indices of a palette image (8 for everything else)."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        if img.size and (img.min() < 0 or img.max() > 255 or not np.issubdtype(img.dtype, np.integer)):
            raise ValueError(f"pixels must be uint8 (got {img.dtype})")
        img = img.astype(np.uint8)
    if palette is not None:
        pal = np.asarray(palette, np.uint8)
        if pal.ndim != 2 or pal.shape[1] not in (3, 4) or not 1 <= pal.shape[0] <= 256:
            raise ValueError("palette must be N x 3 or N x 4 with 1 <= N <= 256")
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if img.ndim != 2:
            raise ValueError("a palette image is H x W indices")
        if img.size and int(img.max()) >= pal.shape[0]:
            raise ValueError("palette index out of range")
        color, channels = 3, 1
        if bit_depth not in (1, 2, 4, 8):
            raise ValueError("palette bit_depth must be 1, 2, 4 or 8")
        if img.size and int(img.max()) >= (1 << bit_depth):
            raise ValueError(f"palette index does not fit in {bit_depth} bits")
    else:
        if img.ndim == 2:
            img = img[:, :, None]
        if img.ndim != 3 or img.shape[2] not in _COLOR_TYPE:
            raise ValueError(f"image must be H x W x C with C in 1..4, got shape {img.shape}")
        channels = img.shape[2]
        color = _COLOR_TYPE[channels]
        if bit_depth != 8:
            raise ValueError("only palette images can be written below 8 bits")
    h, w = img.shape[:2]
    if h == 0 or w == 0:
        raise ValueError("image is empty")
    if bit_depth == 8:
        rows = np.ascontiguousarray(img).reshape(h, w * channels)
    else:
        shifts = np.arange(8 - bit_depth, -1, -bit_depth)          # MSB first
        per = 8 // bit_depth
        padded = np.zeros((h, -(-w // per) * per), np.uint8)
        padded[:, :w] = img
        rows = (padded.reshape(h, -1, per) << shifts).sum(axis=2).astype(np.uint8)
    filtered = _filter_rows(rows, max(1, channels * bit_depth // 8), filter_type)
    raw = np.concatenate([np.full((h, 1), filter_type, np.uint8), filtered], axis=1).tobytes()
    out = [b"\x89PNG\r\n\x1a\n",
           _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color, 0, 0, 0))]
    if palette is not None:
        out.append(_chunk(b"PLTE", pal[:, :3].tobytes()))
        if pal.shape[1] == 4:
            out.append(_chunk(b"tRNS", pal[:, 3].tobytes()))
    out.append(_chunk(b"IDAT", zlib.compress(raw, level)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def write_png(path, img: np.ndarray, palette: Optional[np.ndarray] = None, filter_type: int = 0,
              bit_depth: int = 8) -> None:
    """Write ``img`` as a PNG file at ``path``."""
    data = encode_png(img, palette=palette, filter_type=filter_type, bit_depth=bit_depth)
    with open(path, "wb") as f:
        f.write(data)
