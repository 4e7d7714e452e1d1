"""Quantization: calibrated ranges, QDQ parameters and float weights -> nin's integer layers.

Per-channel symmetric weights, per-tensor activation scales, int32 biases and the
requantization multipliers of docs/QUANTIZATION.md ("Calibration"), checked against the
accumulator bound of docs/FORMAT.md.

``--activation-bits 7`` gives every ReLU convolution the scale ``a / 127`` and the format 1.1
field ``output_max = 127`` (the kernels clamp there); ``--weight-bits 7`` quantizes weights per
channel at ``max|w| / 63`` with ``weight_max = 63``.  Smaller operands leave room in the
accumulator and in the 8-bit operands of the u8 x s8 dot-product instructions.  The default
8/8 writes version 1.0 files; any other choice is recorded in META ``quantization``
(:func:`quantization_description`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from nin_tools import float_graph as nf
from nin_tools import model_format as fmt
from nin_tools.convert.errors import ConvertError
from nin_tools.convert.lowering import Stage
from nin_tools.convert.onnx_import import QDQInfo

__all__ = ["LayerReport", "weight_max_for", "activation_max_for", "quantization_description",
           "quantize"]


@dataclass
class LayerReport:
    """What the printed table says of one layer: its output, scale and where they came from."""
    index: int
    op: str
    shape: Tuple[int, ...]
    scale: float
    zero_point: int
    source: str                  # "calibrated p99.999", "max", "qdq", "input", "pass"
    clip_fraction: float = float("nan")
    weight_source: str = ""


def weight_max_for(bits: int) -> int:
    """The symmetric weight bound of ``bits``-bit weights: 2^(bits-1) - 1 (127, or 63 for 7)."""
    return (1 << (int(bits) - 1)) - 1


def activation_max_for(bits: int) -> int:
    """The largest ``bits``-bit unsigned activation: 2^bits - 1 (255, or 127 for 7)."""
    return (1 << int(bits)) - 1


def layer_weight_max(bits: int, in_bound: int) -> int:
    """A convolution's weight bound: 2^(bits-1) - 1, and below 8 bits at most
    32767 // (4 * in_bound), so that four products of inputs up to ``in_bound`` sum within
    int16 (63 for 7-bit weights on 7-bit inputs, 32 on the 8-bit network input)."""
    w = weight_max_for(bits)
    return w if bits >= 8 else min(w, 32767 // (4 * int(in_bound)))


def _weight_quant(w: np.ndarray, wmax: int = 127):
    """Per-output-channel symmetric weights: sw = max|w| / wmax (127 for 8-bit weights, 63 for
    7, see layer_weight_max); sw = 1 for an all-zero channel."""
    o = w.shape[0]
    amax = np.abs(w.reshape(o, -1)).max(axis=1).astype(np.float64)
    sw = np.where(amax > 0, amax / float(wmax), 1.0).astype(np.float32)
    q = np.clip(np.rint(w.astype(np.float64) / sw.astype(np.float64)[:, None, None, None]), -wmax, wmax)
    return q.astype(np.int8), sw


def _qdq_weights(entry, out_channels, wmax: int = 127):
    """int8 QDQ weights usable as they are (all within [-wmax, wmax]), or None."""
    q, scale, zp, axis = entry
    scale = np.asarray(scale, np.float64).reshape(-1)
    zp = np.asarray(zp).reshape(-1)
    if q.dtype != np.int8 or np.any(zp != 0) or q.min() < -wmax or q.max() > wmax:
        return None
    if scale.size == 1:
        scale = np.full(out_channels, scale[0])
    elif scale.size != out_channels or axis != 0:
        return None
    if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
        return None
    return q.astype(np.int8), scale.astype(np.float32)


def quantize(graph: nf.Graph, stages: List[Stage], ranges: Optional[dict], qdq: Optional[QDQInfo],
             percentile_desc: str = "calibrated", activation_bits: int = 8, weight_bits: int = 8):
    """-> (list of model_format.Layer, list of LayerReport).

    ``activation_bits`` (7 or 8): every ReLU convolution's output takes the scale
    ``a / (2^bits - 1)`` and clamps at ``output_max = 2^bits - 1`` (a convolution without
    ReLU keeps 8 bits).  ``weight_bits`` (7 or 8): every convolution's weights take the scale
    ``max|w| / (2^(bits-1) - 1)`` and lie within ``weight_max = 2^(bits-1) - 1``, except
    where the layer's input can reach 255 (the network input): there ``weight_max`` is
    ``32767 // (4 * 255) = 32``, so that at 7 bits every layer's sums of four products fit in
    int16 (the AVX2 kernels' exact vpmaddubsw step, QUANTIZATION.md).  At 8 bits
    the fields stay 0 (version 1.0 files).  QDQ parameters are used only where they fit
    these bounds: QDQ activation scales of ReLU outputs only at 8 bits, QDQ weights only
    when all lie within the bound.
    """
    if activation_bits not in (7, 8) or weight_bits not in (7, 8):
        raise ConvertError(f"activation and weight bits must be 7 or 8, got {activation_bits} "
                           f"and {weight_bits}")
    a_max = activation_max_for(activation_bits)
    out_max_field = a_max if activation_bits < 8 else 0
    shapes = nf.output_shapes(graph)
    s_in = np.float32(1.0 / 255.0)
    z_in = 0
    in_bound = 255               # the largest value the current input can hold
    c_in = graph.input_shape[0]
    layers, reports = [], []
    for si, st in enumerate(stages):
        shape = shapes[st.out_idx]
        if st.op == "conv":
            conv = st.src
            w_max = layer_weight_max(weight_bits, in_bound)
            w_max_field = w_max if weight_bits < 8 else 0
            # ---- weights ----
            wsrc = "per-channel"
            wq = None
            if qdq and st.conv_idx in qdq.weights:
                got = _qdq_weights(qdq.weights[st.conv_idx], conv.out_channels, w_max)
                if got is not None:
                    wq, sw = got
                    wsrc = "qdq"
                else:
                    wsrc = "requantized"
            if wq is None:
                wq, sw = _weight_quant(conv.weight, w_max)
            # ---- output scale ----
            preset = None
            if qdq and not (st.relu and activation_bits < 8):
                cands = [st.out_idx] + ([st.conv_idx] if st.relu and st.conv_idx != st.out_idx else [])
                for idx in cands:
                    if idx in qdq.act:
                        s, z, fits = qdq.act[idx]
                        if not fits or not (s > 0 and math.isfinite(s)) or not 0 <= z <= 255:
                            continue
                        if st.relu and z != 0:
                            continue
                        preset = (s, z)
                        break
            clip = float("nan")
            if preset is not None:
                s_out, z_out = np.float32(preset[0]), int(preset[1])
                src = "qdq"
                if ranges and si in ranges:
                    lo, hi, ht, lt = ranges[si]
                    top = float(s_out) * (255 - z_out)
                    clip = ht.fraction_beyond(top) + (lt.fraction_beyond(-float(s_out) * z_out) if lt else 0.0)
            else:
                if not ranges or si not in ranges:
                    raise ConvertError(f"layer {len(layers)} ({conv.name!r}) needs calibration: "
                                       "pass --calibrate")
                lo, hi, ht, lt = ranges[si]
                src = percentile_desc
                if st.relu:
                    a = hi
                    if not (a > 0 and math.isfinite(a)):
                        warnings.warn(f"layer {len(layers)} ({conv.name!r}): activation is 0 on every "
                                      f"calibration image; range set to 1 (scale 1/{a_max})")
                        a = 1.0
                    s_out, z_out = np.float32(a / float(a_max)), 0
                    clip = ht.fraction_beyond(a)
                else:
                    lo, hi = min(lo, 0.0), max(hi, 0.0)
                    if hi - lo <= 0:
                        lo, hi = 0.0, 1.0
                    s_out = np.float32((hi - lo) / 255.0)
                    z_out = int(np.clip(round(-lo / float(s_out)), 0, 255))
                    clip = ht.fraction_beyond(float(s_out) * (255 - z_out)) + \
                        lt.fraction_beyond(-float(s_out) * z_out)
            # ---- bias, multipliers ----
            sw64 = sw.astype(np.float64)
            bscale = float(s_in) * sw64
            bias = np.rint(conv.bias.astype(np.float64) / bscale)
            kh, kw = conv.kernel
            limit = (2 ** 31 - 1) - in_bound * w_max * kh * kw * c_in
            if np.any(np.abs(bias) > limit):
                bad = int(np.argmax(np.abs(bias)))
                warnings.warn(f"layer {len(layers)} ({conv.name!r}): bias of channel {bad} clamped to "
                              f"the accumulator bound ({bias[bad]:.0f} -> +-{limit})")
                bias = np.clip(bias, -limit, limit)
            mult = np.empty(conv.out_channels, np.int32)
            shift = np.empty(conv.out_channels, np.int32)
            for o in range(conv.out_channels):
                ratio = float(s_in) * float(sw64[o]) / float(s_out)
                try:
                    m, nshift = fmt.quantize_multiplier(ratio)
                except Exception as e:
                    raise ConvertError(f"layer {len(layers)} ({conv.name!r}) channel {o}: requantization "
                                       f"ratio {ratio:.3g} is not representable: {e}") from None
                mult[o], shift[o] = m, nshift
            layers.append(fmt.Layer(
                op="conv", in_channels=c_in, out_channels=conv.out_channels, kernel=(kh, kw),
                stride=tuple(conv.stride), pads=tuple(conv.pads), relu=bool(st.relu),
                output_scale=float(s_out), output_zero_point=int(z_out),
                output_max=out_max_field if st.relu else 0, weight_max=w_max_field,
                weights=np.ascontiguousarray(wq.transpose(0, 2, 3, 1)), bias=bias.astype(np.int32),
                multiplier=mult, shift=shift, weight_scale=sw.astype(np.float32)))
            reports.append(LayerReport(len(layers) - 1, "conv" + ("+relu" if st.relu else ""), shape,
                                       float(s_out), int(z_out), src, clip, wsrc))
            s_in, z_in, c_in = s_out, z_out, conv.out_channels
            in_bound = a_max if st.relu else 255
        elif st.op in ("maxpool", "avgpool"):
            p = st.src
            layers.append(fmt.Layer(op=st.op, in_channels=c_in, out_channels=c_in, kernel=tuple(p.kernel),
                                    stride=tuple(p.stride), pads=tuple(p.pads),
                                    output_scale=float(s_in), output_zero_point=int(z_in)))
            reports.append(LayerReport(len(layers) - 1, st.op, shape, float(s_in), int(z_in), "pass"))
        else:  # gap
            layers.append(fmt.Layer(op="gap", in_channels=c_in, out_channels=c_in, kernel=(0, 0),
                                    stride=(0, 0), pads=(0, 0, 0, 0),
                                    output_scale=float(s_in), output_zero_point=int(z_in)))
            reports.append(LayerReport(len(layers) - 1, "gap", shape, float(s_in), int(z_in), "pass"))
    return layers, reports
def quantization_description(activation_bits: int, weight_bits: int) -> str:
    """The META ``quantization`` value: the bit widths and the bounds they give."""
    return (f"activations {activation_bits}-bit (ReLU outputs in [0, {activation_max_for(activation_bits)}]); "
            f"weights {weight_bits}-bit (in [-{weight_max_for(weight_bits)}, {weight_max_for(weight_bits)}]"
            + ("; [-32, 32] on the 8-bit network input" if weight_bits < 8 else "") + ")")
