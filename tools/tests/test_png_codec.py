"""Tests of the independent PNG codec (nin_tools.png_read, nin_tools.png_write): round trips
of every colour type and filter, refusals, and the fixtures of another encoder."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest

from nin_tools.png_read import PNGError, decode_png, read_png
from nin_tools.png_write import encode_png, write_png
from source_builders import FIXTURES


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_png_round_trip(channels, filter_type, tmp_path):
    rng = np.random.default_rng(channels * 10 + filter_type)
    img = rng.integers(0, 256, (11, 17, channels), dtype=np.uint8)
    img[3:6] = np.cumsum(img[3:6], axis=1, dtype=np.uint8)      # some smooth rows
    data = encode_png(img if channels > 1 else img[:, :, 0], filter_type=filter_type)
    np.testing.assert_array_equal(decode_png(data), img)
    p = tmp_path / "x.png"
    write_png(str(p), img, filter_type=filter_type)
    np.testing.assert_array_equal(read_png(str(p)), img)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
@pytest.mark.parametrize("alpha", [False, True])
def test_png_palette_round_trip(bits, alpha):
    rng = np.random.default_rng(bits)
    n = min(256, 1 << bits)
    pal = rng.integers(0, 256, (n, 4 if alpha else 3), dtype=np.uint8)
    idx = rng.integers(0, n, (9, 13), dtype=np.uint8)
    for f in (0, 4):
        got = decode_png(encode_png(idx, palette=pal, bit_depth=bits, filter_type=f))
        assert got.shape == (9, 13, 4 if alpha else 3)
        np.testing.assert_array_equal(got, pal[idx])


def _png_with_header(width, height, depth, color, interlace=0, raw=b""):
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_png_refusals():
    with pytest.raises(PNGError, match="16-bit"):
        decode_png(_png_with_header(2, 2, 16, 2, raw=b"\0" * (1 + 12) * 2))
    with pytest.raises(PNGError, match="interlaced"):
        decode_png(_png_with_header(2, 2, 8, 0, interlace=1, raw=b"\0" * 6))
    with pytest.raises(PNGError, match="4-bit gray"):
        decode_png(_png_with_header(2, 2, 4, 0, raw=b"\0\0" * 2))
    with pytest.raises(PNGError, match="signature"):
        decode_png(b"GIF89a....")
    good = encode_png(np.zeros((3, 3), np.uint8))
    corrupt = bytearray(good)
    corrupt[40] ^= 0xFF
    with pytest.raises(PNGError):
        decode_png(bytes(corrupt))
    with pytest.raises(PNGError, match="truncated"):
        decode_png(good[:-20])


def _fixture_names():
    if not os.path.isdir(FIXTURES):
        return []
    return sorted(n[:-4] for n in os.listdir(FIXTURES) if n.endswith(".png"))


@pytest.mark.skipif(not _fixture_names(), reason="Tests/fixtures/png not present")
@pytest.mark.parametrize("name", _fixture_names() or ["none"])
def test_png_fixtures_from_the_independent_encoder(name):
    """Tests/fixtures/png (tools/make_png_fixtures.py, another encoder): every supported
    kind decodes to the expected pixels; 16-bit, gray below 8 bits and interlaced files
    are refused with a PNGError."""
    with open(os.path.join(FIXTURES, name + ".png"), "rb") as f:
        data = f.read()
    supported = ("interlaced" not in name and not name.endswith("_16")
                 and (name.endswith("_8") or name.startswith("palette_")))
    if not supported:
        with pytest.raises(PNGError):
            decode_png(data)
        return
    with open(os.path.join(FIXTURES, name + ".expected"), "rb") as f:
        header = f.readline().split()
        w, h, c = (int(v) for v in header)
        want = np.frombuffer(f.read(), np.uint8).reshape(h, w, c)
    np.testing.assert_array_equal(decode_png(data), want)


@pytest.mark.skipif(not os.path.isdir(os.path.join(FIXTURES, "bad")), reason="no bad PNG fixtures")
def test_png_bad_fixtures_are_refused():
    bad = os.path.join(FIXTURES, "bad")
    for n in sorted(os.listdir(bad)):
        with pytest.raises(PNGError):
            read_png(os.path.join(bad, n))
