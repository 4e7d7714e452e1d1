#!/usr/bin/env python3
"""Writes Tests/fixtures/pngsuite/expected/<name>.npy: the 8-bit pixels nin must decode from
each PngSuite file of Tests/fixtures/pngsuite/, as Pillow reads the stored samples.

Each array is ``uint8`` ``H x W x C`` with nin's channels: gray (1), gray + alpha (2), RGB (3)
or RGBA (4); palettes expand to RGB, and a ``tRNS`` chunk adds an alpha channel (0 where the
pixel equals the tRNS entry, else 255; a palette entry's tRNS value).

Two decoders make every array, and the script stops unless they agree:

* an independent numpy decoder of the raw samples here (zlib, scanline filters, Adam7, bit
  unpacking) that applies docs/PREPROCESSING.md's conversions: bits below 8 scale as
  ``v * 255 // (2**d - 1)``, 16-bit samples round as ``(v * 255 + 32767) // 65535``;
* Pillow (test-only: ``pip install pillow``), which gives the stored samples with no gamma.

For files of 8 bits or fewer the colour channels (gray, or R, G, B after palette expansion) must
equal Pillow's exactly, and so must alpha where Pillow gives it (an alpha channel; palette
tRNS through ``convert("RGBA")``). For 16-bit files Pillow gives full 16-bit samples for gray
only (``I;16``): those must equal the raw samples; for the other 16-bit files Pillow gives the
high byte, which must equal ``raw >> 8``. The stored 16-bit expectation is the documented
rounding of the raw samples, so a decoder that truncates (as Pillow does) would fail the test.
Gray tRNS is computed from the raw samples only: Pillow keeps the key at the file's bit depth
but compares it with scaled 8-bit values.

Run: python tools/make_pngsuite_expected.py   (deterministic; the Swift and Python tests read
the output, and bindings/python/tests/test_pngsuite.py checks this script is in sync).
"""
from __future__ import annotations

import os
import struct
import sys
import zlib
from typing import Dict, Tuple

import numpy as np

from nin_tools.png_read import _unfilter  # scanline filters, tested against an encoder

SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "fixtures", "pngsuite")
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunks(data: bytes) -> Dict[bytes, bytes]:
    """IHDR, PLTE, tRNS and the concatenated IDAT of a PNG (CRCs checked)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    found: Dict[bytes, bytes] = {b"IDAT": b""}
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind!r}"
        if kind == b"IDAT":
            found[b"IDAT"] += body
        else:
            found[kind] = body
        pos += 12 + length
        if kind == b"IEND":
            break
    return found


def raw_samples(data: bytes) -> Tuple[np.ndarray, int, int, Dict[bytes, bytes]]:
    """The stored samples as int64 H x W x channels (palette indices for color type 3)."""
    c = chunks(data)
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", c[b"IHDR"])
    channels = CHANNELS[color]
    raw = zlib.decompress(c[b"IDAT"])
    out = np.zeros((height, width, channels), np.int64)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    pos = 0
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue
        stride = (len(xs) * channels * depth + 7) // 8
        rows = _unfilter(raw[pos:pos + len(ys) * (stride + 1)], len(ys), stride, max(1, channels * depth // 8))
        pos += len(ys) * (stride + 1)
        if depth == 16:
            values = rows.reshape(len(ys), -1, 2).astype(np.int64)
            values = values[:, :, 0] << 8 | values[:, :, 1]
        elif depth == 8:
            values = rows.astype(np.int64)
        else:
            bits = np.unpackbits(rows, axis=1).reshape(len(ys), -1, depth).astype(np.int64)
            values = (bits << np.arange(depth - 1, -1, -1)).sum(axis=2)
        values = values[:, :len(xs) * channels].reshape(len(ys), len(xs), channels)
        out[y0::dy, x0::dx] = values
    return out, depth, color, c


def to8(v: np.ndarray, depth: int) -> np.ndarray:
    if depth == 16:
        return ((v * 255 + 32767) // 65535).astype(np.uint8)
    return (v * 255 // ((1 << depth) - 1)).astype(np.uint8)


def independent(data: bytes) -> Tuple[np.ndarray, np.ndarray, int, int]:
    """nin's expected pixels from the raw samples, plus the raw samples, depth and color type."""
    raw, depth, color, c = raw_samples(data)
    trns = c.get(b"tRNS")
    if color == 3:
        palette = np.frombuffer(c[b"PLTE"], np.uint8).reshape(-1, 3)
        index = raw[:, :, 0]
        pixels = palette[index]
        if trns is not None:
            alpha = np.full(256, 255, np.uint8)
            alpha[:len(trns)] = np.frombuffer(trns, np.uint8)
            pixels = np.concatenate([pixels, alpha[index][:, :, None]], axis=2)
        return pixels, raw, depth, color
    pixels = to8(raw, depth)
    if trns is not None:
        key = np.array(struct.unpack(f">{len(trns) // 2}H", trns), np.int64)
        transparent = (raw == key).all(axis=2)
        alpha = np.where(transparent, 0, 255).astype(np.uint8)
        pixels = np.concatenate([pixels, alpha[:, :, None]], axis=2)
    return pixels, raw, depth, color


def check_with_pillow(name: str, data: bytes, pixels: np.ndarray, raw: np.ndarray, depth: int, color: int) -> None:
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(data))
    im.load()
    color_channels = 3 if color in (2, 3, 6) else 1
    ours = pixels[:, :, :color_channels]
    if depth <= 8:
        if im.mode == "P":
            theirs = np.asarray(im.convert("RGB"))
        elif im.mode == "1":
            theirs = np.asarray(im.convert("L"))[:, :, None]
        else:
            theirs = np.asarray(im)
            theirs = theirs[:, :, None] if theirs.ndim == 2 else theirs[:, :, :color_channels]
        assert np.array_equal(ours, theirs), f"{name}: colour channels differ from Pillow's"
        if im.mode in ("LA", "RGBA"):
            assert np.array_equal(pixels[:, :, -1], np.asarray(im)[:, :, -1]), f"{name}: alpha differs from Pillow's"
        if im.mode == "P" and "transparency" in im.info:
            assert np.array_equal(pixels[:, :, 3], np.asarray(im.convert("RGBA"))[:, :, 3]), \
                f"{name}: palette alpha differs from Pillow's"
    elif im.mode == "I;16":
        assert np.array_equal(raw[:, :, 0], np.asarray(im).astype(np.int64)), f"{name}: samples differ from Pillow's"
    else:
        theirs = np.asarray(im).astype(np.int64)
        high = raw >> 8
        if color == 4:                              # Pillow reads 16-bit gray + alpha as RGBA
            high = np.concatenate([high[:, :, :1]] * 3 + [high[:, :, 1:]], axis=2)
        assert np.array_equal(high, theirs[:, :, :high.shape[2]]), f"{name}: high bytes differ from Pillow's"


def main() -> int:
    out_dir = os.path.join(SUITE, "expected")
    os.makedirs(out_dir, exist_ok=True)
    names = sorted(n[:-4] for n in os.listdir(SUITE) if n.endswith(".png"))
    for name in names:
        with open(os.path.join(SUITE, name + ".png"), "rb") as f:
            data = f.read()
        pixels, raw, depth, color = independent(data)
        check_with_pillow(name, data, pixels, raw, depth, color)
        np.save(os.path.join(out_dir, name + ".npy"), np.ascontiguousarray(pixels, np.uint8))
    print(f"wrote {len(names)} expected arrays to {os.path.normpath(out_dir)} (checked against Pillow)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
