#!/usr/bin/env python3
"""Writes the PNG test fixtures of Tests/fixtures/png/ with an independent pure-Python encoder.

For every color type and bit depth PNG allows (gray 1/2/4/8/16, RGB 8/16, palette 1/2/4/8,
gray+alpha 8/16, RGBA 8/16), plain and Adam7-interlaced, with every scanline filter in use, it
writes `<name>.png` and `<name>.expected` — the 8-bit pixels nin must decode, as a text header
line "W H C" followed by the raw bytes — computed here from the source samples:
low bit depths scale to 8 bits as v * 255 / (2^d - 1), 16-bit samples round as
(v * 255 + 32767) // 65535, palettes expand to RGB; alpha is kept as stored (colour is never
premultiplied by it, 16-bit images included). Two 8-bit files (gray, RGB) carry gAMA 1.0, cHRM
and sBIT chunks, which must not change the samples. It also writes broken files:
corrupt (a flipped IDAT byte), truncated, not a PNG, oversized (a 20000x20000 header), and
declares_more (65 bytes declaring 512 MB of samples).

Run: python tools/make_png_fixtures.py   (deterministic; the Swift tests read the output)
"""
import os
import random
import struct
import sys
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "fixtures", "png")

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def pack_row(samples, depth):
    """Packs one row of samples (already flattened over channels) at `depth` bits."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def filter_rows(rows, bpp, first_filter):
    """Applies filter (first_filter + y) % 5 to each packed row."""
    out, prev = bytearray(), bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        f = (first_filter + y) % 5
        out.append(f)
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
            out.append((x - pred) & 0xFF)
        prev = row
    return bytes(out)


def encode(width, height, color_type, depth, pixels, palette=None, interlace=False, ancillary=b""):
    """pixels[y][x] is a tuple of samples (palette index for color type 3); `ancillary` is
    chunks written before the image data."""
    channels = CHANNELS[color_type]
    bpp = max(1, channels * depth // 8)
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for n, (x0, y0, dx, dy) in enumerate(passes):
        xs, ys = list(range(x0, width, dx)), list(range(y0, height, dy))
        if not xs or not ys:
            continue
        rows = [pack_row([s for x in xs for s in pixels[y][x]], depth) for y in ys]
        raw += filter_rows(rows, bpp, n)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette is not None:
        data += chunk(b"PLTE", bytes(v for entry in palette for v in entry))
    return data + ancillary + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def to8(v, depth):
    if depth == 16:
        return (v * 255 + 32767) // 65535
    return v * 255 // ((1 << depth) - 1)


def write(name, png, width, height, channels, expected):
    with open(os.path.join(OUT, name + ".png"), "wb") as f:
        f.write(png)
    with open(os.path.join(OUT, name + ".expected"), "wb") as f:
        f.write(f"{width} {height} {channels}\n".encode() + bytes(expected))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20261129)
    cases = [(0, d) for d in (1, 2, 4, 8, 16)] + [(2, 8), (2, 16)] + [(3, d) for d in (1, 2, 4, 8)] \
        + [(4, 8), (4, 16), (6, 8), (6, 16)]
    names = {0: "gray", 2: "rgb", 3: "palette", 4: "gray_alpha", 6: "rgba"}
    count = 0
    for color_type, depth in cases:
        for interlace in (False, True):
            width, height = rng.randint(9, 23), rng.randint(9, 23)
            channels = CHANNELS[color_type]
            top = (1 << depth) - 1
            palette = None
            if color_type == 3:
                palette = [tuple(rng.randrange(256) for _ in range(3)) for _ in range(1 << depth)]
            pixels, expected = [], []
            for y in range(height):
                row = []
                for x in range(width):
                    px = [rng.randint(0, top) for _ in range(channels)]
                    row.append(tuple(px))
                    if color_type == 3:
                        expected += palette[px[0]]
                    else:
                        expected += [to8(v, depth) for v in px]
                pixels.append(row)
            out_channels = 3 if color_type == 3 else channels
            name = f"{names[color_type]}_{depth}{'_interlaced' if interlace else ''}"
            write(name, encode(width, height, color_type, depth, pixels, palette, interlace),
                  width, height, out_channels, expected)
            count += 1

    # Chunks that must not change the samples: gAMA 1.0 and cHRM (a decoder converting to sRGB
    # brightens mid-tones), sBIT (a decoder honouring it shifts samples right).
    chrm = struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)
    for name, color_type, sbit in (("ancillary_gray_8", 0, b"\x03"), ("ancillary_rgb_8", 2, b"\x05\x06\x05")):
        width, height, channels = rng.randint(9, 23), rng.randint(9, 23), CHANNELS[color_type]
        pixels = [[tuple(rng.randint(0, 255) for _ in range(channels)) for _ in range(width)] for _ in range(height)]
        ancillary = chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"cHRM", chrm) + chunk(b"sBIT", sbit)
        write(name, encode(width, height, color_type, 8, pixels, ancillary=ancillary), width, height, channels,
              [v for row in pixels for px in row for v in px])
        count += 1

    good = encode(16, 16, 0, 8, [[(x * 16 + y,) for x in range(16)] for y in range(16)])
    bad_dir = os.path.join(OUT, "bad")
    os.makedirs(bad_dir, exist_ok=True)
    idat = good.index(b"IDAT")
    corrupt = bytearray(good)
    corrupt[idat + 10] ^= 0xFF
    broken = {
        "corrupt_idat.png": bytes(corrupt),
        "truncated.png": good[: len(good) // 2],
        "not_a_png.png": b"this is not a PNG file at all\n" * 4,
        "empty.png": b"",
        "oversized.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""),
        # 65 bytes declaring 8000x8000 16-bit RGBA (512 MB of samples): refused from the sizes alone,
        # before the pixel buffer is allocated (deflate cannot expand 65 bytes that far).
        "declares_more.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 16, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""),
    }
    for name, data in broken.items():
        with open(os.path.join(bad_dir, name), "wb") as f:
            f.write(data)
    print(f"wrote {count} PNG fixtures and {len(broken)} broken files to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
