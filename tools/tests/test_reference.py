"""Tests of the Python side of nin: .nin format, preprocessing, integer reference, goldens.

Run: python -m pytest tools/tests
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parent.parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import make_golden                # noqa: E402
import nin_format as F            # noqa: E402
import nin_preprocess as P        # noqa: E402
import nin_ref as R               # noqa: E402
from nin_format import NinFormatError  # noqa: E402

GOLDEN = ROOT / "Tests" / "golden"


# ============================================================================================
# Helpers
# ============================================================================================

def _conv_layer(rng, cin, cout, kernel, stride=(1, 1), pads=(0, 0, 0, 0), relu=True,
                zp=0, s_in=1 / 255, s_out=0.05):
    kh, kw = kernel
    w = rng.integers(-127, 128, (cout, kh, kw, cin)).astype(np.int8)
    sw = rng.uniform(0.001, 0.01, cout).astype(np.float32)
    mn = [F.quantize_multiplier(float(np.float32(s_in)) * float(sw[o]) / float(np.float32(s_out)))
          for o in range(cout)]
    return F.Layer(op="conv", in_channels=cin, out_channels=cout, kernel=kernel, stride=stride,
                   pads=pads, relu=relu, output_scale=s_out, output_zero_point=zp,
                   weights=w, bias=rng.integers(-5000, 5000, cout).astype(np.int32),
                   multiplier=np.array([m for m, _ in mn], np.int32),
                   shift=np.array([n for _, n in mn], np.int32), weight_scale=sw)


def small_model() -> F.Model:
    """conv(no ReLU, zp 10) -> maxpool -> avgpool -> conv(ReLU) -> gap, with META."""
    rng = np.random.default_rng(7)
    s0 = 0.05
    layers = [
        _conv_layer(rng, 3, 4, (3, 3), (1, 1), (1, 1, 1, 1), relu=False, zp=10, s_out=s0),
        F.Layer(op="maxpool", in_channels=4, out_channels=4, kernel=(2, 2), stride=(2, 2),
                output_scale=s0, output_zero_point=10),
        F.Layer(op="avgpool", in_channels=4, out_channels=4, kernel=(3, 3), stride=(1, 1),
                pads=(1, 1, 1, 1), output_scale=s0, output_zero_point=10),
        _conv_layer(rng, 4, 3, (1, 1), relu=True, zp=0, s_in=s0, s_out=0.03),
        F.Layer(op="gap", in_channels=3, out_channels=3, output_scale=0.03, output_zero_point=0),
    ]
    return F.Model(input_shape=(3, 9, 8), layers=layers, labels=["a", "b", "c"],
                   metadata={"name": "t", "created": ""})


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
                "output_max": 76, "weight_max": 80, "reserved": 84}


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


# ============================================================================================
# Format: round trip and layout
# ============================================================================================

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


@pytest.mark.parametrize("case", sorted(p.name for p in (GOLDEN / "net").glob("*")))
def test_golden_models_round_trip(case):
    data = (GOLDEN / "net" / case / "model.nin").read_bytes()
    assert F.to_bytes(F.from_bytes(data)) == data


def test_minor_version_accepted():
    F.from_bytes(patched(6, "<H", 7))


def test_cli_summary():
    path = GOLDEN / "net" / "classic_narrow" / "model.nin"
    r = subprocess.run([sys.executable, str(TOOLS / "nin_format.py"), str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "1x227x227" in r.stdout and "gap" in r.stdout and "Ankle boot" in r.stdout


def test_cli_error(tmp_path):
    p = tmp_path / "bad.nin"
    p.write_bytes(b"XXXX" + BASE[4:])
    r = subprocess.run([sys.executable, str(TOOLS / "nin_format.py"), str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "magic" in r.stderr


# ============================================================================================
# Format: every rule (bytes)
# ============================================================================================

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
    (0, "flags", 2, "<I", ("layer 0", "flags")),
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
    (0, "reserved", 1, "<B", ("layer 0", "reserved bytes 84..95")),
    (3, "reserved", 1 << 24, "<I", ("layer 3", "reserved bytes 84..95")),
    (1, "reserved", 1 << 56, "<Q", ("layer 1", "reserved bytes 84..95")),
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


# ============================================================================================
# Format: every rule (in memory)
# ============================================================================================

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


# ============================================================================================
# Format 1.1: output_max and weight_max
# ============================================================================================

def bounded_model(out_max0=200, out_max3=127, wmax0=0, wmax3=63, pool_max=0) -> F.Model:
    """small_model with the 1.1 fields: layer 0 (conv, no ReLU, zp 10) clamps at
    ``out_max0``, layer 3 (conv + ReLU) at ``out_max3`` with weights within ``wmax3``."""
    m = small_model()
    m.layers[0].output_max, m.layers[0].weight_max = out_max0, wmax0
    m.layers[1].output_max = pool_max
    L = m.layers[3]
    L.output_max, L.weight_max = out_max3, wmax3
    if wmax3:
        L.weights = np.clip(L.weights, -wmax3, wmax3).astype(np.int8)
    return m


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


# ============================================================================================
# quantize_multiplier
# ============================================================================================

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


# ============================================================================================
# Preprocessing
# ============================================================================================

def test_resize_fast_equals_scalar():
    rng = np.random.default_rng(11)
    sizes = [(1, 1, 1, 1), (1, 1, 5, 7), (5, 7, 1, 1), (28, 28, 40, 40), (2, 3, 300, 2),
             (300, 2, 3, 1), (13, 17, 13, 17), (16, 9, 5, 3), (3, 1, 8, 1), (1, 37, 5, 9)]
    sizes += [tuple(int(v) for v in rng.integers(1, 24, 4)) for _ in range(40)]
    for h, w, oh, ow in sizes:
        c = int(rng.integers(1, 5))
        img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        fast = P.resize_u8(img, oh, ow)
        assert fast.shape == (oh, ow, c) and fast.dtype == np.uint8
        assert np.array_equal(fast, P._resize_u8_scalar(img, oh, ow)), (h, w, oh, ow, c)
        g = img[:, :, 0]
        assert np.array_equal(P.resize_u8(g, oh, ow), P._resize_u8_scalar(g, oh, ow))


def test_resize_extremes_and_identity():
    rng = np.random.default_rng(12)
    for v in (0, 255):
        img = np.full((7, 5, 3), v, np.uint8)
        assert (P.resize_u8(img, 23, 2) == v).all()
    img = rng.integers(0, 256, (19, 11, 2), dtype=np.uint8)
    assert np.array_equal(P.resize_u8(img, 19, 11), img)
    # f can reach 256 when m >= 256.
    _, _, f = P.axis_taps(7, 256)
    assert f.max() == 256
    img = rng.integers(0, 256, (7, 3), dtype=np.uint8)
    assert np.array_equal(P.resize_u8(img, 256, 2), P._resize_u8_scalar(img, 256, 2))
    for n, m in ((1, 1), (2, 300), (28, 227), (227, 28), (5, 5)):
        R_ = P.axis_matrix(n, m)
        assert R_.shape == (m, n) and (R_.sum(axis=1) == 256).all() and (R_ >= 0).all()


def test_resize_batch_and_prepare_batch():
    rng = np.random.default_rng(13)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    out = P.resize_batch_u8(imgs, 31, 17, chunk=2)
    for i in range(5):
        assert np.array_equal(out[i], P.resize_u8(imgs[i], 31, 17))
    rgba = rng.integers(0, 256, (4, 10, 12, 4), dtype=np.uint8)
    pb = P.prepare_batch(rgba, (1, 7, 9), chunk=3)
    assert pb.shape == (4, 7, 9, 1)
    for i in range(4):
        assert np.array_equal(pb[i], P.prepare(rgba[i], (1, 7, 9)))
    pb = P.prepare_batch(imgs, (3, 8, 8))
    assert np.array_equal(pb[2], P.prepare(imgs[2], (3, 8, 8)))


def _channels_naive(img, channels):
    h, w = img.shape[:2]
    img = img.reshape(h, w, -1)
    c = img.shape[2]
    out = np.zeros((h, w, channels), np.uint8)
    for y in range(h):
        for x in range(w):
            px = [int(v) for v in img[y, x]]
            if c in (1, 2):
                vals = [px[0]] * channels
            elif channels == 3:
                vals = px[:3]
            else:
                r, g, b = px[:3]
                vals = [(19595 * r + 38470 * g + 7471 * b + 32768) >> 16]
            out[y, x] = vals
    return out


def test_to_channels():
    rng = np.random.default_rng(14)
    for c in (1, 2, 3, 4):
        img = rng.integers(0, 256, (6, 9, c), dtype=np.uint8)
        for target in (1, 3):
            got = P.to_channels(img, target)
            assert got.shape == (6, 9, target) and got.dtype == np.uint8
            assert np.array_equal(got, _channels_naive(img, target))
    g = rng.integers(0, 256, (4, 5), dtype=np.uint8)
    assert np.array_equal(P.to_channels(g, 1)[:, :, 0], g)
    assert np.array_equal(P.to_channels(g, 3), np.stack([g] * 3, axis=2))
    # Pillow's convert("L") values for primaries.
    prim = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]],
                    np.uint8)
    assert P.to_channels(prim, 1)[0, :, 0].tolist() == [76, 150, 29, 255, 0]
    # All 2^24 colours against the formula in Python ints would be slow; sample densely.
    rgb = rng.integers(0, 256, (1, 4096, 3), dtype=np.uint8)
    y = P.to_channels(rgb, 1)[0, :, 0]
    for (r, gg, b), v in zip(rgb[0].tolist(), y.tolist()):
        assert v == (19595 * r + 38470 * gg + 7471 * b + 32768) >> 16
    with pytest.raises(ValueError):
        P.to_channels(np.zeros((2, 2, 5), np.uint8), 1)
    with pytest.raises(ValueError):
        P.to_channels(np.zeros((2, 2, 3), np.uint8), 2)
    with pytest.raises(ValueError):
        P.to_channels(np.zeros((2, 2, 3), np.float32), 1)


def test_quantize_float_input():
    rng = np.random.default_rng(15)
    x = np.concatenate([rng.uniform(-0.2, 1.2, 2000).astype(np.float32),
                        (np.arange(256, dtype=np.float32) + np.float32(0.5)) / np.float32(255),
                        np.array([0, 1, -0.0, np.inf, -np.inf, 1e30, -1e30], np.float32)])
    q = P.quantize_float_input(x)
    for xi, qi in zip(x.tolist(), q.tolist()):
        t = np.float32(np.float32(xi) * np.float32(255)) + np.float32(0.5)
        want = int(min(max(math.floor(float(np.float32(t))), 0), 255)) if math.isfinite(t) else (
            255 if t > 0 else 0)
        assert qi == want, xi
    assert P.quantize_float_input(np.float32(1.0)) == 255
    with pytest.raises(ValueError):
        P.quantize_float_input(np.array([0.5, np.nan], np.float32))


# ============================================================================================
# Integer reference kernels
# ============================================================================================

def _f32(x: float) -> float:
    """Rounds a Python float (an exact double here) to the nearest float32, ties to even."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _requantize_py(acc: int, m: int, n: int, z: int, relu: bool, qmax: int = 255) -> int:
    # Every double below is exact before its one rounding to float32: acc < 2^31 and m < 2^31
    # are exact doubles, the float32 product of two 24-bit significands fits 48 bits.
    scale = math.ldexp(_f32(float(m)), -n)
    v = round(_f32(_f32(float(acc)) * scale))        # Python's round: half to even
    lo = z if relu else 0
    return min(max(v + z, lo), qmax)


def test_requantize_random_and_extreme():
    rng = np.random.default_rng(21)
    accs = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31 - 1), 2 ** 30, -(2 ** 30), 3, -3, 5, -5, 2 ** 24 + 1, -(2 ** 24 + 3)]
    accs += rng.integers(-(2 ** 31 - 1), 2 ** 31, 300).tolist()
    accs += rng.integers(-5000, 5000, 300).tolist()
    ms = [2 ** 30, 2 ** 31 - 1, 1518500250, 2 ** 30 + 64, 2 ** 30 + 32] + rng.integers(2 ** 30, 2 ** 31, 20).tolist()
    ns = [1, 2, 30, 31, 32, 40, 61, 62] + rng.integers(1, 63, 10).tolist()
    acc = np.array(accs, np.int64)
    for m in ms:
        for n in ns:
            for z, relu in ((0, True), (0, False), (128, False), (255, False), (37, False)):
                got = R.requantize(acc[:, None], np.array([m]), np.array([n]), z, relu)[:, 0]
                want = [_requantize_py(a, m, n, z, relu) for a in accs]
                assert got.tolist() == want, (m, n, z, relu)
    # Per-channel broadcasting.
    a2 = rng.integers(-10 ** 6, 10 ** 6, (4, 3)).astype(np.int32)
    mm = np.array([2 ** 30, 2 ** 31 - 1, 1 << 30], np.int32)
    nn = np.array([20, 62, 1], np.int32)
    got = R.requantize(a2, mm, nn, 9, False)
    for i in range(4):
        for o in range(3):
            assert got[i, o] == _requantize_py(int(a2[i, o]), int(mm[o]), int(nn[o]), 9, False)
    # Ties go to even: 3 * 2^30 / 2^31 = 1.5 -> 2, 5 * 2^30 / 2^31 = 2.5 -> 2, -1.5 -> -2.
    assert R.requantize(np.array([3, 5, -3]), 2 ** 30, 31, 100, False).tolist() == [102, 102, 98]
    # float32(acc) rounds: 2^24 + 1 becomes 2^24 (scale 1/2: 2^23, clamped to 255 anyway), and
    # m = 2^31 - 1 rounds up to 2^31 in float32, so the scale is exactly 2^(31-n).
    assert float(R.requantization_scale(2 ** 31 - 1, 31)) == 1.0


def _conv_naive(x, L, z_in):
    n, h, w, c = x.shape
    kh, kw = L.kernel
    sh, sw = L.stride
    pt, pl, pb, pr = L.pads
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    wts = L.weights.tolist()
    xs = x.tolist()
    out = np.zeros((n, oh, ow, L.out_channels), np.uint8)
    for b in range(n):
        for y in range(oh):
            for xx in range(ow):
                for o in range(L.out_channels):
                    acc = int(L.bias[o])
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = y * sh + ky - pt, xx * sw + kx - pl
                            for i in range(c):
                                v = xs[b][iy][ix][i] if 0 <= iy < h and 0 <= ix < w else z_in
                                acc += wts[o][ky][kx][i] * (v - z_in)
                    out[b, y, xx, o] = _requantize_py(acc, int(L.multiplier[o]),
                                                      int(L.shift[o]),
                                                      L.output_zero_point, L.relu,
                                                      L.output_max or 255)
    return out


def _pool_naive(x, L, z_in, kind):
    n, h, w, c = x.shape
    kh, kw = L.kernel
    sh, sw = L.stride
    pt, pl, pb, pr = L.pads
    oh = (h + pt + pb - kh) // sh + 1
    ow = (w + pl + pr - kw) // sw + 1
    out = np.zeros((n, oh, ow, c), np.uint8)
    d = kh * kw
    for b in range(n):
        for y in range(oh):
            for xx in range(ow):
                for ch in range(c):
                    vals, pads = [], 0
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = y * sh + ky - pt, xx * sw + kx - pl
                            if 0 <= iy < h and 0 <= ix < w:
                                vals.append(int(x[b, iy, ix, ch]))
                            else:
                                pads += 1
                    assert vals
                    if kind == "max":
                        out[b, y, xx, ch] = max(vals)
                    else:
                        s = sum(vals) + pads * z_in
                        out[b, y, xx, ch] = (s + d // 2) // d
    return out


def _random_geometry(rng):
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    pads = (int(rng.integers(0, kh)), int(rng.integers(0, kw)),
            int(rng.integers(0, kh)), int(rng.integers(0, kw)))
    h = int(rng.integers(max(1, kh - pads[0] - pads[2]), 9))
    w = int(rng.integers(max(1, kw - pads[1] - pads[3]), 9))
    return (kh, kw), (sh, sw), pads, h, w


def test_conv_against_naive():
    rng = np.random.default_rng(31)
    for trial in range(40):
        kernel, stride, pads, h, w = _random_geometry(rng)
        cin, cout, n = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
        relu = bool(trial % 2)
        L = _conv_layer(rng, cin, cout, kernel, stride, pads, relu=relu,
                        zp=0 if relu else int(rng.integers(0, 256)))
        L.multiplier = rng.integers(2 ** 30, 2 ** 31, cout).astype(np.int32)
        L.shift = rng.integers(8, 20, cout).astype(np.int32)
        x = rng.integers(0, 256, (n, h, w, cin), dtype=np.uint8)
        z_in = int(rng.integers(0, 256))
        got = R.conv(x, L, z_in)
        assert np.array_equal(got, _conv_naive(x, L, z_in)), trial


def test_requantize_clamps_at_output_max():
    rng = np.random.default_rng(22)
    accs = rng.integers(-(2 ** 20), 2 ** 20, 400).tolist() + [0, 1, -1, 2 ** 31 - 1, -(2 ** 31 - 1)]
    acc = np.array(accs, np.int64)
    for m, n in ((2 ** 30, 20), (1518500250, 22), (2 ** 31 - 1, 25)):
        for z, relu, qmax in ((0, True, 127), (0, True, 1), (0, False, 63), (10, False, 11),
                              (100, False, 200), (0, True, 255)):
            got = R.requantize(acc[:, None], np.array([m]), np.array([n]), z, relu, qmax)[:, 0]
            want = [_requantize_py(a, m, n, z, relu, qmax) for a in accs]
            assert got.tolist() == want, (m, n, z, relu, qmax)
            assert int(got.max()) == qmax                     # the bound is reached, not passed


def test_conv_clamps_at_output_max():
    """A conv with output_max 127 against the naive loop, on data where the unclamped output
    would exceed 127 (so the clamp is exercised)."""
    rng = np.random.default_rng(35)
    for trial in range(20):
        kernel, stride, pads, h, w = _random_geometry(rng)
        cin, cout = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        relu = bool(trial % 2)
        qmax = int(rng.integers(60, 200))
        zp = 0 if relu else int(rng.integers(0, qmax))
        L = _conv_layer(rng, cin, cout, kernel, stride, pads, relu=relu, zp=zp)
        L.multiplier = rng.integers(2 ** 30, 2 ** 31, cout).astype(np.int32)
        L.shift = rng.integers(8, 12, cout).astype(np.int32)
        x = rng.integers(0, 256, (2, h, w, cin), dtype=np.uint8)
        wide = R.conv(x, L, 0)
        L.output_max = qmax
        got = R.conv(x, L, 0)
        assert np.array_equal(got, _conv_naive(x, L, 0)), trial
        assert np.array_equal(got, np.minimum(wide, qmax)), trial
        assert int(got.max()) <= qmax
    # The run over a whole model clamps every bounded conv.
    m = bounded_model(out_max0=30, out_max3=12)
    x = rng.integers(0, 256, (3, 9, 8, 3), dtype=np.uint8)
    out = R.run(m, x)
    y0 = _conv_naive(x, m.layers[0], 0)
    assert np.array_equal(out["layers"][0], y0) and int(y0.max()) == 30
    y3 = _conv_naive(out["layers"][2], m.layers[3], 10)
    assert np.array_equal(out["layers"][3], y3) and int(y3.max()) == 12
    m.layers[3].output_max = 0
    assert int(_conv_naive(out["layers"][2], m.layers[3], 10).max()) > 12


def test_conv_extreme_accumulator():
    # Weights all +-127, input all 255 (z_in 0), bias at the limit: acc = +-(2^31 - 1).
    k = 3 * 3 * 2
    lim = 2 ** 31 - 1 - 255 * 127 * k
    L = F.Layer(op="conv", in_channels=2, out_channels=2, kernel=(3, 3), stride=(1, 1),
                weights=np.stack([np.full((3, 3, 2), 127), np.full((3, 3, 2), -127)]
                                 ).astype(np.int8),
                bias=np.array([lim, -lim], np.int32),
                multiplier=np.array([2 ** 31 - 1, 2 ** 31 - 1], np.int32),
                shift=np.array([55, 55], np.int32), weight_scale=np.ones(2, np.float32),
                output_zero_point=100)
    x = np.full((1, 3, 3, 2), 255, np.uint8)
    acc = R.conv_acc(x, L, 0)
    assert acc.ravel().tolist() == [2 ** 31 - 1, -(2 ** 31 - 1)]
    assert R.conv(x, L, 0).ravel().tolist() == [
        _requantize_py(2 ** 31 - 1, 2 ** 31 - 1, 55, 100, False),
        _requantize_py(-(2 ** 31 - 1), 2 ** 31 - 1, 55, 100, False)]


def test_pools_against_naive():
    rng = np.random.default_rng(32)
    for trial in range(60):
        kernel, stride, pads, h, w = _random_geometry(rng)
        c, n = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        x = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
        z_in = int(rng.integers(0, 256))
        L = F.Layer(op="maxpool", in_channels=c, out_channels=c, kernel=kernel, stride=stride,
                    pads=pads)
        assert np.array_equal(R.maxpool(x, L), _pool_naive(x, L, z_in, "max")), trial
        L.op = "avgpool"
        assert np.array_equal(R.avgpool(x, L, z_in), _pool_naive(x, L, z_in, "avg")), trial


def test_gap_and_logits():
    rng = np.random.default_rng(33)
    x = rng.integers(0, 256, (3, 5, 7, 4), dtype=np.uint8)
    z = 77
    s = R.gap(x, z)
    assert s.dtype == np.int32
    for b in range(3):
        for c in range(4):
            assert s[b, c] == sum(int(v) - z for v in x[b, :, :, c].ravel())
    scale = 0.0123
    lg = R.gap_logits(s, scale, 5, 7)
    assert lg.dtype == np.float32
    f = np.float32(scale) / np.float32(35)
    for b in range(3):
        for c in range(4):
            assert lg[b, c].tobytes() == (np.float32(int(s[b, c])) * f).tobytes()
    p = R.softmax(lg)
    assert p.dtype == np.float32 and np.allclose(p.sum(axis=1), 1, atol=1e-6)


def test_run_matches_kernels():
    m = small_model()
    rng = np.random.default_rng(34)
    x = rng.integers(0, 256, (2, 9, 8, 3), dtype=np.uint8)
    out = R.run(m, x)
    y0 = _conv_naive(x, m.layers[0], 0)
    assert np.array_equal(out["layers"][0], y0)
    y1 = _pool_naive(y0, m.layers[1], 10, "max")
    assert np.array_equal(out["layers"][1], y1)
    y2 = _pool_naive(y1, m.layers[2], 10, "avg")
    assert np.array_equal(out["layers"][2], y2)
    y3 = _conv_naive(y2, m.layers[3], 10)
    assert np.array_equal(out["layers"][3], y3)
    assert np.array_equal(out["sums"], R.gap(y3, 0))
    assert out["logits"].shape == (2, 3) and out["probabilities"].shape == (2, 3)
    assert np.array_equal(R.run(m, x[0])["sums"], out["sums"][:1])


def test_dequantize_helpers():
    m = small_model()
    L = m.layers[0]
    assert np.allclose(R.dequantize(np.array([10, 30], np.uint8), 0.05, 10), [0, 1.0])
    wd = R.dequantize_weights(L)
    assert wd.shape == L.weights.shape and wd.dtype == np.float32
    assert np.allclose(wd[1], L.weights[1] * L.weight_scale[1])
    bd = R.dequantize_bias(L, 1 / 255)
    assert np.allclose(bd, L.bias * (np.float32(1 / 255) * L.weight_scale))


def test_nin_ref_cli(tmp_path):
    case = GOLDEN / "net" / "classic_narrow"
    raw = tmp_path / "img.u8"
    raw.write_bytes((case / "input.u8").read_bytes())
    r = subprocess.run([sys.executable, str(TOOLS / "nin_ref.py"), str(case / "model.nin"),
                        "--raw", str(raw), "--hwc", "227", "227", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 5
    logits = np.fromfile(case / "logits.f32", "<f4")
    assert f"logit={float(logits.max()):.6g}" in lines[0]


# ============================================================================================
# Golden files
# ============================================================================================

def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for sub in make_golden.GENERATED_DIRS if (root / sub).exists()
            for p in sorted((root / sub).rglob("*")) if p.is_file()}


def test_golden_up_to_date(tmp_path):
    make_golden.generate(tmp_path / "g", verbose=False)
    fresh, stored = _tree(tmp_path / "g"), _tree(GOLDEN)
    missing = sorted(set(fresh) - set(stored))
    extra = sorted(set(stored) - set(fresh))
    assert not missing and not extra, f"regenerate with tools/make_golden.py: missing " \
                                      f"{missing[:5]}, stale {extra[:5]}"
    differ = sorted(k for k in fresh if fresh[k] != stored[k])
    assert not differ, f"golden files out of date (run tools/make_golden.py): {differ[:10]}"


def test_golden_layout_consistent():
    """Sizes in net/ agree with the README's description (what the Swift tests rely on)."""
    total = 0
    for d in sorted((GOLDEN / "net").iterdir()):
        model = F.read(d / "model.nin")
        c, h, w = model.input_shape
        n, rem = divmod((d / "input.u8").stat().st_size, h * w * c)
        assert rem == 0 and n >= 1
        shapes = model.output_shapes()
        lines = (d / "shapes.txt").read_text().splitlines()
        assert lines[:3] == [f"batch {n}", f"input {c} {h} {w}", f"layers {len(shapes)}"]
        for i, (L, s) in enumerate(zip(model.layers, shapes)):
            size = (d / f"layer_{i}.bin").stat().st_size
            assert size == (n * s[0] * 4 if L.op == "gap" else n * s[0] * s[1] * s[2])
            assert lines[3 + i] == f"{i} {L.op} {s[0]} {s[1]} {s[2]}"
        assert (d / "logits.f32").stat().st_size == n * shapes[-1][0] * 4
        x = np.fromfile(d / "input.u8", np.uint8).reshape(n, h, w, c)
        out = R.run(model, x)
        assert np.fromfile(d / "logits.f32", "<f4").tobytes() == out["logits"].astype("<f4").tobytes()
    for d in sorted((GOLDEN / "preprocess").iterdir()):
        ih, iw, ic = map(int, (d / "image.txt").read_text().split())
        tc, th, tw = map(int, (d / "target.txt").read_text().split())
        img = np.fromfile(d / "image.u8", np.uint8).reshape(ih, iw, ic)
        prep = np.fromfile(d / "prepared.u8", np.uint8).reshape(th, tw, tc)
        chan = _channels_naive(img, tc)
        assert np.array_equal(prep, P.resize_u8(chan, th, tw))
        if th * tw <= 4096:
            assert np.array_equal(prep, P._resize_u8_scalar(chan, th, tw))
    for p in GOLDEN.rglob("*"):
        if p.is_file():
            total += p.stat().st_size
    assert total < 3_000_000
