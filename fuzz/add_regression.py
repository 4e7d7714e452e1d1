#!/usr/bin/env python3
"""Commits fuzzing inputs as regression tests: fuzz/add_regression.py TARGET FILE...

TARGET is `model` or `png`. Each FILE (a crash artifact from .build-fuzz/crashes/TARGET/, or
any input) is re-sealed exactly as the fuzz target re-seals it before use (model: the real size
at offset 16 and the CRC-32 of bytes [64, end) at offset 24; png: every complete chunk's CRC-32),
unless NIN_FUZZ_RAW=1, and written to fuzz/regressions/TARGET/ named by its SHA-1, so that
Tests/NiNTests/FuzzRegressionTests.swift replays the bytes the engine saw."""

import hashlib
import os
import struct
import sys
import zlib
from pathlib import Path


def reseal_model(data: bytearray) -> None:
    if len(data) >= 64:
        struct.pack_into("<Q", data, 16, len(data))
        struct.pack_into("<I", data, 24, zlib.crc32(bytes(data[64:])) & 0xFFFFFFFF)


def reseal_png(data: bytearray) -> None:
    at = 8
    while at + 12 <= len(data):
        length = struct.unpack_from(">I", data, at)[0]
        end = at + 8 + length
        if end + 4 > len(data):
            return
        struct.pack_into(">I", data, end, zlib.crc32(bytes(data[at + 4:end])) & 0xFFFFFFFF)
        at = end + 4


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("model", "png"):
        print(__doc__, file=sys.stderr)
        return 2
    target = argv[1]
    out = Path(__file__).resolve().parent / "regressions" / target
    out.mkdir(parents=True, exist_ok=True)
    for name in argv[2:]:
        data = bytearray(Path(name).read_bytes())
        if os.environ.get("NIN_FUZZ_RAW") != "1":
            (reseal_model if target == "model" else reseal_png)(data)
        path = out / (hashlib.sha1(data).hexdigest() + (".nin" if target == "model" else ".png"))
        path.write_bytes(data)
        print(path.relative_to(out.parent.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
