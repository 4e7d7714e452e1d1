"""ONNX importer: a chain of supported nodes -> float graph, and the QDQ parameters it holds.

``.onnx``: Conv (group 1, dilation 1), Relu, MaxPool (ceil_mode included), AveragePool
(padding only with count_include_pad=1), GlobalAveragePool, ReduceMean over H and W,
BatchNormalization (folded), Dropout / Identity (dropped), Flatten / Reshape / Squeeze after
the global pooling (dropped).  Weights come from initializers and Constant nodes, with
Identity / Cast / Reshape / QuantizeLinear / DequantizeLinear on them folded; nothing else
is folded.  Any other node is refused, naming it.

QDQ models (``onnxruntime.quantization``, QuantizeLinear/DequantizeLinear pairs): the float
graph is the dequantized one, and the quantization parameters are collected in a
:class:`QDQInfo`, which :mod:`nin_tools.convert.quantization` takes as they are where they map
onto nin's contract (docs/QUANTIZATION.md):

* weights: an int8 DequantizeLinear initializer with zero point 0, values in [-127, 127]
  (within ``weight_max`` when the weights are narrower) and one scale per tensor or per output
  channel is used as is (int8 values and scales); anything else (a -128, a non-zero zero
  point, uint8 weights) is dequantized and requantized per output channel;
* activations: the (scale, zero point) of a Q/DQ pair on a convolution's output is used as
  is when it fits: uint8 as it is, int8 as uint8 with the zero point + 128 (the same real
  values); zero point 0 (in uint8 terms) after a ReLU, any without one.  A pair whose zero
  point is its type's minimum (uint8 0, int8 -128) clamps at 0, so it implies a ReLU
  (onnxruntime removes Relu nodes into the Q/DQ that way).  Other types (16-bit) and
  tensors without a Q/DQ pair are calibrated again from ``--calibrate`` images;
* the network input is always the u8 pixel at scale 1/255 (exact), whatever the model's
  input Q/DQ says; biases are requantized at nin's bias scale from their dequantized values.

The onnx package is imported only when a model is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from nin_tools import float_graph as nf
from nin_tools.convert.errors import ConvertError

__all__ = ["QDQInfo", "graph_from_onnx", "chw_now"]


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
    """(C, H, W) of the tensor after ``ops`` on an input of ``chw``."""
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
