#!/usr/bin/env python3
"""Writes Tests/golden/luma/: what Pillow's Image.convert("L") makes of RGB colours, so the
tests can check nin's gray conversion against Pillow without needing Pillow.

- all_colours.crc32: CRC-32 (zlib) of Pillow's L value of every one of the 2^24 colours, in
  the order of the colour's index R << 16 | G << 8 | B (16,777,216 bytes, one per colour).
  CRC-32 misses no change of up to 32 consecutive bits and any other change only with
  probability 2^-32, and 8 bytes stand for 16 MB.
- sample_rgb.u8 / sample_l.u8: 4,096 colours (fixed seed; the 8 corners of the cube first)
  as R, G, B bytes, and Pillow's L value of each, for a comparison that names the colours.

Run: python tools/make_luma_golden.py   (needs Pillow and numpy; deterministic)
"""
import os
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "golden", "luma")


def all_colours() -> np.ndarray:
    """A 4096 x 4096 RGB image whose pixel i (row-major) is the colour with index i."""
    index = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(index >> 16) & 255, (index >> 8) & 255, index & 255], axis=1).astype(np.uint8)
    return rgb.reshape(4096, 4096, 3)


def pillow_gray(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb, "RGB").convert("L"))


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    gray = pillow_gray(all_colours()).reshape(-1)
    with open(os.path.join(OUT, "all_colours.crc32"), "w") as f:
        f.write("%08x\n" % (zlib.crc32(gray.tobytes()) & 0xFFFFFFFF))
    rng = np.random.default_rng(2024)
    corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)], np.uint8)
    sample = np.concatenate([corners, rng.integers(0, 256, (4096 - 8, 3), dtype=np.uint8)])
    sample_gray = pillow_gray(sample.reshape(1, -1, 3)).reshape(-1)
    sample.tofile(os.path.join(OUT, "sample_rgb.u8"))
    sample_gray.tofile(os.path.join(OUT, "sample_l.u8"))


if __name__ == "__main__":
    main()
