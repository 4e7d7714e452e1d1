"""Reader, writer and validator of `.nin` model files (docs/FORMAT.md, version 1.2).

numpy only.  The in-memory model is a :class:`Model` holding :class:`Layer` records; every
rule of docs/FORMAT.md ("What a reader must check before use") is checked by :func:`validate`
(on a model in memory) and by :func:`from_bytes` (on a file image, which also checks the
byte-level rules: header, section table, offsets, reserved fields).  The first rule broken is
raised as :class:`NinFormatError`, whose message names the section, the layer index and the
field.

Scales are float32 in the file; in memory they are Python floats, and every comparison and
every check is made on their float32 value (``Model.__eq__`` too), so a model equals itself
after a write/read round trip even if its scales were not float32-representable.

``tools/nin-info FILE.nin`` (:func:`main`) prints a human summary of a file, or the error.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "NinFormatError", "Layer", "Model", "to_bytes", "write", "from_bytes", "read",
    "quantize_multiplier", "validate", "OPS", "OP_CODES", "quad_blocked",
]

MAGIC = b"NINM"
VERSION_MAJOR = 1
VERSION_MINOR = 0             # written when no layer uses a 1.1 field
VERSION_MINOR_BOUNDS = 1      # written when some layer has a non-zero output_max or weight_max
VERSION_MINOR_QUADS = 2       # written when some layer carries quad weights
FLAG_RELU = 1
FLAG_QUAD_WEIGHTS = 2         # 1.2: the conv's weights also stored quad-blocked
HEADER_BYTES = 64
ENTRY_BYTES = 24
MAX_SECTIONS = 16
ALIGN = 64
INPUT_RECORD_BYTES = 32
LAYER_RECORD_BYTES = 96
MAX_LAYERS = 256
MAX_SIDE = 4096
MAX_CHANNELS = 4096
MAX_KERNEL = 64
MAX_STRIDE = 64
KINDS = (b"GRPH", b"WGHT", b"LBLS", b"META")
REQUIRED_KINDS = (b"GRPH", b"WGHT", b"LBLS")

OPS = {1: "conv", 2: "maxpool", 3: "avgpool", 4: "gap"}
OP_CODES = {name: code for code, name in OPS.items()}

MULTIPLIER_MIN = 1 << 30
MULTIPLIER_MAX = (1 << 31) - 1
SHIFT_MIN = 1
SHIFT_MAX = 62
ACC_LIMIT = 1 << 31          # worst-case |acc| must be below this
ACTIVATION_MAX = 255         # output_max 0 means this (every 1.0 file)
WEIGHT_MAX = 127             # weight_max 0 means this (every 1.0 file)
ARRAY_NAMES = ("weights", "bias", "multiplier", "shift", "weight_scale")


class NinFormatError(ValueError):
    """A model or file that breaks a rule of docs/FORMAT.md; the message names the rule."""


# --------------------------------------------------------------------------------------------
# In-memory model
# --------------------------------------------------------------------------------------------

def _f32(x) -> np.float32:
    """float32 value of a Python/numpy scalar (overflow gives inf, never an exception)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(x, dtype=np.float64).astype(np.float32)[()]


def _arr_eq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return bool(np.array_equal(a.astype(np.float32).view(np.uint32),
                                   b.astype(np.float32).view(np.uint32)))
    return bool(np.array_equal(a, b))


@dataclass(eq=False)
class Layer:
    """One layer record (docs/FORMAT.md, GRPH) with its arrays (WGHT), for ``conv`` only."""
    op: str                 # 'conv' | 'maxpool' | 'avgpool' | 'gap'
    in_channels: int
    out_channels: int
    kernel: tuple = (0, 0)              # (kh, kw)
    stride: tuple = (0, 0)              # (sh, sw)
    pads: tuple = (0, 0, 0, 0)          # (top, left, bottom, right)
    relu: bool = False
    output_scale: float = 1.0
    output_zero_point: int = 0
    output_max: int = 0     # 1.1: clamp bound of the requantized output; 0 = 255 (conv only,
                            # or a pool repeating its input's bound)
    weight_max: int = 0     # 1.1: |weight| bound of a conv; 0 = 127
    weights: np.ndarray | None = None       # int8 [out, kh, kw, in] (OHWI)
    bias: np.ndarray | None = None          # int32 [out]
    multiplier: np.ndarray | None = None    # int32 [out]
    shift: np.ndarray | None = None         # int32 [out]
    weight_scale: np.ndarray | None = None  # float32 [out]
    quad_weights: bool = False  # 1.2: the file also carries the weights quad-blocked (conv only)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        return (self.op == other.op
                and int(self.in_channels) == int(other.in_channels)
                and int(self.out_channels) == int(other.out_channels)
                and tuple(map(int, self.kernel)) == tuple(map(int, other.kernel))
                and tuple(map(int, self.stride)) == tuple(map(int, other.stride))
                and tuple(map(int, self.pads)) == tuple(map(int, other.pads))
                and bool(self.relu) == bool(other.relu)
                and _f32(self.output_scale).tobytes() == _f32(other.output_scale).tobytes()
                and int(self.output_zero_point) == int(other.output_zero_point)
                and int(self.output_max) == int(other.output_max)
                and int(self.weight_max) == int(other.weight_max)
                and bool(self.quad_weights) == bool(other.quad_weights)
                and all(_arr_eq(getattr(self, n), getattr(other, n)) for n in ARRAY_NAMES))

    __hash__ = None

    @property
    def activation_max(self) -> int:
        """The effective output bound of a conv: ``output_max``, or 255 when it is 0."""
        return int(self.output_max) or ACTIVATION_MAX

    @property
    def weight_bound(self) -> int:
        """The effective weight bound of a conv: ``weight_max``, or 127 when it is 0."""
        return int(self.weight_max) or WEIGHT_MAX


@dataclass(eq=False)
class Model:
    """A whole network: input description, layers, class labels and metadata."""
    input_shape: tuple            # (C, H, W)
    layers: list
    labels: list
    input_scale: float = 1 / 255
    input_zero_point: int = 0
    metadata: dict = field(default_factory=dict)

    def output_shapes(self) -> list:
        """(C, H, W) after each layer; GAP gives (C, 1, 1).  Assumes sane hyper-parameters."""
        c, h, w = (int(v) for v in self.input_shape)
        shapes = []
        for layer in self.layers:
            if layer.op == "gap":
                c, h, w = int(layer.out_channels), 1, 1
            else:
                kh, kw = (int(v) for v in layer.kernel)
                sh, sw = (int(v) for v in layer.stride)
                pt, pl, pb, pr = (int(v) for v in layer.pads)
                h = (h + pt + pb - kh) // sh + 1
                w = (w + pl + pr - kw) // sw + 1
                c = int(layer.out_channels)
            shapes.append((c, h, w))
        return shapes

    def __eq__(self, other) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return (tuple(map(int, self.input_shape)) == tuple(map(int, other.input_shape))
                and len(self.layers) == len(other.layers)
                and all(a == b for a, b in zip(self.layers, other.layers))
                and list(self.labels) == list(other.labels)
                and _f32(self.input_scale).tobytes() == _f32(other.input_scale).tobytes()
                and int(self.input_zero_point) == int(other.input_zero_point)
                and dict(self.metadata) == dict(other.metadata))

    __hash__ = None


# --------------------------------------------------------------------------------------------
# Requantization parameters (docs/QUANTIZATION.md, "Requantization")
# --------------------------------------------------------------------------------------------

def quantize_multiplier(ratio: float) -> tuple[int, int]:
    """(m, n) with m / 2^n ~= ratio, m in [2^30, 2^31), n in [1, 62]; ValueError otherwise.

    ``ratio = f * 2^e`` with ``f`` in [0.5, 1) (frexp); ``n = 31 - e``;
    ``m = round_half_even(ratio * 2^n)`` (exact in float64); ``m == 2^31`` becomes
    ``m = 2^30, n = n - 1``; the final ``n`` must lie in [1, 62].
    """
    ratio = float(ratio)
    if not (math.isfinite(ratio) and ratio > 0):
        raise ValueError(f"requantization ratio {ratio!r} is not finite and positive")
    _, e = math.frexp(ratio)
    n = 31 - e
    m = round(math.ldexp(ratio, n))      # exact scaling by a power of two; round half even
    if m == 1 << 31:
        m, n = 1 << 30, n - 1
    if not (SHIFT_MIN <= n <= SHIFT_MAX):
        raise ValueError(f"requantization ratio {ratio!r} needs shift {n}, outside [1, 62]")
    assert MULTIPLIER_MIN <= m <= MULTIPLIER_MAX
    return int(m), int(n)


# --------------------------------------------------------------------------------------------
# Validation shared by validate() and from_bytes()
# --------------------------------------------------------------------------------------------

def _fail(msg: str):
    raise NinFormatError(msg)


def _finite_positive_f32(x) -> bool:
    v = _f32(x)
    return bool(np.isfinite(v) and v > 0)


def output_size(n: int, k: int, s: int, pa: int, pb: int) -> int | None:
    """Output size along one axis of a window of size ``k``, stride ``s`` and padding ``pa``
    before and ``pb`` after an input of ``n``: ``(n + pa + pb - k) // s + 1``, None when the
    window does not fit even once (docs/FORMAT.md). The one Python copy of the formula (the
    Swift one is ``Window.outputSize``; tools/make_output_size_golden.py writes its table to
    Tests/golden/output_sizes.txt, which the Swift ConstantsTests compare with)."""
    span = n + pa + pb - k
    return None if span < 0 else span // s + 1


def _check_input(shape, layer_count: int, input_scale, input_zero_point) -> None:
    c, h, w = shape
    if c not in (1, 3):
        _fail(f"GRPH: input channels is {c}, expected 1 or 3")
    if not 1 <= h <= MAX_SIDE:
        _fail(f"GRPH: input height is {h}, expected 1 to {MAX_SIDE}")
    if not 1 <= w <= MAX_SIDE:
        _fail(f"GRPH: input width is {w}, expected 1 to {MAX_SIDE}")
    if not 1 <= layer_count <= MAX_LAYERS:
        _fail(f"GRPH: layer_count is {layer_count}, expected 1 to {MAX_LAYERS}")
    if not _finite_positive_f32(input_scale):
        _fail(f"GRPH: input_scale {float(_f32(input_scale))!r} is not finite and > 0")
    if not 0 <= input_zero_point <= 255:
        _fail(f"GRPH: input_zero_point is {input_zero_point}, expected 0 to 255")


def _check_layer_fields(i: int, L: Layer, in_shape, in_scale: np.float32, in_zp: int,
                        in_bound: int, layer_count: int):
    """Hyper-parameters of layer i (everything but the arrays); ``in_bound`` is the largest
    value its input can hold (255 for the network input).  Returns its output shape and
    output bound."""
    where = f"GRPH: layer {i}"
    op = L.op
    if op not in OP_CODES:
        _fail(f"{where}: op {op!r} is not one of conv, maxpool, avgpool, gap")
    relu = bool(L.relu)
    if relu and op != "conv":
        _fail(f"{where}: flags: ReLU is only allowed on conv, not {op}")
    c, h, w = in_shape
    cin, cout = int(L.in_channels), int(L.out_channels)
    if cin != c:
        _fail(f"{where}: in_channels is {cin} but its input has {c} channels")
    if not 1 <= cout <= MAX_CHANNELS:
        _fail(f"{where}: out_channels is {cout}, expected 1 to {MAX_CHANNELS}")
    if op != "conv" and cout != cin:
        _fail(f"{where}: out_channels is {cout}; a {op} layer keeps its {cin} channels")
    kh, kw = (int(v) for v in L.kernel)
    sh, sw = (int(v) for v in L.stride)
    pt, pl, pb, pr = (int(v) for v in L.pads)
    if op == "gap":
        if i != layer_count - 1:
            _fail(f"{where}: gap must be the last layer (there are {layer_count} layers)")
        if (kh, kw, sh, sw, pt, pl, pb, pr) != (0,) * 8:
            _fail(f"{where}: gap kernel, stride and pads must all be zero")
        if 255 * h * w >= ACC_LIMIT:
            _fail(f"{where}: gap input {h}x{w} is too large: 255*H*W must be below 2^31")
        out_shape = (c, 1, 1)
    else:
        if i == layer_count - 1:
            _fail(f"{where}: the last layer must be gap, not {op}")
        if not (1 <= kh <= MAX_KERNEL):
            _fail(f"{where}: kernel_h is {kh}, expected 1 to {MAX_KERNEL}")
        if not (1 <= kw <= MAX_KERNEL):
            _fail(f"{where}: kernel_w is {kw}, expected 1 to {MAX_KERNEL}")
        if not (1 <= sh <= MAX_STRIDE):
            _fail(f"{where}: stride_h is {sh}, expected 1 to {MAX_STRIDE}")
        if not (1 <= sw <= MAX_STRIDE):
            _fail(f"{where}: stride_w is {sw}, expected 1 to {MAX_STRIDE}")
        for name, p, k in (("pad_top", pt, kh), ("pad_left", pl, kw),
                           ("pad_bottom", pb, kh), ("pad_right", pr, kw)):
            if not 0 <= p < k:
                _fail(f"{where}: {name} is {p}; a pad must be smaller than the kernel ({k})")
        oh = output_size(h, kh, sh, pt, pb)
        ow = output_size(w, kw, sw, pl, pr)
        if oh is None or ow is None:
            _fail(f"{where}: kernel {kh}x{kw} does not fit its padded {h}x{w} input "
                  f"(output size below 1)")
        out_shape = (cout, oh, ow)
    if not _finite_positive_f32(L.output_scale):
        _fail(f"{where}: output_scale {float(_f32(L.output_scale))!r} is not finite and > 0")
    zp = int(L.output_zero_point)
    if not 0 <= zp <= 255:
        _fail(f"{where}: output_zero_point is {zp}, expected 0 to 255")
    if relu and zp != 0:
        _fail(f"{where}: output_zero_point is {zp} but must be 0 when ReLU is set")
    if op != "conv":
        if _f32(L.output_scale).tobytes() != np.float32(in_scale).tobytes():
            _fail(f"{where}: output_scale {float(_f32(L.output_scale))!r} must equal the "
                  f"input scale {float(in_scale)!r} for {op}")
        if zp != in_zp:
            _fail(f"{where}: output_zero_point is {zp} but must equal the input's ({in_zp}) "
                  f"for {op}")
    return out_shape, _check_bounds(where, L, zp, in_bound)


def _check_bounds(where: str, L: Layer, zp: int, in_bound: int) -> int:
    """The 1.1 fields output_max and weight_max; returns the layer's output bound."""
    omax, wmax = int(L.output_max), int(L.weight_max)
    if L.op == "conv":
        if omax != 0:
            if not 1 <= omax <= ACTIVATION_MAX:
                _fail(f"{where}: output_max is {omax}, expected 0 (= 255) or 1 to 255")
            if omax <= zp:
                _fail(f"{where}: output_max {omax} must be greater than output_zero_point {zp}")
        if wmax != 0 and not 1 <= wmax <= WEIGHT_MAX:
            _fail(f"{where}: weight_max is {wmax}, expected 0 (= 127) or 1 to 127")
        return omax or ACTIVATION_MAX
    if omax != 0 and omax != in_bound:
        _fail(f"{where}: output_max is {omax} but a {L.op} layer must repeat its input's bound "
              f"({in_bound}) or be 0")
    if wmax != 0:
        _fail(f"{where}: weight_max is {wmax} but a {L.op} layer has no weights (must be 0)")
    return in_bound


def _check_layer_arrays(i: int, L: Layer, in_bound: int) -> None:
    """Value rules of a conv layer's arrays (shapes already match); ``in_bound`` is the
    largest value its input can hold (255, or the producing conv's output_max)."""
    where = f"GRPH: layer {i}"
    w = np.asarray(L.weights)
    wi = w.astype(np.int64)
    wmax = L.weight_bound
    bad = np.flatnonzero((wi < -wmax) | (wi > wmax))
    if bad.size:
        limit = "" if int(L.weight_max) == 0 else " (weight_max)"
        _fail(f"{where}: weights[{bad[0]}] (flat OHWI index) is {wi.reshape(-1)[bad[0]]}, "
              f"expected -{wmax} to {wmax}{limit}")
    bias = np.asarray(L.bias).astype(np.int64)
    mult = np.asarray(L.multiplier).astype(np.int64)
    shift = np.asarray(L.shift).astype(np.int64)
    ws = np.asarray(L.weight_scale).astype(np.float32)
    kh, kw = (int(v) for v in L.kernel)
    k = kh * kw * int(L.in_channels)
    worst = in_bound * wmax * k
    for o in range(int(L.out_channels)):
        m, n = int(mult[o]), int(shift[o])
        if not MULTIPLIER_MIN <= m <= MULTIPLIER_MAX:
            _fail(f"{where}: multiplier[{o}] is {m}, outside [2^30, 2^31)")
        if not SHIFT_MIN <= n <= SHIFT_MAX:
            _fail(f"{where}: shift[{o}] is {n}, outside [1, 62]")
        if not (np.isfinite(ws[o]) and ws[o] > 0):
            _fail(f"{where}: weight_scale[{o}] is {float(ws[o])!r}, not finite and > 0")
        b = int(bias[o])
        if abs(b) + worst >= ACC_LIMIT:
            _fail(f"{where}: accumulator bound: channel {o}: |bias| {abs(b)} + "
                  f"{in_bound}*{wmax}*{k} = {abs(b) + worst} is not below 2^31")


def _check_labels(labels, class_count: int) -> None:
    if len(labels) != class_count:
        _fail(f"LBLS: {len(labels)} labels but class_count is {class_count}")
    for j, s in enumerate(labels):
        if not isinstance(s, str):
            _fail(f"LBLS: label {j} is not a string")
        if s == "":
            _fail(f"LBLS: label {j} is empty")
        if "\0" in s:
            _fail(f"LBLS: label {j} contains a NUL byte")
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            _fail(f"LBLS: label {j} is not encodable as UTF-8")


def _check_metadata(metadata) -> None:
    for j, (k, v) in enumerate(metadata.items()):
        for what, s in (("key", k), ("value", v)):
            if not isinstance(s, str):
                _fail(f"META: pair {j}: {what} is not a string")
            if "\0" in s:
                _fail(f"META: pair {j}: {what} contains a NUL byte")
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:
                _fail(f"META: pair {j}: {what} is not encodable as UTF-8")
        if k == "":
            _fail(f"META: pair {j}: key is empty")


_ARRAY_KIND = {"weights": "iu", "bias": "iu", "multiplier": "iu", "shift": "iu",
               "weight_scale": "fiu"}


def validate(model: Model) -> None:
    """Check every rule of docs/FORMAT.md on a model in memory; raise NinFormatError."""
    try:
        shape = tuple(int(v) for v in model.input_shape)
    except (TypeError, ValueError):
        _fail("GRPH: input_shape must be (C, H, W) integers")
    if len(shape) != 3:
        _fail("GRPH: input_shape must be (C, H, W)")
    layers = list(model.layers)
    _check_input(shape, len(layers), model.input_scale, int(model.input_zero_point))
    scale = _f32(model.input_scale)
    zp = int(model.input_zero_point)
    bound = ACTIVATION_MAX
    for i, L in enumerate(layers):
        if not isinstance(L, Layer):
            _fail(f"GRPH: layer {i} is not a Layer")
        for name in ("output_max", "weight_max"):
            if not isinstance(getattr(L, name), (int, np.integer)):
                _fail(f"GRPH: layer {i}: {name} must be an integer")
        out_shape, out_bound = _check_layer_fields(i, L, shape, scale, zp, bound, len(layers))
        where = f"GRPH: layer {i}"
        if L.op == "conv":
            kh, kw = (int(v) for v in L.kernel)
            o, cin = int(L.out_channels), int(L.in_channels)
            expect = {"weights": (o, kh, kw, cin), "bias": (o,), "multiplier": (o,),
                      "shift": (o,), "weight_scale": (o,)}
            for name in ARRAY_NAMES:
                a = getattr(L, name)
                if a is None:
                    _fail(f"{where}: conv needs {name}")
                a = np.asarray(a)
                if a.dtype.kind not in _ARRAY_KIND[name]:
                    _fail(f"{where}: {name} has dtype {a.dtype}, expected "
                          f"{'float' if name == 'weight_scale' else 'integer'}")
                if a.shape != expect[name]:
                    _fail(f"{where}: {name} has shape {a.shape}, expected {expect[name]}")
            _check_layer_arrays(i, L, bound)
        else:
            for name in ARRAY_NAMES:
                if getattr(L, name) is not None:
                    _fail(f"{where}: {L.op} has no arrays but {name} is set")
            if L.quad_weights:
                _fail(f"{where}: {L.op} has no weights to store quad-blocked (quad_weights must be False)")
        shape, bound = out_shape, out_bound
        if L.op == "conv":
            scale, zp = _f32(L.output_scale), int(L.output_zero_point)
    _check_labels(list(model.labels), shape[0])
    _check_metadata(dict(model.metadata))


# --------------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------------

def quad_blocked(weights) -> np.ndarray:
    """The quad-blocked layout of OHWI int8 weights (docs/FORMAT.md, 1.2): int8
    ``[ceil(out/16)][ceil(K/4)][16][4]``, channel ``o``'s K value ``k`` at
    ``[o // 16][k // 4][o % 16][k % 4]``, zeros past K and past the last channel."""
    w = np.asarray(weights).astype(np.int8)
    out = w.shape[0]
    rows = w.reshape(out, -1)
    k = rows.shape[1]
    blocks, quads = (out + 15) // 16, (k + 3) // 4
    padded = np.zeros((blocks * 16, quads * 4), dtype=np.int8)
    padded[:out, :k] = rows
    return np.ascontiguousarray(padded.reshape(blocks, 16, quads, 4).transpose(0, 2, 1, 3))


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _strings(items) -> bytes:
    return b"".join(s.encode("utf-8") + b"\0" for s in items)


def to_bytes(model: Model) -> bytes:
    """The `.nin` image of a model (validated first).  Sections: GRPH, WGHT, LBLS, [META]."""
    validate(model)
    c, h, w = (int(v) for v in model.input_shape)
    layers = list(model.layers)
    shapes = model.output_shapes()

    wght = bytearray()
    records = []
    array_offsets = []
    for L in layers:
        offsets = [0] * 5
        if L.op == "conv":
            arrays = (np.asarray(L.weights).astype("<i1"), np.asarray(L.bias).astype("<i4"),
                      np.asarray(L.multiplier).astype("<i4"), np.asarray(L.shift).astype("<i4"),
                      np.asarray(L.weight_scale).astype("<f4"))
            for j, a in enumerate(arrays):
                wght.extend(b"\0" * (_align(len(wght)) - len(wght)))
                offsets[j] = len(wght)
                wght.extend(np.ascontiguousarray(a).tobytes())
        array_offsets.append(offsets)
    # The quad copies follow every other array, together (FORMAT.md: a process that reads them
    # in place then maps one region, not pages beside the OHWI weights it no longer needs).
    quad_offsets = []
    for L in layers:
        quad_offset = 0
        if L.op == "conv" and L.quad_weights:
            wght.extend(b"\0" * (_align(len(wght)) - len(wght)))
            quad_offset = len(wght)
            wght.extend(quad_blocked(L.weights).tobytes())
        quad_offsets.append(quad_offset)
    for L, offsets, quad_offset in zip(layers, array_offsets, quad_offsets):
        kh, kw = (int(v) for v in L.kernel)
        sh, sw = (int(v) for v in L.stride)
        pt, pl, pb, pr = (int(v) for v in L.pads)
        flags = (FLAG_RELU if L.relu else 0) | (FLAG_QUAD_WEIGHTS if L.op == "conv" and L.quad_weights else 0)
        rec = struct.pack("<12I", OP_CODES[L.op], flags, int(L.in_channels),
                          int(L.out_channels), kh, kw, sh, sw, pt, pl, pb, pr)
        rec += _f32(L.output_scale).astype("<f4").tobytes()
        rec += struct.pack("<i5I", int(L.output_zero_point), *offsets)
        rec += struct.pack("<3I", int(L.output_max), int(L.weight_max), quad_offset)
        rec += b"\0" * 8
        assert len(rec) == LAYER_RECORD_BYTES
        records.append(rec)
    wght.extend(b"\0" * (_align(len(wght)) - len(wght)))
    if len(wght) > 0xFFFFFFFF:
        _fail("WGHT: section larger than 4 GiB; array offsets are u32")

    grph = struct.pack("<4I", c, h, w, len(layers))
    grph += _f32(model.input_scale).astype("<f4").tobytes()
    grph += struct.pack("<iII", int(model.input_zero_point), shapes[-1][0], 0)
    grph += b"".join(records)

    sections = [(b"GRPH", grph), (b"WGHT", bytes(wght)), (b"LBLS", _strings(model.labels))]
    if model.metadata:
        sections.append((b"META", _strings(s for kv in model.metadata.items() for s in kv)))

    table_end = HEADER_BYTES + ENTRY_BYTES * len(sections)
    pos = _align(table_end)
    placed = []
    for kind, payload in sections:
        placed.append((kind, pos, payload))
        pos = _align(pos + len(payload))
    file_bytes = placed[-1][1] + len(placed[-1][2])

    out = bytearray(file_bytes)
    for j, (kind, off, payload) in enumerate(placed):
        struct.pack_into("<4sIQQ", out, HEADER_BYTES + ENTRY_BYTES * j, kind, 0, off,
                         len(payload))
        out[off:off + len(payload)] = payload
    minor = (VERSION_MINOR_QUADS if any(L.op == "conv" and L.quad_weights for L in layers)
             else VERSION_MINOR_BOUNDS if any(int(L.output_max) or int(L.weight_max) for L in layers)
             else VERSION_MINOR)
    struct.pack_into("<4sHHIIQ", out, 0, MAGIC, VERSION_MAJOR, minor, HEADER_BYTES,
                     len(sections), file_bytes)
    struct.pack_into("<I", out, 24, zlib.crc32(bytes(out[HEADER_BYTES:])) & 0xFFFFFFFF)
    return bytes(out)


def write(model: Model, path) -> None:
    """Write the `.nin` image of a model (validated first) to ``path``."""
    data = to_bytes(model)
    with open(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------

def _kind_name(raw: bytes) -> str:
    if all(0x20 < b < 0x7F for b in raw):
        return raw.decode("ascii")
    return "0x%08X" % struct.unpack("<I", raw)[0]


def _split_strings(data: bytes, what: str) -> list:
    if len(data) == 0:
        return []
    if data[-1] != 0:
        _fail(f"{what}: section does not end with a NUL byte")
    out = []
    for j, raw in enumerate(data[:-1].split(b"\0")):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            _fail(f"{what}: string {j} is not valid UTF-8")
    return out


def from_bytes(data: bytes) -> Model:
    """Parse and fully validate a `.nin` image; raise NinFormatError at the first broken rule."""
    data = bytes(data)
    size = len(data)
    # ---- header
    if size < HEADER_BYTES:
        _fail(f"header: file has {size} bytes, fewer than the 64-byte header")
    magic, major, minor, header_bytes, count, file_bytes, crc = struct.unpack_from(
        "<4sHHIIQI", data, 0)
    if magic != MAGIC:
        _fail(f"header: magic is {magic!r}, expected b'NINM'")
    if major != VERSION_MAJOR:
        _fail(f"header: version_major is {major} (version {major}.{minor}); only 1 is read")
    if header_bytes != HEADER_BYTES:
        _fail(f"header: header_bytes is {header_bytes}, expected 64")
    if file_bytes != size:
        _fail(f"header: file_bytes is {file_bytes} but the file has {size} bytes "
              f"(truncated or padded)")
    if any(data[28:64]):
        _fail("header: reserved bytes 28..63 are not zero")
    if not 1 <= count <= MAX_SECTIONS:
        _fail(f"header: section_count is {count}, expected 1 to {MAX_SECTIONS}")
    table_end = HEADER_BYTES + ENTRY_BYTES * count
    if table_end > size:
        _fail(f"header: section table needs {table_end} bytes but the file has {size}")
    actual = zlib.crc32(data[HEADER_BYTES:]) & 0xFFFFFFFF
    if crc != actual:
        _fail(f"header: crc32 mismatch: header says 0x{crc:08X}, contents give 0x{actual:08X}")
    # ---- section table
    sections = {}
    prev_end = table_end
    covered = []
    for j in range(count):
        kind, reserved, off, sz = struct.unpack_from("<4sIQQ", data, HEADER_BYTES + ENTRY_BYTES * j)
        name = _kind_name(kind)
        if kind not in KINDS:
            _fail(f"section table: entry {j}: unknown kind {name}")
        if reserved != 0:
            _fail(f"section {name}: reserved field is not zero")
        if kind in sections:
            _fail(f"section {name}: appears twice")
        if off % ALIGN:
            _fail(f"section {name}: offset {off} is not a multiple of 64")
        if off < prev_end:
            _fail(f"section {name}: offset {off} overlaps the section table or the previous "
                  f"section (which ends at {prev_end}); sections must be in increasing offset "
                  f"order")
        if off > size or sz > size - off:
            _fail(f"section {name}: ends at byte {off + sz} but the file has {size} bytes")
        sections[kind] = (off, sz)
        covered.append((off, off + sz))
        prev_end = off + sz
    for kind in REQUIRED_KINDS:
        if kind not in sections:
            _fail(f"section table: required section {kind.decode()} is missing")
    # ---- GRPH input record
    g_off, g_size = sections[b"GRPH"]
    if g_size < INPUT_RECORD_BYTES:
        _fail(f"GRPH: section has {g_size} bytes, fewer than the 32-byte input record")
    c, h, w, layer_count = struct.unpack_from("<4I", data, g_off)
    (input_scale,) = struct.unpack_from("<f", data, g_off + 16)
    input_zp, class_count, g_reserved = struct.unpack_from("<iII", data, g_off + 20)
    _check_input((c, h, w), layer_count, input_scale, input_zp)
    if g_reserved != 0:
        _fail("GRPH: input record reserved field is not zero")
    expect = INPUT_RECORD_BYTES + LAYER_RECORD_BYTES * layer_count
    if g_size != expect:
        _fail(f"GRPH: section has {g_size} bytes but {layer_count} layers need exactly {expect}")
    w_off, w_size = sections[b"WGHT"]
    if w_size % ALIGN:
        _fail(f"WGHT: section size {w_size} is not a multiple of 64")

    # ---- layers
    shape = (c, h, w)
    scale = _f32(input_scale)
    zp = input_zp
    bound = ACTIVATION_MAX
    layers = []
    for i in range(layer_count):
        base = g_off + INPUT_RECORD_BYTES + LAYER_RECORD_BYTES * i
        where = f"GRPH: layer {i}"
        (op_code, flags, cin, cout, kh, kw, sh, sw, pt, pl, pb, pr) = struct.unpack_from(
            "<12I", data, base)
        (out_scale,) = struct.unpack_from("<f", data, base + 48)
        (out_zp,) = struct.unpack_from("<i", data, base + 52)
        offsets = struct.unpack_from("<5I", data, base + 56)
        out_max, weight_max = struct.unpack_from("<2I", data, base + 76)
        if op_code not in OPS:
            _fail(f"{where}: op is {op_code}, expected 1 (conv), 2 (maxpool), 3 (avgpool) "
                  f"or 4 (gap)")
        if flags & ~(FLAG_RELU | FLAG_QUAD_WEIGHTS):
            _fail(f"{where}: flags 0x{flags:X} has bits other than bit 0 (ReLU) and bit 1 "
                  f"(quad weights) set")
        (quad_offset,) = struct.unpack_from("<I", data, base + 84)
        has_quads = bool(flags & FLAG_QUAD_WEIGHTS)
        if has_quads and op_code != OP_CODES["conv"]:
            _fail(f"{where}: the quad weights flag is only allowed on conv")
        if quad_offset and not has_quads:
            _fail(f"{where}: quad_weights_offset is {quad_offset} without the quad weights flag")
        if any(data[base + 88:base + 96]):
            _fail(f"{where}: reserved bytes 88..95 are not zero")
        L = Layer(op=OPS[op_code], in_channels=cin, out_channels=cout, kernel=(kh, kw),
                  stride=(sh, sw), pads=(pt, pl, pb, pr), relu=bool(flags & 1),
                  output_scale=float(np.float32(out_scale)), output_zero_point=out_zp,
                  output_max=out_max, weight_max=weight_max, quad_weights=has_quads)
        out_shape, out_bound = _check_layer_fields(i, L, shape, scale, zp, bound, layer_count)
        if L.op != "conv":
            if any(offsets):
                _fail(f"{where}: array offsets must all be zero for {L.op}")
        else:
            k = kh * kw * cin
            specs = (("<i1", (cout, kh, kw, cin), cout * k), ("<i4", (cout,), 4 * cout),
                     ("<i4", (cout,), 4 * cout), ("<i4", (cout,), 4 * cout),
                     ("<f4", (cout,), 4 * cout))
            arrays = []
            for name, off, (dt, shp, nbytes) in zip(ARRAY_NAMES, offsets, specs):
                if off % ALIGN:
                    _fail(f"{where}: {name}_offset {off} is not a multiple of 64")
                if off > w_size or nbytes > w_size - off:
                    _fail(f"{where}: {name} ({nbytes} bytes at WGHT+{off}) ends past the end "
                          f"of section WGHT ({w_size} bytes)")
                a = np.frombuffer(data, dtype=dt, count=nbytes // np.dtype(dt).itemsize,
                                  offset=w_off + off).reshape(shp)
                arrays.append(a.astype(dt[1:]))      # native-endian, writable copy
            L.weights, L.bias, L.multiplier, L.shift, L.weight_scale = arrays
            _check_layer_arrays(i, L, bound)
            if has_quads:
                _check_quad_weights(where, L, data, w_off, w_size, quad_offset)
            scale, zp = _f32(L.output_scale), L.output_zero_point
        layers.append(L)
        shape, bound = out_shape, out_bound
    if class_count != shape[0]:
        _fail(f"GRPH: class_count is {class_count} but the last layer has {shape[0]} channels")

    # ---- labels and metadata
    l_off, l_size = sections[b"LBLS"]
    labels = _split_strings(data[l_off:l_off + l_size], "LBLS")
    _check_labels(labels, class_count)
    metadata = {}
    if b"META" in sections:
        m_off, m_size = sections[b"META"]
        strings = _split_strings(data[m_off:m_off + m_size], "META")
        if len(strings) % 2:
            _fail(f"META: {len(strings)} strings: a key has no value")
        for j in range(0, len(strings), 2):
            key = strings[j]
            if key == "":
                _fail(f"META: pair {j // 2}: key is empty")
            if key in metadata:
                _fail(f"META: pair {j // 2}: key {key!r} appears twice")
            metadata[key] = strings[j + 1]

    # ---- padding: bytes outside the header, the table and the sections are zero
    pos = table_end
    for start, end in covered + [(size, size)]:
        if any(data[pos:start]):
            _fail(f"padding: bytes {pos}..{start - 1} (outside every section) are not zero")
        pos = end
    return Model(input_shape=(c, h, w), layers=layers, labels=labels,
                 input_scale=float(np.float32(input_scale)), input_zero_point=input_zp,
                 metadata=metadata)


def _check_quad_weights(where: str, L: Layer, data: bytes, w_off: int, w_size: int,
                        quad_offset: int) -> None:
    """A 1.2 conv's quad weights: aligned, inside WGHT, and equal to its OHWI weights in the
    quad-blocked layout (zeros included)."""
    want = quad_blocked(L.weights)
    nbytes = want.size
    if quad_offset % ALIGN:
        _fail(f"{where}: quad_weights_offset {quad_offset} is not a multiple of 64")
    if quad_offset > w_size or nbytes > w_size - quad_offset:
        _fail(f"{where}: quad weights ({nbytes} bytes at WGHT+{quad_offset}) end past the end "
              f"of section WGHT ({w_size} bytes)")
    got = np.frombuffer(data, dtype=np.int8, count=nbytes, offset=w_off + quad_offset)
    bad = np.flatnonzero(got != want.reshape(-1))
    if bad.size:
        b = int(bad[0])
        quads = want.shape[1]
        channel = b // (quads * 64) * 16 + b % 64 // 4
        _fail(f"{where}: quad weights byte {b} (channel {channel}) differs from the weights "
              f"in quad order")


def read(path) -> Model:
    """Read and fully validate a `.nin` file; NinFormatError at the first broken rule."""
    with open(path, "rb") as f:
        return from_bytes(f.read())


# --------------------------------------------------------------------------------------------
# Command line: a human summary
# --------------------------------------------------------------------------------------------

def summary(model: Model, file_bytes: int | None = None) -> str:
    """A human summary: input, one line a layer (shape, scale, bounds, sizes), labels, META."""
    lines = []
    c, h, w = model.input_shape
    lines.append(f"input   {c}x{h}x{w} (CxHxW)  scale {model.input_scale:.9g}  "
                 f"zero_point {model.input_zero_point}")
    shapes = model.output_shapes()
    prev = (c, h, w)
    params = 0
    macs = 0
    for i, (L, s) in enumerate(zip(model.layers, shapes)):
        if L.op == "gap":
            desc = f"gap over {prev[1]}x{prev[2]}"
        else:
            desc = (f"{L.op:<7} k{L.kernel[0]}x{L.kernel[1]} s{L.stride[0]}x{L.stride[1]} "
                    f"p{','.join(str(p) for p in L.pads)}{' relu' if L.relu else ''}")
        line = (f"{i:3d} {desc:<42} {prev[0]}x{prev[1]}x{prev[2]} -> {s[0]}x{s[1]}x{s[2]}  "
                f"scale {L.output_scale:.6g} zp {L.output_zero_point}")
        if int(L.output_max):
            line += f" max {int(L.output_max)}"
        if L.op == "conv":
            n = L.weights.size
            params += n + 16 * L.out_channels
            macs += n * s[1] * s[2]
            if int(L.weight_max):
                line += f"  |w| <= {int(L.weight_max)}"
            line += (f"  w {n} B  m [{int(L.multiplier.min())},{int(L.multiplier.max())}]"
                     f" n [{int(L.shift.min())},{int(L.shift.max())}]")
            if L.quad_weights:
                line += f"  quads {quad_blocked(L.weights).size} B"
        lines.append(line)
        prev = s
    lines.append(f"classes {len(model.labels)}: " + ", ".join(model.labels[:10])
                 + (" ..." if len(model.labels) > 10 else ""))
    lines.append(f"conv parameters {params} bytes, {macs} MACs per image")
    if file_bytes is not None:
        lines.append(f"file {file_bytes} bytes")
    for k, v in model.metadata.items():
        lines.append(f"meta {k} = {v}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``tools/nin-info FILE.nin``: print the summary of a file, or its first broken rule."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: tools/nin-info FILE.nin", file=sys.stderr)
        return 2
    try:
        with open(argv[0], "rb") as f:
            data = f.read()
        model = from_bytes(data)
    except (OSError, NinFormatError) as e:
        print(f"error: {argv[0]}: {e}", file=sys.stderr)
        return 1
    print(summary(model, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
