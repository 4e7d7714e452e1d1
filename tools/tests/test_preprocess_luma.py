"""Gray conversion against Pillow's Image.convert("L") over all 2^24 colours.

Tests/golden/luma/ holds what Pillow made of every colour (a CRC-32 of all 16,777,216 values)
and of a 4,096-colour sample (tools/make_luma_golden.py, the only place Pillow is needed).
The formula of docs/PREPROCESSING.md, computed here with numpy, and the numpy reference
(nin_tools.preprocess) must both give exactly those values. The Swift tests check nin's
own conversion against the same files (Tests/NiNTests/LumaTests.swift).
"""
import zlib
from pathlib import Path

import numpy as np

from nin_tools import preprocess as nin_preprocess

REPO = Path(__file__).resolve().parents[2]

LUMA = REPO / "Tests" / "golden" / "luma"


def all_colours() -> np.ndarray:
    """Colour i (R << 16 | G << 8 | B) as row i of a 2^24 x 3 array."""
    index = np.arange(1 << 24, dtype=np.uint32)
    return np.stack([(index >> 16) & 255, (index >> 8) & 255, index & 255], axis=1).astype(np.uint8)


def formula(rgb: np.ndarray) -> np.ndarray:
    """PREPROCESSING.md: Y = (19595*R + 38470*G + 7471*B + 32768) >> 16, in exact integers."""
    r, g, b = (rgb[:, i].astype(np.int64) for i in range(3))
    return ((19595 * r + 38470 * g + 7471 * b + 32768) // 65536).astype(np.uint8)


def pillow_crc() -> int:
    return int((LUMA / "all_colours.crc32").read_text().split()[0], 16)


def test_formula_equals_pillow_on_every_colour():
    gray = formula(all_colours())
    assert zlib.crc32(gray.tobytes()) == pillow_crc()


def test_numpy_reference_equals_pillow_on_every_colour():
    gray = nin_preprocess.to_channels(all_colours().reshape(4096, 4096, 3), 1)
    assert gray.shape == (4096, 4096, 1)
    assert zlib.crc32(gray.tobytes()) == pillow_crc()


def test_formula_equals_pillow_on_the_sample():
    rgb = np.fromfile(LUMA / "sample_rgb.u8", np.uint8).reshape(-1, 3)
    expected = np.fromfile(LUMA / "sample_l.u8", np.uint8)
    assert len(rgb) == len(expected) == 4096
    assert np.array_equal(formula(rgb), expected)
    # The sample is dense enough to see a one-unit change in a coefficient: 7470 for 7471
    # moves some of these colours.
    r, g, b = (rgb[:, i].astype(np.int64) for i in range(3))
    assert ((19595 * r + 38470 * g + 7470 * b + 32768) >> 16 != expected).sum() >= 5
