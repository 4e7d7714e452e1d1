"""Tests of nin_tools.model_format: the .nin reader, writer and validator (docs/FORMAT.md).

Every rule is broken once, in the bytes of a file (the reader) and in a model in memory
(validate and the writer), and the error must name the rule, the layer and the field.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model_builders import bounded_model, small_model
from nin_tools import model_format as F
from nin_tools.model_format import NinFormatError

TOOLS = Path(__file__).resolve().parent.parent
GOLDEN = TOOLS.parent / "Tests" / "golden"


def nin_info(path) -> subprocess.CompletedProcess:
    """tools/nin-info on a file, under this interpreter."""
    return subprocess.run([str(TOOLS / "nin-info"), str(path)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHON=sys.executable))


BASE = F.to_bytes(small_model())


def table(data: bytes) -> dict:
    """kind -> (entry index, offset, size)."""
    count = struct.unpack_from("<I", data, 12)[0]
    out = {}
    for j in range(count):
        kind, _, off, size = struct.unpack_from("<4sIQQ", data, 64 + 24 * j)
        out[kind.decode("latin-1")] = (j, off, size)
    return out


def fix_crc(buf: bytearray) -> bytearray:
    struct.pack_into("<I", buf, 24, zlib.crc32(bytes(buf[64:])) & 0xFFFFFFFF)
    return buf


def patched(pos: int, fmt: str, value, data: bytes = BASE, crc: bool = True) -> bytes:
    buf = bytearray(data)
    struct.pack_into(fmt, buf, pos, value)
    return bytes(fix_crc(buf) if crc else buf)


def entry_pos(kind: str, field: str, data: bytes = BASE) -> int:
    j = table(data)[kind][0]
    return 64 + 24 * j + {"kind": 0, "reserved": 4, "offset": 8, "size": 16}[field]


def grph(field_offset: int) -> int:
    return table(BASE)["GRPH"][1] + field_offset


LAYER_FIELDS = {"op": 0, "flags": 4, "in_channels": 8, "out_channels": 12, "kernel_h": 16,
                "kernel_w": 20, "stride_h": 24, "stride_w": 28, "pad_top": 32, "pad_left": 36,
                "pad_bottom": 40, "pad_right": 44, "output_scale": 48,
                "output_zero_point": 52, "weights_offset": 56, "bias_offset": 60,
                "multiplier_offset": 64, "shift_offset": 68, "weight_scale_offset": 72,
                "output_max": 76, "weight_max": 80, "quad_weights_offset": 84, "reserved": 88}


def layer_pos(i: int, field: str) -> int:
    return grph(32 + 96 * i + LAYER_FIELDS[field])


def layer_array_pos(i: int, name: str, index: int = 0) -> int:
    off = struct.unpack_from("<I", BASE, layer_pos(i, name + "_offset"))[0]
    item = 1 if name == "weights" else 4
    return table(BASE)["WGHT"][1] + off + item * index


def expect(data: bytes, *patterns: str):
    with pytest.raises(NinFormatError) as ei:
        F.from_bytes(data)
    msg = str(ei.value)
    for p in patterns:
        assert p in msg, f"{p!r} not in {msg!r}"
    return msg


def expect_model(model: F.Model, *patterns: str):
    for fn in (F.validate, F.to_bytes):
        with pytest.raises(NinFormatError) as ei:
            fn(model)
        for p in patterns:
            assert p in str(ei.value), f"{p!r} not in {str(ei.value)!r}"


def test_round_trip(tmp_path):
    m = small_model()
    data = F.to_bytes(m)
    back = F.from_bytes(data)
    assert back == m
    assert F.to_bytes(back) == data
    F.write(m, tmp_path / "m.nin")
    assert F.read(tmp_path / "m.nin") == m
    assert (tmp_path / "m.nin").read_bytes() == data
    assert back.layers[0].weights.dtype == np.int8
    assert back.layers[0].bias.dtype == np.int32
    assert back.layers[0].weight_scale.dtype == np.float32
    assert back.layers[1].weights is None


def test_equality_detects_differences():
    a, b = small_model(), small_model()
    assert a == b
    b.layers[0].weights[0, 0, 0, 0] ^= 1
    assert a != b
    b = small_model()
    b.labels[1] = "x"
    assert a != b
    b = small_model()
    b.layers[3].output_scale = 0.031
    assert a != b


def test_layout():
    t = table(BASE)
    assert list(t) == ["GRPH", "WGHT", "LBLS", "META"]
    assert [v[0] for v in t.values()] == [0, 1, 2, 3]
    for _, off, _ in t.values():
        assert off % 64 == 0
    assert BASE[:4] == b"NINM"
    assert struct.unpack_from("<HHIIQ", BASE, 4) == (1, 0, 64, 4, len(BASE))
    _, off, size = t["META"]
    assert off + size == len(BASE)
    assert BASE[off:] == b"name\0t\0created\0\0"
    _, off, size = t["LBLS"]
    assert BASE[off:off + size] == b"a\0b\0c\0"
    assert t["WGHT"][2] % 64 == 0
    # No META when metadata is empty.
    m = small_model()
    m.metadata = {}
    assert list(table(F.to_bytes(m))) == ["GRPH", "WGHT", "LBLS"]


def test_output_shapes():
    assert small_model().output_shapes() == [(4, 9, 8), (4, 4, 4), (4, 4, 4), (3, 4, 4),
                                             (3, 1, 1)]


@pytest.mark.parametrize("case", sorted(f"{p.parent.name}/{p.name}" for p in
                                         [*(GOLDEN / "net").glob("*"), *(GOLDEN / "bounds").glob("*")]))
def test_golden_models_round_trip(case):
    data = (GOLDEN / case / "model.nin").read_bytes()
    assert F.to_bytes(F.from_bytes(data)) == data
    # 1.1 files (bounds/) have version_minor 1, the one with quad weights 2, the others 0
    minor = 2 if case.endswith("quad_weights") else 1 if case.startswith("bounds/") else 0
    assert struct.unpack_from("<H", data, 6)[0] == minor


def test_minor_version_accepted():
    F.from_bytes(patched(6, "<H", 7))


def test_cli_summary():
    path = GOLDEN / "net" / "classic_narrow" / "model.nin"
    r = nin_info(path)
    assert r.returncode == 0, r.stderr
    assert "1x227x227" in r.stdout and "gap" in r.stdout and "Ankle boot" in r.stdout


def test_cli_error(tmp_path):
    p = tmp_path / "bad.nin"
    p.write_bytes(b"XXXX" + BASE[4:])
    r = nin_info(p)
    assert r.returncode == 1 and "magic" in r.stderr


def _boundaries():
    t = table(BASE)
    b = {0, 1, 4, 63, 64, 64 + 24, 64 + 24 * 4 - 1, 64 + 24 * 4}
    for _, off, size in t.values():
        b |= {off, off + 1, off + size // 2, off + size - 1, off + size}
    return sorted(x for x in b if x < len(BASE))


@pytest.mark.parametrize("cut", _boundaries())
def test_truncated(cut):
    data = BASE[:cut]
    if cut < 64:
        expect(data, "header", "64-byte header")
        return
    expect(data, "file_bytes")
    # Same truncation with a consistent header: the section table must catch it.
    buf = bytearray(data)
    struct.pack_into("<Q", buf, 16, cut)
    msg = expect(bytes(fix_crc(buf)))
    assert "section" in msg or "table" in msg, msg


def test_padded_file():
    expect(BASE + b"\0", "file_bytes")
    # Declared and zero: allowed (bytes after the last section are zero).
    buf = bytearray(BASE + b"\0" * 3)
    struct.pack_into("<Q", buf, 16, len(buf))
    F.from_bytes(bytes(fix_crc(buf)))
    buf[-1] = 1
    expect(bytes(fix_crc(buf)), "padding: bytes")


def test_header_rules():
    expect(b"NINX" + BASE[4:], "magic")
    expect(patched(4, "<H", 2, crc=False), "version_major", "2")
    expect(patched(4, "<H", 0, crc=False), "version_major")
    expect(patched(8, "<I", 65, crc=False), "header_bytes")
    expect(patched(16, "<Q", len(BASE) + 1, crc=False), "file_bytes")
    expect(patched(40, "<B", 1, crc=False), "reserved")
    expect(patched(12, "<I", 0, crc=False), "section_count")
    expect(patched(12, "<I", 17, crc=False), "section_count")
    expect(patched(24, "<I", struct.unpack_from("<I", BASE, 24)[0] ^ 1, crc=False), "crc32")
    buf = bytearray(BASE)
    buf[-3] ^= 0x40                            # a body byte, crc not fixed
    expect(bytes(buf), "crc32")


def test_section_table_rules():
    t = table(BASE)
    expect(patched(entry_pos("LBLS", "kind"), "<4s", b"LBLX"), "unknown kind", "LBLX")
    expect(patched(entry_pos("META", "kind"), "<4s", b"LBLS"), "LBLS", "twice")
    expect(patched(entry_pos("GRPH", "reserved"), "<I", 1), "GRPH", "reserved")
    expect(patched(entry_pos("LBLS", "offset"), "<Q", t["LBLS"][1] + 1), "LBLS", "multiple of 64")
    expect(patched(entry_pos("WGHT", "offset"), "<Q", t["GRPH"][1]), "WGHT", "overlaps")
    expect(patched(entry_pos("GRPH", "offset"), "<Q", 64), "GRPH", "overlaps")
    expect(patched(entry_pos("GRPH", "size"), "<Q", t["WGHT"][1] - t["GRPH"][1] + 1),
           "WGHT", "overlaps")
    expect(patched(entry_pos("META", "offset"), "<Q", 1 << 40), "META", "ends at byte")
    expect(patched(entry_pos("META", "size"), "<Q", (1 << 64) - 1), "META", "ends at byte")
    # Out of order: swap the GRPH and WGHT entries.
    buf = bytearray(BASE)
    a, b = entry_pos("GRPH", "kind"), entry_pos("WGHT", "kind")
    buf[a:a + 24], buf[b:b + 24] = BASE[b:b + 24], BASE[a:a + 24]
    expect(bytes(fix_crc(buf)), "GRPH", "increasing offset order")
    # Missing required section: only 2 entries declared.
    expect(patched(12, "<I", 2), "required section LBLS is missing")
    # Nonzero padding between the table and GRPH, and between sections.
    expect(patched(64 + 24 * 4 + 3, "<B", 1), "padding: bytes")
    end = t["LBLS"][1] + t["LBLS"][2]
    assert end < t["META"][1]
    expect(patched(end, "<B", 1), "padding: bytes")


def test_grph_input_rules():
    expect(patched(grph(0), "<I", 2), "input channels")
    expect(patched(grph(4), "<I", 0), "input height")
    expect(patched(grph(4), "<I", 4097), "input height")
    expect(patched(grph(8), "<I", 0), "input width")
    expect(patched(grph(12), "<I", 0), "layer_count")
    expect(patched(grph(12), "<I", 257), "layer_count")
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        expect(patched(grph(16), "<f", bad), "input_scale")
    expect(patched(grph(20), "<i", 256), "input_zero_point")
    expect(patched(grph(20), "<i", -1), "input_zero_point")
    expect(patched(grph(24), "<I", 4), "class_count")
    expect(patched(grph(28), "<I", 1), "GRPH", "reserved")
    expect(patched(grph(12), "<I", 4), "GRPH", "exactly")
    # GRPH shorter than its input record.
    expect(patched(entry_pos("GRPH", "size"), "<Q", 16), "GRPH", "32-byte input record")


@pytest.mark.parametrize("i,field,value,fmt,patterns", [
    (0, "op", 0, "<I", ("layer 0", "op")),
    (1, "op", 5, "<I", ("layer 1", "op")),
    (0, "flags", 2, "<I", ("layer 0", "quad weights byte 4 (channel 1) differs")),  # a copy at WGHT+0: the OHWI bytes
    (1, "flags", 1, "<I", ("layer 1", "ReLU")),
    (4, "flags", 1, "<I", ("layer 4", "ReLU")),
    (0, "in_channels", 1, "<I", ("layer 0", "in_channels")),
    (3, "in_channels", 3, "<I", ("layer 3", "in_channels")),
    (0, "out_channels", 0, "<I", ("layer 0", "out_channels")),
    (0, "out_channels", 4097, "<I", ("layer 0", "out_channels")),
    (1, "out_channels", 5, "<I", ("layer 1", "out_channels")),
    (4, "out_channels", 4, "<I", ("layer 4", "out_channels")),
    (0, "kernel_h", 0, "<I", ("layer 0", "kernel_h")),
    (1, "kernel_h", 65, "<I", ("layer 1", "kernel_h")),
    (2, "kernel_w", 0, "<I", ("layer 2", "kernel_w")),
    (0, "stride_h", 0, "<I", ("layer 0", "stride_h")),
    (2, "stride_w", 65, "<I", ("layer 2", "stride_w")),
    (0, "pad_top", 3, "<I", ("layer 0", "pad_top")),
    (0, "pad_left", 3, "<I", ("layer 0", "pad_left")),
    (2, "pad_bottom", 3, "<I", ("layer 2", "pad_bottom")),
    (2, "pad_right", 7, "<I", ("layer 2", "pad_right")),
    (1, "kernel_w", 9, "<I", ("layer 1", "does not fit")),
    (4, "kernel_h", 1, "<I", ("layer 4", "gap kernel")),
    (4, "pad_left", 1, "<I", ("layer 4", "gap kernel")),
    (0, "output_scale", 0.0, "<f", ("layer 0", "output_scale")),
    (0, "output_scale", float("nan"), "<f", ("layer 0", "output_scale")),
    (0, "output_scale", float("inf"), "<f", ("layer 0", "output_scale")),
    (3, "output_scale", -0.5, "<f", ("layer 3", "output_scale")),
    (1, "output_scale", 0.051, "<f", ("layer 1", "output_scale", "input scale")),
    (4, "output_scale", 0.031, "<f", ("layer 4", "output_scale")),
    (0, "output_zero_point", 256, "<i", ("layer 0", "output_zero_point")),
    (0, "output_zero_point", -1, "<i", ("layer 0", "output_zero_point")),
    (3, "output_zero_point", 1, "<i", ("layer 3", "output_zero_point", "ReLU")),
    (2, "output_zero_point", 11, "<i", ("layer 2", "output_zero_point", "input")),
    (4, "output_zero_point", 1, "<i", ("layer 4", "output_zero_point")),
    (1, "weights_offset", 64, "<I", ("layer 1", "offsets")),
    (4, "weight_scale_offset", 64, "<I", ("layer 4", "offsets")),
    (0, "weights_offset", 1, "<I", ("layer 0", "weights_offset", "multiple of 64")),
    (0, "shift_offset", 1 << 20, "<I", ("layer 0", "shift", "WGHT")),
    (3, "bias_offset", 0xFFFFFFC0, "<I", ("layer 3", "bias", "WGHT")),
    (0, "quad_weights_offset", 1, "<B", ("layer 0", "quad_weights_offset is 1 without the quad weights flag")),
    (3, "quad_weights_offset", 1 << 24, "<I", ("layer 3", "quad_weights_offset", "without")),
    (1, "quad_weights_offset", 1 << 56, "<Q", ("layer 1", "reserved bytes 88..95")),
    (0, "reserved", 1, "<B", ("layer 0", "reserved bytes 88..95")),
    (3, "reserved", 1 << 24, "<I", ("layer 3", "reserved bytes 88..95")),
    (0, "flags", 4, "<I", ("layer 0", "flags 0x4", "bit 1 (quad weights)")),
    (1, "flags", 2, "<I", ("layer 1", "quad weights flag is only allowed on conv")),
])
def test_layer_field_rules(i, field, value, fmt, patterns):
    expect(patched(layer_pos(i, field), fmt, value), *patterns)


def test_layer_array_rules():
    expect(patched(layer_array_pos(0, "weights", 5), "<b", -128), "layer 0", "weights[5]")
    expect(patched(layer_array_pos(0, "multiplier", 1), "<i", (1 << 30) - 1),
           "layer 0", "multiplier[1]")
    expect(patched(layer_array_pos(3, "multiplier", 2), "<I", 1 << 31), "layer 3", "multiplier[2]")
    expect(patched(layer_array_pos(0, "shift", 0), "<i", 0), "layer 0", "shift[0]")
    expect(patched(layer_array_pos(3, "shift", 1), "<i", 63), "layer 3", "shift[1]")
    expect(patched(layer_array_pos(0, "weight_scale", 2), "<f", 0.0), "layer 0", "weight_scale[2]")
    expect(patched(layer_array_pos(0, "weight_scale", 2), "<f", float("nan")), "weight_scale[2]")
    worst = 255 * 127 * 3 * 3 * 3
    expect(patched(layer_array_pos(0, "bias", 3), "<i", (1 << 31) - worst), "layer 0",
           "accumulator bound", "channel 3")
    expect(patched(layer_array_pos(0, "bias", 3), "<i", -(1 << 31) + worst), "accumulator bound")
    # Exactly at the bound (2^31 - 1) is allowed.
    F.from_bytes(patched(layer_array_pos(0, "bias", 3), "<i", (1 << 31) - 1 - worst))
    F.from_bytes(patched(layer_array_pos(0, "bias", 3), "<i", -((1 << 31) - 1 - worst)))


def test_wght_size_rule():
    t = table(BASE)
    expect(patched(entry_pos("WGHT", "size"), "<Q", t["WGHT"][2] - 1), "WGHT", "multiple of 64")


def test_labels_rules():
    off = table(BASE)["LBLS"][1]                       # b"a\0b\0c\0"
    expect(patched(off + 1, "<B", ord("x")), "LBLS", "2 labels", "class_count is 3")
    expect(patched(off + 5, "<B", ord("x")), "LBLS", "NUL")
    expect(patched(off + 1, "<2s", b"x\0"), "LBLS", "label 1 is empty")
    expect(patched(off, "<B", 0xFF), "LBLS", "UTF-8")


def test_metadata_rules():
    off = table(BASE)["META"][1]                       # b"name\0t\0created\0\0"
    expect(patched(off + 6, "<B", ord("x")), "META", "no value")
    expect(patched(off + 15, "<B", ord("x")), "META", "NUL")
    expect(patched(off, "<4s", b"\0\0\0\0"), "META", "key is empty")
    expect(patched(off + 1, "<B", 0xC3), "META", "UTF-8")
    m = small_model()
    m.metadata = {"aa": "x", "bb": "y"}
    data = F.to_bytes(m)
    moff = table(data)["META"][1]
    assert data[moff:moff + 10] == b"aa\0x\0bb\0y\0"
    expect(patched(moff + 5, "<2s", b"aa", data=data), "META", "appears twice")


def test_validate_in_memory():
    F.validate(small_model())

    def mod(fn, *patterns):
        m = small_model()
        fn(m)
        expect_model(m, *patterns)

    mod(lambda m: setattr(m, "input_shape", (2, 9, 8)), "input channels")
    mod(lambda m: setattr(m, "input_shape", (3, 4097, 8)), "input height")
    mod(lambda m: setattr(m, "input_scale", 0.0), "input_scale")
    mod(lambda m: setattr(m, "input_scale", 1e39), "input_scale")     # inf as float32
    mod(lambda m: setattr(m, "input_zero_point", 300), "input_zero_point")
    mod(lambda m: setattr(m, "layers", []), "layer_count")
    mod(lambda m: setattr(m.layers[0], "op", "dense"), "layer 0", "op")
    mod(lambda m: setattr(m.layers[0], "weights", None), "layer 0", "needs weights")
    mod(lambda m: setattr(m.layers[0], "bias", np.zeros(3, np.int32)), "layer 0", "bias",
        "shape")
    mod(lambda m: setattr(m.layers[0], "weights", m.layers[0].weights.astype(np.float32)),
        "layer 0", "dtype")
    mod(lambda m: setattr(m.layers[0], "weights", m.layers[0].weights.astype(np.int16) * 2),
        "layer 0", "weights[")
    mod(lambda m: setattr(m.layers[1], "bias", np.zeros(4, np.int32)), "layer 1", "bias")
    mod(lambda m: setattr(m.layers[1], "pads", (2, 0, 0, 0)), "layer 1", "pad_top")
    mod(lambda m: m.layers.insert(1, F.Layer(op="gap", in_channels=4, out_channels=4,
                                             output_scale=0.05, output_zero_point=10)),
        "layer 1", "gap must be the last layer")
    mod(lambda m: m.layers.pop(), "layer 3", "last layer must be gap")
    mod(lambda m: m.labels.append("d"), "LBLS", "4 labels")
    mod(lambda m: m.labels.__setitem__(0, ""), "LBLS", "label 0 is empty")
    mod(lambda m: m.labels.__setitem__(0, "a\0b"), "LBLS", "label 0", "NUL")
    mod(lambda m: m.labels.__setitem__(0, "\ud800"), "LBLS", "UTF-8")
    mod(lambda m: m.metadata.__setitem__("", "x"), "META", "key is empty")
    mod(lambda m: m.metadata.__setitem__("k", "a\0"), "META", "NUL")


def test_gap_sum_bound():
    def gap_only(h, w):
        return F.Model(input_shape=(1, h, w), labels=["x"],
                       layers=[F.Layer(op="gap", in_channels=1, out_channels=1,
                                       output_scale=1 / 255)])
    F.validate(gap_only(2901, 2901))                    # 255 * 2901^2 < 2^31
    F.validate(gap_only(4096, 2056))
    expect_model(gap_only(2902, 2902), "layer 0", "2^31")
    expect_model(gap_only(2057, 4096), "layer 0", "2^31")
    expect_model(gap_only(4096, 4096), "layer 0", "2^31")


def test_bounds_round_trip(tmp_path):
    m = bounded_model(pool_max=200)
    m.layers[2].output_max = 200                  # avgpool after the maxpool: same bound
    data = F.to_bytes(m)
    back = F.from_bytes(data)
    assert back == m and F.to_bytes(back) == data
    assert [(L.output_max, L.weight_max) for L in back.layers] == [
        (200, 0), (200, 0), (200, 0), (127, 63), (0, 0)]
    assert struct.unpack_from("<HH", data, 4) == (1, 1)           # version 1.1
    for i, (omax, wmax) in enumerate([(200, 0), (200, 0), (200, 0), (127, 63), (0, 0)]):
        assert struct.unpack_from("<2I", data, grph(32 + 96 * i + 76)) == (omax, wmax)
        assert data[grph(32 + 96 * i + 84):grph(32 + 96 * i + 96)] == bytes(12)
    F.write(m, tmp_path / "m.nin")
    assert F.read(tmp_path / "m.nin") == m
    # Equality sees the new fields; one field set is enough for 1.1, none gives 1.0.
    other = bounded_model(pool_max=200)
    assert other != m
    only_w = small_model()
    only_w.layers[3].weight_max = 127
    assert struct.unpack_from("<HH", F.to_bytes(only_w), 4) == (1, 1)
    assert struct.unpack_from("<HH", BASE, 4) == (1, 0)
    assert all((L.output_max, L.weight_max) == (0, 0) for L in F.from_bytes(BASE).layers)


def test_bounds_accepted_values():
    F.validate(bounded_model(out_max0=11, out_max3=1, wmax3=1))     # smallest: above zp 10, 1
    F.validate(bounded_model(out_max0=255, out_max3=255, wmax0=127, wmax3=127))
    F.validate(bounded_model(pool_max=200))                      # pool repeats its input's bound
    F.validate(bounded_model(out_max0=0, pool_max=255))          # 0 means 255


BOUNDED = F.to_bytes(bounded_model())


@pytest.mark.parametrize("i,field,value,patterns", [
    (0, "output_max", 10, ("layer 0", "output_max 10", "greater than output_zero_point 10")),
    (0, "output_max", 5, ("layer 0", "output_max 5", "output_zero_point 10")),
    (0, "output_max", 256, ("layer 0", "output_max is 256", "1 to 255")),
    (3, "output_max", 1 << 31, ("layer 3", "output_max is 2147483648")),
    (1, "output_max", 255, ("layer 1", "maxpool", "output_max is 255", "bound (200)")),
    (1, "output_max", 127, ("layer 1", "maxpool", "bound (200)")),
    (2, "output_max", 127, ("layer 2", "avgpool", "bound (200)")),
    (4, "output_max", 255, ("layer 4", "gap", "bound (127)")),
    (0, "weight_max", 128, ("layer 0", "weight_max is 128", "1 to 127")),
    (3, "weight_max", 0xFFFFFFFF, ("layer 3", "weight_max is 4294967295")),
    (1, "weight_max", 1, ("layer 1", "maxpool", "weight_max is 1", "no weights")),
    (4, "weight_max", 63, ("layer 4", "gap", "no weights")),
    (3, "weight_max", 62, ("layer 3", "expected -62 to 62 (weight_max)")),
    (0, "weight_max", 1, ("layer 0", "weights[", "expected -1 to 1 (weight_max)")),
])
def test_bounds_refused(i, field, value, patterns):
    expect(patched(layer_pos(i, field), "<I", value, data=BOUNDED), *patterns)


def test_bounds_pool_after_the_input_repeats_255():
    """A pool reading the network input repeats its bound, 255."""
    m = bounded_model()
    pool = F.Layer(op="maxpool", in_channels=3, out_channels=3, kernel=(1, 1), stride=(1, 1),
                   output_scale=1 / 255, output_zero_point=0, output_max=255)
    m.layers.insert(0, pool)
    F.validate(m)
    pool.output_max = 200
    expect_model(m, "layer 0", "maxpool", "bound (255)")


def test_bounds_refused_in_memory():
    def mod(fn, *patterns):
        m = bounded_model()
        fn(m)
        expect_model(m, *patterns)

    mod(lambda m: setattr(m.layers[0], "output_max", 10), "layer 0", "greater than")
    mod(lambda m: setattr(m.layers[0], "output_max", -1), "layer 0", "output_max is -1")
    mod(lambda m: setattr(m.layers[0], "output_max", 300), "layer 0", "output_max is 300")
    mod(lambda m: setattr(m.layers[1], "output_max", 255), "layer 1", "bound (200)")
    mod(lambda m: setattr(m.layers[4], "weight_max", 5), "layer 4", "no weights")
    mod(lambda m: setattr(m.layers[3], "weight_max", 200), "layer 3", "weight_max is 200")
    mod(lambda m: setattr(m.layers[3], "weight_max", 1.5), "layer 3", "weight_max", "integer")
    mod(lambda m: m.layers[3].weights.__setitem__((1, 0, 0, 2), 64), "layer 3",
        "weights[6]", "is 64", "-63 to 63")
    mod(lambda m: m.layers[3].weights.__setitem__((0, 0, 0, 0), -64), "layer 3",
        "weights[0]", "is -64")


def test_bounds_accumulator_rule_uses_the_input_bound():
    """|bias| + in_max * w_max * k < 2^31, in_max the producing conv's output_max (through the
    pools), w_max the layer's weight_max: the bias limit moves with both."""
    k = 4                                      # layer 3: 1x1 kernel, 4 input channels
    for out_max0, wmax3 in ((200, 63), (200, 0), (0, 63), (0, 0)):
        in_max, w_max = out_max0 or 255, wmax3 or 127
        limit = 2 ** 31 - 1 - in_max * w_max * k
        for sign in (1, -1):
            m = bounded_model(out_max0=out_max0, wmax3=wmax3)
            m.layers[3].bias[1] = sign * limit
            F.validate(m)
            data = F.to_bytes(m)
            assert F.from_bytes(data) == m
            m.layers[3].bias[1] = sign * (limit + 1)
            expect_model(m, "layer 3", "accumulator bound", "channel 1",
                         f"{in_max}*{w_max}*{k}")
            buf = bytearray(data)
            pos = table(data)["WGHT"][1] + struct.unpack_from(
                "<I", data, grph(32 + 96 * 3 + 60))[0] + 4
            struct.pack_into("<i", buf, pos, sign * (limit + 1))
            expect(bytes(fix_crc(buf)), "layer 3", "accumulator bound", f"{in_max}*{w_max}*{k}")


def _qm_exact(ratio: float):
    """Independent: exact rational arithmetic."""
    r = Fraction(ratio)
    n = 0
    while r * 2 ** n < 2 ** 30:
        n += 1
    while r * 2 ** n >= 2 ** 31:
        n -= 1
    v = r * 2 ** n
    m = math.floor(v)
    frac = v - m
    if frac > Fraction(1, 2) or (frac == Fraction(1, 2) and m % 2 == 1):
        m += 1
    if m == 2 ** 31:
        m, n = 2 ** 30, n - 1
    return m, n


def test_quantize_multiplier():
    rng = np.random.default_rng(3)
    ratios = list(10.0 ** rng.uniform(-9, 8, 500)) + [1.0, 0.5, 2.0 ** -20, 0.75, 1 / 3]
    ratios += [math.ldexp(1 - 2.0 ** -40, k) for k in (-20, -1, 0, 5)]      # rounds up to 2^31
    ratios += [math.ldexp(1 + 2.0 ** -40, k) for k in (-20, 0)]
    for ratio in ratios:
        expect_mn = _qm_exact(ratio)
        if not 1 <= expect_mn[1] <= 62:
            with pytest.raises(ValueError):
                F.quantize_multiplier(ratio)
            continue
        m, n = F.quantize_multiplier(ratio)
        assert (m, n) == expect_mn, ratio
        assert 2 ** 30 <= m < 2 ** 31
        assert abs(Fraction(m, 2 ** n) - Fraction(ratio)) <= Fraction(1, 2 ** (n + 1))
    assert F.quantize_multiplier(1.0) == (2 ** 30, 30)
    assert F.quantize_multiplier(math.ldexp(1 - 2.0 ** -40, 0)) == (2 ** 30, 30)
    assert F.quantize_multiplier(2.0 ** -32) == (2 ** 30, 62)
    assert F.quantize_multiplier(math.ldexp(1 - 2.0 ** -40, -32)) == (2 ** 30, 62)
    with pytest.raises(ValueError):                 # rounds to m = 2^31, then n = 0
        F.quantize_multiplier(math.nextafter(2.0 ** 30, 0))
    assert F.quantize_multiplier(2.0 ** 29) == (2 ** 30, 1)
    for bad in (2.0 ** 30, 2.0 ** -33, 0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            F.quantize_multiplier(bad)


# --------------------------------------------------------------------------------------------
# 1.2: quad weights
# --------------------------------------------------------------------------------------------

def _quad_model() -> F.Model:
    m = small_model()
    for L in m.layers:
        L.quad_weights = L.op == "conv"
    return m


QUAD = F.to_bytes(_quad_model())


def _quad_pos(i: int) -> int:
    """Start of layer i's quad weights in QUAD."""
    rec = table(QUAD)["GRPH"][1] + 32 + 96 * i
    return table(QUAD)["WGHT"][1] + struct.unpack_from("<I", QUAD, rec + 84)[0]


def test_quad_layout_is_its_definition():
    rng = np.random.default_rng(3)
    for out, kh, kw, cin in [(1, 1, 1, 1), (4, 3, 3, 3), (16, 1, 1, 4), (17, 3, 3, 1), (33, 5, 5, 3)]:
        w = rng.integers(-127, 128, size=(out, kh, kw, cin)).astype(np.int8)
        q = F.quad_blocked(w)
        k = kh * kw * cin
        assert q.shape == ((out + 15) // 16, (k + 3) // 4, 16, 4) and q.dtype == np.int8
        rows = w.reshape(out, k)
        expected = np.zeros(q.shape, dtype=np.int8)
        for o in range(out):
            for kk in range(k):
                expected[o // 16, kk // 4, o % 16, kk % 4] = rows[o, kk]
        assert np.array_equal(q, expected)


def test_quad_round_trip(tmp_path):
    m = _quad_model()
    back = F.from_bytes(QUAD)
    assert back == m and F.to_bytes(back) == QUAD
    assert struct.unpack_from("<H", QUAD, 6)[0] == F.VERSION_MINOR_QUADS
    for i, L in enumerate(back.layers):
        flags = struct.unpack_from("<I", QUAD, table(QUAD)["GRPH"][1] + 32 + 96 * i + 4)[0]
        assert bool(flags & F.FLAG_QUAD_WEIGHTS) == (L.op == "conv") and L.quad_weights == (L.op == "conv")
        if L.op == "conv":
            got = np.frombuffer(QUAD, np.int8, F.quad_blocked(L.weights).size, _quad_pos(i))
            assert np.array_equal(got, F.quad_blocked(L.weights).reshape(-1))
    # Without the copy the file is the 1.x file, byte for byte.
    for L in back.layers:
        L.quad_weights = False
    assert F.to_bytes(back) == BASE
    assert back != m


def test_quad_rules():
    conv = 0  # small_model's first conv: 3 -> 4 channels, 3x3 (K 27, 7 quads)
    pos = _quad_pos(conv)
    buf = bytearray(QUAD)
    buf[pos + 64 * 2 + 4 * 3 + 1] ^= 1
    expect(bytes(fix_crc(buf)), "layer 0", "quad weights byte 141 (channel 3) differs")
    buf = bytearray(QUAD)
    buf[pos + 4 * 9] = 1  # padding channel 9
    expect(bytes(fix_crc(buf)), "layer 0", "quad weights byte 36 (channel 9) differs")
    buf = bytearray(QUAD)
    buf[pos + 64 * 6 + 3] = 1  # channel 0's K value 27, past K
    expect(bytes(fix_crc(buf)), "layer 0", "quad weights byte 387 (channel 0) differs")
    rec = table(QUAD)["GRPH"][1] + 32 + 84
    off = struct.unpack_from("<I", QUAD, rec)[0]
    expect(patched(rec, "<I", off + 4, QUAD), "layer 0", f"quad_weights_offset {off + 4} is not a multiple of 64")
    w_size = table(QUAD)["WGHT"][2]
    expect(patched(rec, "<I", w_size - 64, QUAD), "layer 0", "quad weights (448 bytes", "end past the end of section WGHT")
    expect(patched(rec, "<I", 0xFFFFFFC0, QUAD), "layer 0", "end past the end of section WGHT")
    pool = small_model()
    pool.layers[1].quad_weights = True
    expect_model(pool, "layer 1", "quad_weights must be False")


def test_repack_cli(tmp_path):
    src = tmp_path / "a.nin"
    src.write_bytes(BASE)
    env = dict(os.environ, PYTHON=sys.executable)
    run = subprocess.run([str(TOOLS / "nin-repack"), str(src), str(tmp_path / "q.nin"), "--quad-weights"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "format 1.2" in run.stdout, run.stderr
    assert (tmp_path / "q.nin").read_bytes() == QUAD
    run = subprocess.run([str(TOOLS / "nin-repack"), str(tmp_path / "q.nin"), str(tmp_path / "b.nin"), "--no-quad-weights"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0 and (tmp_path / "b.nin").read_bytes() == BASE
    bad = bytearray(QUAD)
    bad[_quad_pos(0)] ^= 1
    (tmp_path / "bad.nin").write_bytes(bytes(fix_crc(bad)))
    run = subprocess.run([str(TOOLS / "nin-repack"), str(tmp_path / "bad.nin"), str(tmp_path / "c.nin"), "--quad-weights"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 1 and "differs from the weights in quad order" in run.stderr
    assert "quads 448 B" in nin_info(tmp_path / "q.nin").stdout
