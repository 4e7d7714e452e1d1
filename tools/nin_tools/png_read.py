"""Minimal PNG decoder: zlib + struct (+ numpy for the result), no Pillow.

An independent decoder for golden vectors and tests (tools/make_golden.py's shipped cases,
tools/make_pngsuite_expected.py's scanline filters). It is not the converter's: calibration
decodes PNGs with the runtime's own decoder (``nin.load_png``), so it sees nin's pixels.

Supports non-interlaced PNGs of bit depth 8 in gray (1 channel), gray + alpha (2), RGB (3)
and RGBA (4), and palette images of bit depth 1, 2, 4 or 8 (expanded to RGB, or RGBA when
the file has a ``tRNS`` chunk).  Anything else (16-bit samples, gray below 8 bits,
Adam7 interlacing, a broken chunk) is refused with a :class:`PNGError` saying what.

Returns ``uint8`` arrays shaped ``H x W x C`` with the channels as stored: no gamma, colour
profile or alpha compositing is applied (nin's preprocessing drops alpha; see
``docs/PREPROCESSING.md``).

    from nin_tools.png_read import read_png
    img = read_png("examples/images/test_00000_ankle_boot.png")   # (28, 28, 1) uint8
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Union

import numpy as np

__all__ = ["PNGError", "read_png", "decode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_COLOR_NAMES = {0: "gray", 2: "RGB", 3: "palette", 4: "gray+alpha", 6: "RGBA"}


class PNGError(ValueError):
    """A PNG that is malformed or uses a feature this decoder does not support."""


def read_png(path_or_bytes: Union[str, bytes, bytearray, os.PathLike]) -> np.ndarray:
    """Decode a PNG file (path) or PNG bytes into uint8 H x W x C."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return decode_png(bytes(path_or_bytes))
    with open(path_or_bytes, "rb") as f:
        data = f.read()
    try:
        return decode_png(data)
    except PNGError as e:
        raise PNGError(f"{path_or_bytes}: {e}") from None


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undo the per-scanline filters; returns uint8 [height, stride]."""
    need = height * (stride + 1)
    if len(raw) < need:
        raise PNGError(f"image data is short: {len(raw)} bytes inflated, {need} needed")
    rows = np.frombuffer(raw, np.uint8, count=need).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        ftype = int(rows[y, 0])
        line = rows[y, 1:]
        if ftype == 0:                                   # None
            cur = line.copy()
        elif ftype == 1:                                 # Sub: cumulative per byte lane
            cur = np.empty(stride, np.uint8)
            for lane in range(min(bpp, stride)):
                cur[lane::bpp] = np.cumsum(line[lane::bpp], dtype=np.uint64) % 256
        elif ftype == 2:                                 # Up
            cur = (line.astype(np.uint16) + prev).astype(np.uint8)
        elif ftype in (3, 4):                            # Average, Paeth: sequential
            cur_b = bytearray(line.tobytes())
            up = prev.tobytes()
            if ftype == 3:
                for i in range(stride):
                    left = cur_b[i - bpp] if i >= bpp else 0
                    cur_b[i] = (cur_b[i] + ((left + up[i]) >> 1)) & 0xFF
            else:
                for i in range(stride):
                    if i >= bpp:
                        a, c = cur_b[i - bpp], up[i - bpp]
                    else:
                        a = c = 0
                    b = up[i]
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    if pa <= pb and pa <= pc:
                        pred = a
                    elif pb <= pc:
                        pred = b
                    else:
                        pred = c
                    cur_b[i] = (cur_b[i] + pred) & 0xFF
            cur = np.frombuffer(bytes(cur_b), np.uint8)
        else:
            raise PNGError(f"scanline {y} has unknown filter type {ftype}")
        out[y] = cur
        prev = out[y]
    return out


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes into uint8 H x W x C (see the module docstring)."""
    if data[:8] != PNG_SIGNATURE:
        raise PNGError("not a PNG file (bad signature)")
    pos = 8
    ihdr = None
    palette = None
    trns = None
    idat = []
    seen_iend = False
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc_bytes = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc_bytes) != 4:
            raise PNGError(f"chunk {ctype!r} is truncated")
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != struct.unpack(">I", crc_bytes)[0]:
            raise PNGError(f"chunk {ctype.decode('latin-1')!r} has a bad CRC")
        pos += 12 + length
        if ctype == b"IHDR":
            if length != 13:
                raise PNGError("IHDR chunk must be 13 bytes")
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ihdr is None:
            raise PNGError(f"first chunk is {ctype!r}, not IHDR")
        elif ctype == b"PLTE":
            if length % 3 or not 1 <= length // 3 <= 256:
                raise PNGError("PLTE chunk length is not a multiple of 3 in [3, 768]")
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif ctype == b"tRNS":
            trns = body
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            seen_iend = True
            break
        elif not (ctype[0] & 0x20):          # critical chunk we do not know
            raise PNGError(f"unsupported critical chunk {ctype.decode('latin-1')!r}")
    if ihdr is None:
        raise PNGError("no IHDR chunk")
    if not seen_iend:
        raise PNGError("file is truncated (no IEND chunk)")
    width, height, depth, color, compression, filt, interlace = ihdr
    if width == 0 or height == 0:
        raise PNGError(f"image size {width}x{height} is empty")
    if color not in _CHANNELS:
        raise PNGError(f"invalid color type {color}")
    if compression != 0 or filt != 0:
        raise PNGError(f"unknown compression ({compression}) or filter method ({filt})")
    if interlace != 0:
        raise PNGError("interlaced (Adam7) PNGs are not supported; save it non-interlaced")
    cname = _COLOR_NAMES[color]
    if color == 3:
        if depth not in (1, 2, 4, 8):
            raise PNGError(f"palette PNG with bit depth {depth} is invalid")
        if palette is None:
            raise PNGError("palette PNG without a PLTE chunk")
    elif depth != 8:
        raise PNGError(f"{depth}-bit {cname} PNGs are not supported (8-bit samples only)")
    if not idat:
        raise PNGError("no IDAT chunk")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise PNGError(f"image data does not inflate: {e}") from None

    channels = _CHANNELS[color]
    bits_per_pixel = depth * channels
    stride = (width * bits_per_pixel + 7) // 8
    bpp = max(1, bits_per_pixel // 8)
    rows = _unfilter(raw, height, stride, bpp)

    if color != 3:
        return rows.reshape(height, width, channels).copy()
    # palette: unpack indices
    if depth == 8:
        idx = rows[:, :width]
    else:
        bits = np.unpackbits(rows, axis=1)                      # MSB first
        bits = bits[:, :width * depth].reshape(height, width, depth)
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        idx = (bits * weights).sum(axis=2).astype(np.uint8)
    if int(idx.max()) >= palette.shape[0]:
        raise PNGError(f"palette index {int(idx.max())} outside the {palette.shape[0]}-entry palette")
    if trns is not None:
        alpha = np.full(palette.shape[0], 255, np.uint8)
        t = np.frombuffer(trns, np.uint8)[:palette.shape[0]]
        alpha[:t.shape[0]] = t
        lut = np.concatenate([palette, alpha[:, None]], axis=1)
    else:
        lut = palette
    return lut[idx].copy()
