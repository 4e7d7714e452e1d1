"""nin-convert: a trained NiN-family network (PyTorch state_dict or ONNX) -> calibrated .nin.

    nin-convert SOURCE [--arch ARCH.json] [--calibrate DIR|IDX|fashion-mnist]
                [--calibration-count N] [--labels FILE] [--name NAME] [--meta k=v ...]
                [--activation-bits 7|8] [--weight-bits 7|8] -o OUT.nin

Sources
-------
``.pt`` / ``.pth``: a PyTorch ``state_dict`` (or a dict holding one under ``state_dict``,
and optionally the topology under ``arch``) of the seed's ``NiN`` module: keys
``network.<i>.<j>.<param>`` where ``i`` indexes the ``nn.Sequential`` (nin_block, Dropout,
MaxPool, ..., AdaptiveAvgPool2d) and ``j`` the module inside a block: conv(0) relu(1)
conv(2) relu(3) conv(4) relu(5), or with BatchNorm conv(0) bn(1) relu(2) conv(3) bn(4)
relu(5) conv(6) bn(7) relu(8).  What a state_dict does not hold (strides, paddings,
pooling) comes from ``--arch`` (the JSON written by ``tools/nin_train.py``: entry ``i`` of
``layers`` is ``network.<i>``); without it the classic 227x227 topology of the seed is
assumed and its kernel sizes are checked against the weights.  torch is imported only here.

``.onnx``: Conv (group 1, dilation 1), Relu, MaxPool (ceil_mode included), AveragePool
(padding only with count_include_pad=1), GlobalAveragePool, ReduceMean over H and W,
BatchNormalization (folded), Dropout / Identity (dropped), Flatten / Reshape / Squeeze after
the global pooling (dropped).  Weights come from initializers and Constant nodes, with
Identity / Cast / Reshape / QuantizeLinear / DequantizeLinear on them folded; nothing else
is folded.  Any other node is refused, naming it.

QDQ models (``onnxruntime.quantization``, QuantizeLinear/DequantizeLinear pairs): the float
graph is the dequantized one, and the quantization parameters are taken as they are where
they map onto nin's contract (docs/QUANTIZATION.md):

* weights: an int8 DequantizeLinear initializer with zero point 0, values in [-127, 127]
  and one scale per tensor or per output channel is used as is (int8 values and scales);
  anything else (a -128, a non-zero zero point, uint8 weights) is dequantized and
  requantized per output channel;
* activations: the (scale, zero point) of a Q/DQ pair on a convolution's output is used as
  is when it fits: uint8 as it is, int8 as uint8 with the zero point + 128 (the same real
  values); zero point 0 (in uint8 terms) after a ReLU, any without one.  A pair whose zero
  point is its type's minimum (uint8 0, int8 -128) clamps at 0, so it implies a ReLU
  (onnxruntime removes Relu nodes into the Q/DQ that way).  Other types (16-bit) and
  tensors without a Q/DQ pair are calibrated again from ``--calibrate`` images;
* the network input is always the u8 pixel at scale 1/255 (exact), whatever the model's
  input Q/DQ says; biases are requantized at nin's bias scale from their dequantized values.

The table printed after conversion says, per layer, which scale was taken from the QDQ
model ("qdq") and which was calibrated.

Calibration
-----------
``--calibrate fashion-mnist`` (the first N training images, N = 2000 by default), a
directory of PNG files (sorted by name, the first N) or an IDX images file.  PNG files are
decoded by the runtime's own decoder (``nin.load_png`` of bindings/python, which needs
libnin.so: ``make lib``), and every image goes through ``nin_preprocess.prepare`` to the model
input, so calibration sees exactly the runtime's pixels.  The scale of each ReLU output is ``a / 255`` with ``a`` the
99.999th percentile of that activation over the calibration set (numpy's linear
interpolation, computed exactly from a running top-k); with fewer than 100 images ``a`` is
the maximum (``--percentile`` overrides both).  A convolution without ReLU gets an asymmetric
range from the same percentiles at both ends, widened to include 0.

Narrower quantization
---------------------
``--activation-bits 7`` gives every ReLU convolution the scale ``a / 127`` and the format 1.1
field ``output_max = 127`` (the kernels clamp there); ``--weight-bits 7`` quantizes weights per
channel at ``max|w| / 63`` with ``weight_max = 63``.  Smaller operands leave room in the
accumulator and in the 8-bit operands of the u8 x s8 dot-product instructions.  The default
8/8 writes version 1.0 files; any other choice is recorded in META ``quantization``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nin_float as nf  # noqa: E402

CONVERTER_VERSION = "nin-convert 1.0"
DEFAULT_PERCENTILE = 99.999
SMALL_SET = 100            # fewer calibration images than this: use the maximum
DEFAULT_CALIBRATION_COUNT = 2000


class ConvertError(ValueError):
    """The source cannot be converted; the message says why, naming the key or node."""


# =========================================================================== PyTorch


def _pair(v, what="value") -> Tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise ConvertError(f"{what}: expected an int or a pair, got {v!r}") from None
    if len(t) != 2:
        raise ConvertError(f"{what}: expected an int or a pair, got {v!r}")
    return t


CLASSIC_KERNELS = (11, 5, 3, 3)


def classic_arch(sd: Dict[str, np.ndarray]) -> dict:
    """The seed's 227x227 topology, with channel counts read from the weights and the
    kernel sizes checked against them."""
    w0 = sd.get("network.0.0.weight")
    if w0 is None:
        raise ConvertError("state_dict has no key 'network.0.0.weight': not the seed's NiN layout")
    bn = "network.0.1.running_mean" in sd
    last = 6 if bn else 4
    outs = []
    for blk, k in zip((0, 3, 6, 9), CLASSIC_KERNELS):
        key = f"network.{blk}.0.weight"
        if key not in sd:
            raise ConvertError(f"state_dict has no key {key!r} (classic 227 topology assumed; "
                               "pass --arch for another one)")
        w = sd[key]
        if w.ndim != 4 or w.shape[2:] != (k, k):
            raise ConvertError(f"{key}: shape {tuple(w.shape)} does not have the classic topology's "
                               f"{k}x{k} kernel (pass --arch for another topology)")
        outs.append(int(w.shape[0]))
        lk = f"network.{blk}.{last}.weight"
        if lk not in sd:
            raise ConvertError(f"state_dict has no key {lk!r}")
    specs = [(11, 4, 0), (5, 1, 2), (3, 1, 1), (3, 1, 1)]
    layers = []
    for bi, (out, (k, s, p)) in enumerate(zip(outs, specs)):
        layers.append({"type": "nin_block", "out": out, "kernel": k, "stride": s, "padding": p, "bn": bn})
        if bi < 3:
            layers.append({"type": "dropout"})
            layers.append({"type": "maxpool", "kernel": 3, "stride": 2})
    layers.append({"type": "gap"})
    return {"name": "nin_classic", "input": [int(w0.shape[1]), 227, 227], "layers": layers}


def _strip_prefix(sd: dict) -> dict:
    out = {}
    for k, v in sd.items():
        for p in ("module.", "_orig_mod."):
            if k.startswith(p):
                k = k[len(p):]
        out[k] = v
    return out


def load_torch_source(path: str) -> Tuple[Dict[str, np.ndarray], Optional[dict]]:
    """(state_dict as float32 numpy arrays, embedded arch or None)."""
    try:
        import torch  # noqa: F401  (lazily: only .pt sources need it)
    except ImportError:
        raise ConvertError(f"{path}: reading a PyTorch file needs torch (pip install torch)") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    arch = None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        arch = obj.get("arch") if isinstance(obj.get("arch"), dict) else None
        obj = obj["state_dict"]
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConvertError(f"{path}: expected a state_dict (dict of tensors), got {type(obj).__name__}")
    sd = {}
    for k, v in _strip_prefix(obj).items():
        if hasattr(v, "detach"):
            v = v.detach().cpu()
            sd[k] = v.numpy().astype(np.float32) if v.is_floating_point() else v.numpy()
        else:
            sd[k] = np.asarray(v)
    return sd, arch


def graph_from_state_dict(sd: Dict[str, np.ndarray], arch: Optional[dict] = None) -> nf.Graph:
    """Build the float graph of the seed's NiN layout from a state_dict and a topology."""
    sd = _strip_prefix(sd)
    if arch is None:
        arch = classic_arch(sd)
    try:
        c, h, w = (int(a) for a in arch["input"])
        layers = arch["layers"]
    except (KeyError, TypeError, ValueError):
        raise ConvertError("arch JSON needs \"input\": [C, H, W] and \"layers\": [...]") from None
    used = set()

    def take(key, shape):
        if key not in sd:
            raise ConvertError(f"state_dict has no key {key!r} (arch expects it)")
        a = np.asarray(sd[key])
        if tuple(a.shape) != tuple(shape):
            raise ConvertError(f"{key}: shape {tuple(a.shape)}, the arch expects {tuple(shape)}")
        used.add(key)
        return a.astype(np.float32)

    ops: List[object] = []
    for i, L in enumerate(layers):
        t = L.get("type")
        pre = f"network.{i}"
        if t == "nin_block":
            out = int(L["out"])
            kh, kw = _pair(L.get("kernel", 1), f"layer {i} kernel")
            stride = _pair(L.get("stride", 1), f"layer {i} stride")
            ph, pw = _pair(L.get("padding", 0), f"layer {i} padding")
            bn = L.get("bn")
            if bn is None:
                bn = f"{pre}.1.running_mean" in sd
            eps = float(L.get("bn_eps", 1e-5))
            step = 3 if bn else 2
            for j in range(3):
                ci = j * step
                if j == 0:
                    wshape, st, pads = (out, c, kh, kw), stride, (ph, pw, ph, pw)
                else:
                    wshape, st, pads = (out, out, 1, 1), (1, 1), (0, 0, 0, 0)
                wt = take(f"{pre}.{ci}.weight", wshape)
                bkey = f"{pre}.{ci}.bias"
                bias = take(bkey, (out,)) if bkey in sd else np.zeros(out, np.float32)
                ops.append(nf.Conv(wt, bias, st, pads, name=f"{pre}.{ci}"))
                if bn:
                    bp = f"{pre}.{ci + 1}"
                    ops.append(nf.BatchNorm(take(f"{bp}.weight", (out,)), take(f"{bp}.bias", (out,)),
                                            take(f"{bp}.running_mean", (out,)),
                                            take(f"{bp}.running_var", (out,)), eps, name=bp))
                    used.add(f"{bp}.num_batches_tracked")
                ops.append(nf.Relu(name=f"{pre}.{ci + step - 1}"))
            c = out
        elif t == "dropout":
            pass
        elif t in ("maxpool", "avgpool"):
            k = _pair(L.get("kernel", 2), f"layer {i} kernel")
            s = _pair(L.get("stride") or k, f"layer {i} stride")
            p = _pair(L.get("padding", 0), f"layer {i} padding")
            pads = [p[0], p[1], p[0], p[1]]
            if L.get("ceil_mode", False):
                pads[2] += nf.ceil_mode_extra(h, k[0], s[0], p[0], p[0])
                pads[3] += nf.ceil_mode_extra(w, k[1], s[1], p[1], p[1])
            if t == "avgpool":
                if tuple(pads) != (p[0], p[1], p[0], p[1]):
                    raise ConvertError(f"network.{i}: avgpool with ceil_mode that adds windows is not "
                                       "representable (PyTorch shrinks the divisor of edge windows)")
                if any(p) and not L.get("count_include_pad", True):
                    raise ConvertError(f"network.{i}: avgpool with padding and count_include_pad=False "
                                       "is not representable (nin divides by the full window)")
                ops.append(nf.AvgPool(k, s, tuple(pads), name=pre))
            else:
                ops.append(nf.MaxPool(k, s, tuple(pads), name=pre))
        elif t == "gap":
            ops.append(nf.GlobalAvgPool(name=pre))
        else:
            raise ConvertError(f"arch layer {i}: unknown type {t!r}")
        # track the spatial size for ceil_mode
        if t != "dropout":
            shapes = nf.output_shapes(nf.Graph(arch["input"], ops))
            if shapes and len(shapes[-1]) == 3:
                c, h, w = shapes[-1]
    extra = sorted(k for k in sd if k not in used and not k.endswith("num_batches_tracked"))
    if extra:
        raise ConvertError(f"state_dict key {extra[0]!r} is not used by the arch "
                           f"({len(extra)} unused key(s)); wrong --arch?")
    if arch.get("mean") is not None or arch.get("std") is not None:
        ops.insert(0, nf.Normalize(arch.get("mean", 0.0), arch.get("std", 1.0)))
    return nf.Graph(tuple(int(a) for a in arch["input"]), ops, name=str(arch.get("name", "")))


# =========================================================================== ONNX


@dataclass
class QDQInfo:
    """Quantization parameters found in a QDQ model, keyed by float-op index."""
    act: Dict[int, Tuple[float, int, bool]] = field(default_factory=dict)   # idx -> (scale, u8 zp, fits)
    weights: Dict[int, Tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    input_q: Optional[Tuple[float, int]] = None

    def __bool__(self):
        return bool(self.act or self.weights)


# after the global pooling, a dynamic-batch ``x.view(x.shape[0], -1)`` exports as
# Shape -> Gather -> Unsqueeze -> Concat -> Reshape; those nodes are dropped with the Reshape
_SHAPE_OPS = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "Constant"}

_CONST_FOLD_OPS = {"Identity", "Cast", "Reshape", "DequantizeLinear", "QuantizeLinear", "Constant"}


def _attrs(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _node_label(node) -> str:
    return f"node {node.name or '(unnamed)'!r} (op_type {node.op_type})"


def _dq(x, scale, zp, axis):
    x = x.astype(np.float64)
    scale = np.asarray(scale, np.float64)
    zp = np.asarray(zp, np.float64) if zp is not None else np.zeros_like(scale)
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((x - zp) * scale).astype(np.float32)


def _q(x, scale, zp, axis, dtype):
    scale = np.asarray(scale, np.float64)
    zp = np.asarray(zp if zp is not None else 0, np.float64)
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    info = np.iinfo(dtype)
    return np.clip(np.rint(x / scale) + zp, info.min, info.max).astype(dtype)


def graph_from_onnx(path_or_model, input_shape: Optional[Sequence[int]] = None) -> Tuple[nf.Graph, QDQInfo]:
    """Read an ONNX model (path or ModelProto) into a float graph and its QDQ parameters."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ConvertError("reading ONNX needs the onnx package (pip install onnx)") from None
    model = onnx.load(path_or_model) if isinstance(path_or_model, (str, os.PathLike)) else path_or_model
    g = model.graph
    consts: Dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    qconsts: Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}   # DQ'd initializers
    data_inputs = [i for i in g.input if i.name not in consts]
    if len(data_inputs) != 1:
        raise ConvertError(f"the graph has {len(data_inputs)} non-initializer inputs; nin needs exactly one image input")
    inp = data_inputs[0]
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inp.type.tensor_type.shape.dim]
    if input_shape is not None:
        chw = tuple(int(a) for a in input_shape)
    else:
        if len(dims) != 4 or any(d is None or d <= 0 for d in dims[1:]):
            raise ConvertError(f"input {inp.name!r} has shape {dims}; pass --input-shape C,H,W")
        chw = tuple(dims[1:])

    ops: List[object] = []
    qdq = QDQInfo()
    cur = inp.name                     # the tensor the chain has reached
    alias = {inp.name}                 # names equal to `cur`
    pending_q: Dict[str, Tuple[float, int, bool]] = {}   # Q output name -> params
    after_gap = False
    shape_only = set()                 # tensors computed from shapes after the global pooling

    def const(name, node, what):
        if name not in consts:
            raise ConvertError(f"{_node_label(node)}: {what} {name!r} is not a constant")
        return consts[name]

    for node in g.node:
        op = node.op_type
        a = _attrs(node)
        if node.domain not in ("", "ai.onnx"):
            raise ConvertError(f"unsupported {_node_label(node)} in domain {node.domain!r}")
        ins = [n for n in node.input]
        real_ins = [n for n in ins if n]
        # ---- constant folding (initializers only) ----
        if op == "Constant":
            if "value" in a:
                consts[node.output[0]] = numpy_helper.to_array(a["value"])
            elif any(k in a for k in ("value_float", "value_floats")):
                consts[node.output[0]] = np.asarray(a.get("value_float", a.get("value_floats")), np.float32)
            elif any(k in a for k in ("value_int", "value_ints")):
                consts[node.output[0]] = np.asarray(a.get("value_int", a.get("value_ints")), np.int64)
            else:
                raise ConvertError(f"unsupported {_node_label(node)}: a sparse or string constant")
            continue
        if real_ins and all(n in consts for n in real_ins):
            if op not in _CONST_FOLD_OPS:
                raise ConvertError(f"unsupported {_node_label(node)} on constants (only "
                                   f"{', '.join(sorted(_CONST_FOLD_OPS))} are folded)")
            x = consts[ins[0]]
            if op == "Identity":
                y = x
            elif op == "Cast":
                y = x.astype(onnx.helper.tensor_dtype_to_np_dtype(a["to"]))
            elif op == "Reshape":
                y = x.reshape(consts[ins[1]])
            elif op == "DequantizeLinear":
                scale = consts[ins[1]]
                zp = consts[ins[2]] if len(ins) > 2 and ins[2] else None
                axis = int(a.get("axis", 1))
                y = _dq(x, scale, zp, axis % max(1, x.ndim))
                qconsts[node.output[0]] = (x, np.asarray(scale), np.asarray(zp) if zp is not None
                                           else np.zeros(np.asarray(scale).shape, x.dtype), axis % max(1, x.ndim))
            else:  # QuantizeLinear
                scale = consts[ins[1]]
                zp = consts[ins[2]] if len(ins) > 2 and ins[2] else None
                dtype = zp.dtype if zp is not None else np.uint8
                y = _q(x.astype(np.float64), scale, zp, int(a.get("axis", 1)) % max(1, x.ndim), dtype)
            consts[node.output[0]] = y
            continue
        # ---- after the global pooling: shape arithmetic for a final Reshape (dropped) ----
        if after_gap and (op in _SHAPE_OPS and all(n in consts or n in shape_only or (op == "Shape" and n in alias)
                                                   for n in real_ins)):
            shape_only.update(o for o in node.output if o)
            continue
        if after_gap and op == "Reshape" and len(real_ins) == 2 and real_ins[1] in shape_only:
            real_ins = real_ins[:1]
        # ---- the data chain ----
        if not real_ins or real_ins[0] not in alias and real_ins[0] not in pending_q:
            raise ConvertError(f"{_node_label(node)} does not continue the network's single chain "
                               f"(its input {real_ins[0] if real_ins else None!r} is not the current tensor)")
        for extra_in in real_ins[1:]:
            if extra_in in alias or (extra_in not in consts and op != "DequantizeLinear"):
                raise ConvertError(f"{_node_label(node)}: input {extra_in!r} is not a constant "
                                   "(only chains of single-input layers are supported)")
        out = node.output[0]
        used_outputs = [o for o in node.output[1:] if o]
        if used_outputs and any(_is_consumed(g, o) or o in {x.name for x in g.output} for o in used_outputs):
            raise ConvertError(f"{_node_label(node)}: its extra outputs {used_outputs} are used")

        if op == "QuantizeLinear":
            scale = np.asarray(const(ins[1], node, "scale"), np.float64)
            if len(ins) > 2 and ins[2]:
                zp = np.asarray(const(ins[2], node, "zero point"))
            else:
                odt = int(a.get("output_dtype", 0))
                zp = np.zeros((), onnx.helper.tensor_dtype_to_np_dtype(odt) if odt else np.uint8)
            if scale.size != 1:
                raise ConvertError(f"{_node_label(node)}: per-channel activation quantization is not supported")
            pending_q[out] = (float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]), zp.dtype)
            continue
        if op == "DequantizeLinear":
            if real_ins[0] not in pending_q:
                raise ConvertError(f"{_node_label(node)}: dequantizes {real_ins[0]!r}, which is not "
                                   "quantized by the QuantizeLinear right before it")
            scale, zp, dtype = pending_q.pop(real_ins[0])
            try:
                qmin = int(np.iinfo(dtype).min)
            except ValueError:           # float8 and the like: not representable, recalibrate
                qmin = None
            # int8 (s, z) is uint8 (s, z + 128): q_u8 = q_i8 + 128 gives the same real values
            if dtype == np.uint8:
                params = (scale, zp, True)
            elif dtype == np.int8:
                params = (scale, zp + 128, True)
            else:
                params = (scale, zp, False)
            if not ops:
                qdq.input_q = params[:2]
            elif ops[-1].op != "gap":
                qdq.act[len(ops) - 1] = params
                # A Q/DQ whose zero point is the type's minimum clamps at 0: it is a ReLU
                # (onnxruntime removes Relu nodes into it).  Make it explicit.
                if zp == qmin and ops[-1].op in ("conv", "batchnorm"):
                    ops.append(nf.Relu(name=(node.name or out) + ":implied_relu"))
                    qdq.act[len(ops) - 1] = params
            cur = out
            alias = {out}
            continue
        if after_gap:
            if op in ("Flatten", "Reshape", "Squeeze", "Identity", "Dropout"):
                alias.add(out)
                cur = out
                continue
            raise ConvertError(f"unsupported {_node_label(node)} after the global average pooling")
        if op in ("Identity", "Dropout"):
            if op == "Dropout" and len(ins) > 2 and ins[2] and bool(np.any(const(ins[2], node, "training_mode"))):
                raise ConvertError(f"{_node_label(node)}: training_mode=1")
            alias.add(out)
            cur = out
            continue
        if op == "Conv":
            wt = const(ins[1], node, "weight")
            if wt.ndim != 4:
                raise ConvertError(f"{_node_label(node)}: only 2-D convolutions (4-D weights) are supported")
            if int(a.get("group", 1)) != 1:
                raise ConvertError(f"{_node_label(node)}: group={a['group']} (only group=1 is supported)")
            if any(int(d) != 1 for d in a.get("dilations", [1, 1])):
                raise ConvertError(f"{_node_label(node)}: dilations {list(a['dilations'])} (only 1 is supported)")
            bias = const(ins[2], node, "bias") if len(ins) > 2 and ins[2] else None
            ks = tuple(a.get("kernel_shape", wt.shape[2:]))
            if tuple(ks) != tuple(wt.shape[2:]):
                raise ConvertError(f"{_node_label(node)}: kernel_shape {ks} differs from the weight's {wt.shape[2:]}")
            strides = tuple(int(s) for s in a.get("strides", [1, 1]))
            pads = _onnx_pads(node, a, chw_now(chw, ops), ks, strides)
            ops.append(nf.Conv(wt.astype(np.float32), bias, strides, pads, name=node.name or out))
            if ins[1] in qconsts:
                qdq.weights[len(ops) - 1] = qconsts[ins[1]][:3] + (qconsts[ins[1]][3],)
        elif op == "Relu":
            ops.append(nf.Relu(name=node.name or out))
        elif op == "BatchNormalization":
            if int(a.get("training_mode", 0)):
                raise ConvertError(f"{_node_label(node)}: training_mode=1")
            sc, b, m, v = (const(n, node, "parameter") for n in ins[1:5])
            ops.append(nf.BatchNorm(sc, b, m, v, float(a.get("epsilon", 1e-5)), name=node.name or out))
        elif op in ("MaxPool", "AveragePool"):
            if int(a.get("storage_order", 0)):
                raise ConvertError(f"{_node_label(node)}: storage_order=1")
            if any(int(d) != 1 for d in a.get("dilations", [1, 1])):
                raise ConvertError(f"{_node_label(node)}: dilations are not supported")
            ks = tuple(int(k) for k in a["kernel_shape"])
            if len(ks) != 2:
                raise ConvertError(f"{_node_label(node)}: only 2-D pooling is supported")
            strides = tuple(int(s) for s in a.get("strides", [1, 1]))
            _, h, w = chw_now(chw, ops)
            pads = list(_onnx_pads(node, a, (0, h, w), ks, strides))
            base = tuple(pads)
            if int(a.get("ceil_mode", 0)):
                pads[2] += nf.ceil_mode_extra(h, ks[0], strides[0], pads[0], pads[2])
                pads[3] += nf.ceil_mode_extra(w, ks[1], strides[1], pads[1], pads[3])
            if op == "MaxPool":
                ops.append(nf.MaxPool(ks, strides, tuple(pads), name=node.name or out))
            else:
                if tuple(pads) != base:
                    raise ConvertError(f"{_node_label(node)}: ceil_mode adds windows, whose divisor "
                                       "onnx shrinks; not representable")
                if any(pads) and not int(a.get("count_include_pad", 0)):
                    raise ConvertError(f"{_node_label(node)}: padding with count_include_pad=0 is not "
                                       "representable (nin divides by the full window)")
                ops.append(nf.AvgPool(ks, strides, tuple(pads), name=node.name or out))
        elif op == "GlobalAveragePool":
            ops.append(nf.GlobalAvgPool(name=node.name or out))
            after_gap = True
        elif op == "ReduceMean":
            axes = a.get("axes")
            if axes is None and len(ins) > 1 and ins[1]:
                axes = const(ins[1], node, "axes")
            axes = sorted(int(x) % 4 for x in np.asarray(axes).reshape(-1)) if axes is not None else None
            if axes != [2, 3]:
                raise ConvertError(f"unsupported {_node_label(node)}: only a mean over H and W "
                                   f"(axes 2, 3) is supported, got axes {axes}")
            ops.append(nf.GlobalAvgPool(name=node.name or out))
            after_gap = True
        else:
            raise ConvertError(f"unsupported {_node_label(node)}")
        alias = {out}
        cur = out
    outs = [o.name for o in g.output]
    if len(outs) != 1 or (outs[0] not in alias and outs[0] != cur):
        raise ConvertError(f"the graph's output {outs} is not the end of the chain ({cur!r})")
    if not ops or ops[-1].op != "gap":
        raise ConvertError("the network must end with global average pooling")
    return nf.Graph(chw, ops, name=g.name or ""), qdq


def _is_consumed(g, name) -> bool:
    return any(name in n.input for n in g.node)


def chw_now(chw, ops):
    if not ops:
        return tuple(chw)
    shapes = nf.output_shapes(nf.Graph(chw, ops))
    return shapes[-1] if len(shapes[-1]) == 3 else (shapes[-1][0], 1, 1)


def _onnx_pads(node, a, chw, ks, strides):
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("NOTSET", ""):
        p = [int(x) for x in a.get("pads", [0, 0, 0, 0])]
        if len(p) != 4:
            raise ConvertError(f"{_node_label(node)}: pads {p} are not 2-D")
        return (p[0], p[1], p[2], p[3])                # onnx: [top, left, bottom, right]
    if auto == "VALID":
        return (0, 0, 0, 0)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        res = []
        for n, k, s in zip(chw[1:], ks, strides):
            out = -(-n // s)
            total = max(0, (out - 1) * s + k - n)
            small, big = total // 2, total - total // 2
            res.append((small, big) if auto == "SAME_UPPER" else (big, small))
        return (res[0][0], res[1][0], res[0][1], res[1][1])
    raise ConvertError(f"{_node_label(node)}: auto_pad {auto!r}")


# =========================================================================== folding with index map


def fold_with_map(graph: nf.Graph, qdq: Optional[QDQInfo]) -> Tuple[nf.Graph, Optional[QDQInfo]]:
    """Fold BatchNorm (and a leading Normalize); carry QDQ parameters over to the folded op
    indices.

    A Q/DQ on a convolution output that a BatchNorm then changes is dropped (it describes
    the pre-BN tensor); one on the BatchNorm's output goes to the folded convolution.  QDQ
    weights of a convolution that a BatchNorm or the input normalization changes are dropped
    (they are requantized from the folded floats).
    """
    folded = nf.fold(graph)
    if not qdq:
        return folded, qdq
    new = QDQInfo(input_q=qdq.input_q)
    j = -1
    has_norm = bool(graph.ops) and graph.ops[0].op == "normalize"
    first_conv = True
    for i, op in enumerate(graph.ops):
        nxt = graph.ops[i + 1].op if i + 1 < len(graph.ops) else None
        if op.op == "normalize":
            continue
        if op.op != "batchnorm":
            j += 1
            if i in qdq.weights and nxt != "batchnorm" and not (has_norm and first_conv):
                new.weights[j] = qdq.weights[i]
            if i in qdq.act and nxt != "batchnorm":
                new.act[j] = qdq.act[i]
            if op.op == "conv":
                first_conv = False
        elif i in qdq.act:
            new.act[j] = qdq.act[i]
    assert j == len(folded.ops) - 1
    return folded, new


# =========================================================================== stages


@dataclass
class Stage:
    op: str                      # conv | maxpool | avgpool | gap
    src: object                  # the float op
    out_idx: int                 # index in the folded graph of the op whose output this is
    conv_idx: int = -1
    relu: bool = False


def lower(graph: nf.Graph) -> List[Stage]:
    """Group the folded float graph into nin layers (conv+ReLU fused)."""
    stages: List[Stage] = []
    nonneg = True                # the input (pixels / 255) is >= 0
    for i, op in enumerate(graph.ops):
        k = op.op
        if k == "conv":
            stages.append(Stage("conv", op, i, conv_idx=i))
            nonneg = False
        elif k == "relu":
            if stages and stages[-1].op == "conv" and stages[-1].out_idx == i - 1 and not stages[-1].relu:
                stages[-1].relu = True
                stages[-1].out_idx = i
                nonneg = True
            elif nonneg:
                continue         # a ReLU of a non-negative tensor is the identity
            else:
                raise ConvertError(f"ReLU {op.name!r} does not follow a convolution; nin fuses "
                                   "ReLU into the convolution before it")
        elif k in ("maxpool", "avgpool"):
            stages.append(Stage(k, op, i))
        elif k == "gap":
            if i != len(graph.ops) - 1:
                raise ConvertError("global average pooling must be the last layer")
            stages.append(Stage("gap", op, i))
        else:
            raise ConvertError(f"op {k} {getattr(op, 'name', '')!r} left after folding")
    if not stages or stages[-1].op != "gap":
        raise ConvertError("the network must end with global average pooling")
    return stages


# =========================================================================== calibration data


def runtime_png_decoder():
    """The ``nin`` package (bindings/python), for its ``load_png``: the runtime's own PNG
    decoder, so calibration sees the pixels nin decodes at inference (an installed package
    wins over this checkout's). Raises ConvertError when libnin.so cannot be loaded."""
    try:
        import nin
    except ImportError:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
        import nin
    try:
        nin.library_path()
    except nin.NinError as e:
        raise ConvertError(f"calibrating on PNG files uses the runtime's PNG decoder, which needs "
                           f"libnin.so (build it with `make lib`): {e}") from None
    return nin


def load_calibration(spec: str, count: int, input_shape: Sequence[int]):
    """-> (uint8 N x H x W x C prepared images, labels or None, description, dataset name)."""
    import nin_preprocess
    c, h, w = (int(a) for a in input_shape)
    labels = None
    if spec == "fashion-mnist":
        import fashion_mnist
        imgs, lbl = fashion_mnist.load_split("train")
        imgs, labels = imgs[:count], lbl[:count].astype(np.int64)
        desc = f"first {len(imgs)} Fashion-MNIST training images"
        dataset = "Fashion-MNIST"
        raw = imgs
    elif os.path.isdir(spec):
        names = sorted(n for n in os.listdir(spec) if n.lower().endswith(".png"))[:count]
        if not names:
            raise ConvertError(f"{spec}: no .png files for calibration")
        nin = runtime_png_decoder()
        raw = []
        for n in names:
            try:
                raw.append(nin.load_png(os.path.join(spec, n)))
            except nin.NinError as e:
                raise ConvertError(f"calibration image: {e}") from None
        desc = f"{len(raw)} PNG images from {os.path.basename(os.path.normpath(spec))}"
        dataset = ""
    elif os.path.isfile(spec):
        import fashion_mnist
        arr = fashion_mnist.load_idx(spec)
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4):
            raise ConvertError(f"{spec}: an IDX images file must be uint8 [N, H, W] or [N, H, W, C], "
                               f"got {arr.dtype} {arr.shape}")
        raw = arr[:count]
        desc = f"first {len(raw)} images of {os.path.basename(spec)}"
        dataset = ""
    else:
        raise ConvertError(f"--calibrate {spec!r}: not 'fashion-mnist', a directory or an IDX file")
    if isinstance(raw, np.ndarray):          # a uniform batch (N x H x W [x C])
        x = np.asarray(nin_preprocess.prepare_batch(raw, (c, h, w)), np.uint8)
    else:                                     # images of any size, one at a time
        x = np.empty((len(raw), h, w, c), np.uint8)
        for i, img in enumerate(raw):
            x[i] = np.asarray(nin_preprocess.prepare(np.asarray(img), (c, h, w)), np.uint8).reshape(h, w, c)
    return x, labels, desc, dataset


# =========================================================================== quantization


class _TopK:
    """Exact numpy-style (linear) percentiles of a stream, from its k largest values."""

    def __init__(self, k: int, largest: bool = True):
        self.k = max(1, int(k))
        self.largest = largest
        self.buf = np.empty(0, np.float32)
        self.count = 0

    def add(self, values: np.ndarray):
        v = np.asarray(values, np.float32).reshape(-1)
        self.count += v.size
        if not self.largest:
            v = -v
        v = np.concatenate([self.buf, v])
        if v.size > self.k:
            v = np.partition(v, v.size - self.k)[v.size - self.k:]
        self.buf = v

    def sorted_desc(self) -> np.ndarray:
        return np.sort(self.buf)[::-1]

    def percentile(self, q: float) -> float:
        """numpy.percentile(all_values, q) (or 100 - q from the other end)."""
        t = self.count
        p = (t - 1) * (q / 100.0)
        lo = int(math.floor(p))
        frac = p - lo
        top = self.sorted_desc()

        def at(asc):             # value at ascending position `asc`
            return float(top[t - 1 - asc])
        a_lo = at(lo)
        a_hi = at(min(lo + 1, t - 1))
        v = a_lo + (a_hi - a_lo) * frac
        return v if self.largest else -v

    def fraction_beyond(self, a: float) -> float:
        if self.count == 0:
            return 0.0
        b = a if self.largest else -a
        return float(np.count_nonzero(self.buf > b)) / self.count


def topk_for(count: int, q: float) -> int:
    p = (count - 1) * (q / 100.0)
    return int(count - math.floor(p)) + 1


@dataclass
class LayerReport:
    index: int
    op: str
    shape: Tuple[int, ...]
    scale: float
    zero_point: int
    source: str                  # "calibrated p99.999", "max", "qdq", "input", "pass"
    clip_fraction: float = float("nan")
    weight_source: str = ""


def calibrate(graph: nf.Graph, stages: List[Stage], x_u8: np.ndarray, percentile: float,
              batch: Optional[int] = None):
    """One fp32 pass over the calibration images: the range of every conv stage output and
    the final logits.  -> (ranges {stage: (lo, hi, clip_hi, clip_lo)}, logits)"""
    n = x_u8.shape[0]
    shapes = nf.output_shapes(graph)
    if batch is None:            # keep every op's output of one batch within ~256 MiB
        per_image = sum(int(np.prod(s)) for s in shapes)
        batch = max(1, min(64, (64 << 20) // max(1, per_image)))
    hi_trk, lo_trk = {}, {}
    for si, st in enumerate(stages):
        if st.op != "conv":
            continue
        per = int(np.prod(shapes[st.out_idx]))
        k = topk_for(n * per, percentile)
        hi_trk[si] = _TopK(k, True)
        if not st.relu:
            lo_trk[si] = _TopK(k, False)
    logits = []
    for a in range(0, n, batch):
        outs = nf.forward(graph, nf.pixels_to_float(x_u8[a:a + batch]))
        for si in hi_trk:
            o = outs[stages[si].out_idx]
            hi_trk[si].add(o)
            if si in lo_trk:
                lo_trk[si].add(o)
        logits.append(outs[-1])
    ranges = {}
    for si, trk in hi_trk.items():
        hi = trk.percentile(percentile)
        lo = lo_trk[si].percentile(percentile) if si in lo_trk else 0.0
        ranges[si] = (lo, hi, trk, lo_trk.get(si))
    return ranges, np.concatenate(logits, axis=0)


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
    """-> (list of nin_format.Layer, list of LayerReport).

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
    import nin_format as fmt
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


# =========================================================================== reporting


def run_int8(model, x_u8: np.ndarray, batch: Optional[int] = None, want_layers: bool = False):
    """nin_ref over a batch -> (logits [N, classes], per-layer saturation counts or None)."""
    import nin_ref
    if batch is None:
        batch = max(1, min(250, 500_000 // (x_u8.shape[1] * x_u8.shape[2])))
    logits = []
    sat = None
    for a in range(0, x_u8.shape[0], batch):
        r = nin_ref.run(model, x_u8[a:a + batch])
        logits.append(np.asarray(r["logits"], np.float32).reshape(min(batch, x_u8.shape[0] - a), -1))
        if want_layers and "layers" in r:
            outs = r["layers"]
            if sat is None:
                sat = [[0, 0] for _ in outs]
            for li, o in enumerate(outs):
                o = np.asarray(o)
                if o.dtype == np.uint8:
                    layer = model.layers[li]
                    top = (int(layer.output_max) or 255) if layer.op == "conv" else 255
                    sat[li][0] += int(np.count_nonzero(o == top))
                    sat[li][1] += o.size
    return np.concatenate(logits, axis=0), sat


def print_report(reports: List[LayerReport], sat, out=None):
    out = out or sys.stdout
    print(f"{'#':>3} {'layer':<10} {'output C x H x W':<17} {'scale':>11} {'zp':>4} "
          f"{'fp32 clipped':>12} {'int8 at max':>11}  scale from / weights", file=out)
    for r in reports:
        shape = " x ".join(str(v) for v in r.shape)
        clip = "" if math.isnan(r.clip_fraction) else f"{r.clip_fraction:.2e}"
        s255 = ""
        if sat is not None and r.index < len(sat) and sat[r.index][1] and r.op.startswith("conv"):
            s255 = f"{sat[r.index][0] / sat[r.index][1]:.2e}"
        how = r.source + (f" / {r.weight_source}" if r.weight_source else "")
        print(f"{r.index:>3} {r.op:<10} {shape:<17} {r.scale:>11.5g} {r.zero_point:>4} "
              f"{clip:>12} {s255:>11}  {how}", file=out)


# =========================================================================== main


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def quantization_description(activation_bits: int, weight_bits: int) -> str:
    """The META ``quantization`` value: the bit widths and the bounds they give."""
    return (f"activations {activation_bits}-bit (ReLU outputs in [0, {activation_max_for(activation_bits)}]); "
            f"weights {weight_bits}-bit (in [-{weight_max_for(weight_bits)}, {weight_max_for(weight_bits)}]"
            + ("; [-32, 32] on the 8-bit network input" if weight_bits < 8 else "") + ")")


def build_model(args, out=sys.stdout):
    import nin_format as fmt
    src = args.source
    ext = os.path.splitext(src)[1].lower()
    arch = None
    if args.arch:
        with open(args.arch) as f:
            arch = json.load(f)
    qdq = None
    if ext in (".pt", ".pth"):
        sd, embedded = load_torch_source(src)
        graph = graph_from_state_dict(sd, arch or embedded)
    elif ext == ".onnx":
        shape = [int(v) for v in args.input_shape.split(",")] if args.input_shape else None
        graph, qdq = graph_from_onnx(src, shape)
    else:
        raise ConvertError(f"{src}: unknown source type {ext!r} (expected .pt, .pth or .onnx)")
    c, h, w = graph.input_shape
    if c not in (1, 3):
        raise ConvertError(f"the model wants {c} input channels; nin supports 1 or 3")
    folded, qdq = fold_with_map(graph, qdq)
    if args.mean or args.std:
        mean = [float(v) for v in (args.mean or "0").split(",")]
        std = [float(v) for v in (args.std or "1").split(",")]
        folded = nf.fold_normalization(folded, mean, std)
        if qdq:
            first = next(i for i, op in enumerate(folded.ops) if op.op == "conv")
            qdq.weights.pop(first, None)
    stages = lower(folded)

    calib_x = calib_y = None
    calib_desc, dataset = "", ""
    if args.calibrate:
        calib_x, calib_y, calib_desc, dataset = load_calibration(args.calibrate, args.calibration_count,
                                                                 graph.input_shape)
    if args.percentile is not None:
        q = float(args.percentile)
    else:
        q = DEFAULT_PERCENTILE if calib_x is not None and calib_x.shape[0] >= SMALL_SET else 100.0
    qdesc = "max" if q >= 100 else f"p{q:g}"
    ranges, fp_logits = None, None
    if calib_x is not None:
        ranges, fp_logits = calibrate(folded, stages, calib_x, q)
    layers, reports = quantize(folded, stages, ranges, qdq, qdesc,
                               activation_bits=args.activation_bits, weight_bits=args.weight_bits)

    classes = layers[-1].out_channels
    if args.labels:
        with open(args.labels, encoding="utf-8") as f:
            labels = [ln.rstrip("\r\n") for ln in f if ln.strip()]
        if len(labels) != classes:
            raise ConvertError(f"{args.labels}: {len(labels)} labels for {classes} classes")
    elif classes == 10 and args.calibrate == "fashion-mnist":
        import fashion_mnist
        labels = list(fashion_mnist.LABELS)
    else:
        labels = [f"class_{i}" for i in range(classes)]

    name = args.name or graph.name or os.path.splitext(os.path.basename(src))[0]
    n_qdq = sum(1 for r in reports if r.source == "qdq")
    cal = []
    if calib_x is not None:
        cal.append(f"{calib_desc}; ReLU ranges at the {'maximum' if q >= 100 else f'{q:g}th percentile'}")
    if qdq:
        cal.append(f"{n_qdq} activation scale(s) and "
                   f"{sum(1 for r in reports if r.weight_source == 'qdq')} weight set(s) taken from the QDQ model")
    meta = {"name": name, "source": os.path.basename(src), "converter": CONVERTER_VERSION,
            "calibration": "; ".join(cal) if cal else "none"}
    if args.activation_bits != 8 or args.weight_bits != 8:
        meta["quantization"] = quantization_description(args.activation_bits, args.weight_bits)
    if dataset:
        meta["dataset"] = dataset
    for kv in args.meta or []:
        if "=" not in kv:
            raise ConvertError(f"--meta {kv!r}: expected key=value")
        k, v = kv.split("=", 1)
        meta[k] = v
    model = fmt.Model(input_shape=tuple(graph.input_shape), layers=layers, labels=labels,
                      input_scale=1.0 / 255.0, input_zero_point=0, metadata=meta)
    fmt.validate(model)
    return model, folded, reports, (calib_x, calib_y, fp_logits)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="nin-convert", description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring of tools/nin_convert.py and "
                                        "docs/QUANTIZATION.md for the details.")
    ap.add_argument("source", help="PyTorch state_dict (.pt/.pth) or ONNX model (.onnx)")
    ap.add_argument("-o", "--output", required=True, help="the .nin file to write")
    ap.add_argument("--arch", help="topology JSON for a state_dict (default: the seed's 227 NiN)")
    ap.add_argument("--calibrate", help="fashion-mnist, a directory of PNGs, or an IDX images file")
    ap.add_argument("--calibration-count", type=int, default=DEFAULT_CALIBRATION_COUNT,
                    help=f"images used for calibration (default {DEFAULT_CALIBRATION_COUNT})")
    ap.add_argument("--percentile", type=float, default=None,
                    help=f"activation range percentile (default {DEFAULT_PERCENTILE}; "
                         f"the maximum below {SMALL_SET} images)")
    ap.add_argument("--labels", help="class labels, one per line")
    ap.add_argument("--name", help="model name for the metadata")
    ap.add_argument("--meta", nargs="+", action="extend", default=[], metavar="K=V",
                    help="extra metadata pairs (FORMAT.md keys: description, dataset, ...)")
    ap.add_argument("--input-shape", help="C,H,W for an ONNX model whose input shape is symbolic")
    ap.add_argument("--mean", help="per-channel input mean (on [0,1] pixels) to fold into the first conv")
    ap.add_argument("--std", help="per-channel input std to fold into the first conv")
    ap.add_argument("--activation-bits", type=int, choices=(7, 8), default=8, metavar="N",
                    help="bits of every ReLU convolution's output, 7 or 8 (default 8): scale "
                         "a / (2^N - 1), output_max 2^N - 1; a convolution without ReLU keeps 8")
    ap.add_argument("--weight-bits", type=int, choices=(7, 8), default=8, metavar="N",
                    help="bits of the weights, 7 or 8 (default 8): per-channel scale "
                         "max|w| / (2^(N-1) - 1), weight_max 2^(N-1) - 1 (63 for 7 bits)")
    ap.add_argument("--quiet", action="store_true", help="no table, no agreement check")
    args = ap.parse_args(argv)
    import nin_format as fmt
    try:
        model, folded, reports, (cx, cy, fp_logits) = build_model(args)
    except (ConvertError, nf.GraphError, fmt.NinFormatError, FileNotFoundError) as e:
        print(f"nin-convert: error: {e}", file=sys.stderr)
        return 1
    data = fmt.to_bytes(model)
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output}: {len(model.layers)} layers, {len(model.labels)} classes, "
          f"{len(data)} bytes")
    if args.quiet:
        return 0
    sat = None
    if cx is not None:
        q_logits, sat = run_int8(model, cx, want_layers=True)
        print_report(reports, sat)
        agree = float(np.mean(np.argmax(q_logits, 1) == np.argmax(fp_logits, 1)))
        line = f"top-1 agreement fp32 vs int8 on {cx.shape[0]} calibration images: {agree * 100:.2f}%"
        if cy is not None:
            line += (f" (accuracy fp32 {np.mean(np.argmax(fp_logits, 1) == cy) * 100:.2f}%, "
                     f"int8 {np.mean(np.argmax(q_logits, 1) == cy) * 100:.2f}%)")
        print(line)
    else:
        print_report(reports, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
