"""Tests of tools/make_crc32_tables.py: the committed Sources/NiNCPU/include/ninpriv_crc32_tables.h
is its output, and its eight tables, used as the engine's slicing-by-8 loop uses them
(Sources/NiN/Model/CRC32.swift), give a bitwise CRC-32's and zlib's value at every length and
offset tried, continued across split points too.
"""

from __future__ import annotations

import importlib.util
import random
import re
import struct
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("make_crc32_tables", REPO / "tools" / "make_crc32_tables.py")
make_crc32_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_crc32_tables)


def bitwise_crc32(data: bytes, previous: int = 0) -> int:
    """CRC-32 one bit at a time: no table."""
    crc = previous ^ 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def committed_tables() -> list[int]:
    """The 2,048 words of the committed header's array, as a C compiler reads them."""
    text = make_crc32_tables.OUT.read_text()
    body = text[text.index("ninpriv_crc32_table_words[8 * 256] = {"):text.index("};")]
    return [int(word, 16) for word in re.findall(r"0x([0-9a-f]{8})u", body)]


def sliced_crc32(tables: list[int], data: bytes, previous: int = 0) -> int:
    """The engine's loop (CRC32.swift): eight bytes a step through the eight tables, then bytewise."""
    t = tables
    crc = previous ^ 0xFFFFFFFF
    at = 0
    while len(data) - at >= 8:
        lo = struct.unpack_from("<I", data, at)[0] ^ crc
        hi = struct.unpack_from("<I", data, at + 4)[0]
        crc = (t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >> 8) & 0xFF)] ^ t[5 * 256 + ((lo >> 16) & 0xFF)]
               ^ t[4 * 256 + (lo >> 24)] ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >> 8) & 0xFF)]
               ^ t[1 * 256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24])
        at += 8
    for byte in data[at:]:
        crc = t[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def test_committed_header_is_the_generator_output():
    assert make_crc32_tables.OUT.read_text() == make_crc32_tables.header(), \
        "run tools/make_crc32_tables.py: the committed header is stale"


def test_committed_tables_are_2048_words_matching_the_generator():
    words = committed_tables()
    assert len(words) == 8 * 256
    assert words == [v for table in make_crc32_tables.crc32_tables() for v in table]


def test_bytewise_table_is_the_crc_of_each_byte():
    table = committed_tables()[:256]
    for n in range(256):
        # The register after byte n from a zero register: the CRC of [n] with no pre/post inversion.
        assert table[n] == bitwise_crc32(bytes([n]), 0xFFFFFFFF) ^ 0xFFFFFFFF, n


def test_sliced_loop_equals_bitwise_and_zlib_at_every_length_and_offset():
    rng = random.Random(2026)
    data = bytes(rng.getrandbits(8) for _ in range(600))
    tables = committed_tables()
    for offset in range(9):
        for length in list(range(0, 70)) + [127, 128, 129, 500]:
            chunk = data[offset:offset + length]
            want = bitwise_crc32(chunk)
            assert want == zlib.crc32(chunk)
            assert sliced_crc32(tables, chunk) == want, (offset, length)


def test_sliced_loop_continues_across_split_points():
    rng = random.Random(7)
    data = bytes(rng.getrandbits(8) for _ in range(300))
    tables = committed_tables()
    whole = zlib.crc32(data)
    for split in (0, 1, 7, 8, 9, 64, 299, 300):
        assert sliced_crc32(tables, data[split:], sliced_crc32(tables, data[:split])) == whole, split
