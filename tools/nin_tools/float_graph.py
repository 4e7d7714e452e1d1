"""Float32 "source graph" of a NiN-family network, and its numpy forward pass.

This is the converter's view of a trained model before quantization: a straight chain of
ops, each with float32 parameters, in the source framework's conventions (convolution
weights OIHW).  The importers in ``nin_tools.convert`` (PyTorch state_dict, ONNX) build a
:class:`Graph`; :func:`fold` folds batch normalization and input normalization into the
convolutions (``docs/QUANTIZATION.md``, "Calibration"); :func:`forward` runs it in float32
over a batch and returns every op's output, which is what calibration reads.

numpy only.  Tensors inside the forward pass are NHWC float32.

Ops (all dataclasses, ``op`` names the kind):

- ``Conv``       weight float32 [O, I, KH, KW], bias float32 [O], stride (sh, sw),
                 pads (top, left, bottom, right); zero padding.
- ``BatchNorm``  gamma, beta, mean, var, eps: ``(x - mean) / sqrt(var + eps) * gamma + beta``.
- ``Normalize``  per-channel ``(x - mean) / std`` of the network input.
- ``Relu``
- ``MaxPool``    kernel, stride, pads; padded positions never win (``-inf``).
                 PyTorch / ONNX ``ceil_mode`` is expressed as extra bottom/right padding,
                 see :func:`ceil_mode_extra`.
- ``AvgPool``    kernel, stride, pads; padded positions count as 0 and the divisor is always
                 ``KH * KW`` (PyTorch ``count_include_pad=True``), as in the integer contract.
- ``GlobalAvgPool``  mean over H and W; output [N, C] (the logits).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import List, Sequence, Tuple

import numpy as np

from nin_tools import model_format

__all__ = [
    "Conv", "BatchNorm", "Normalize", "Relu", "MaxPool", "AvgPool", "GlobalAvgPool",
    "Graph", "GraphError", "ceil_mode_extra", "pool_output_size", "fold_batchnorm",
    "fold_normalization", "fold", "forward", "forward_logits", "output_shapes",
    "conv_macs", "parameter_count", "pixels_to_float",
]


class GraphError(ValueError):
    """A float graph that is malformed or cannot be folded."""


def _pair(v) -> Tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    t = tuple(int(a) for a in v)
    if len(t) != 2:
        raise GraphError(f"expected an int or a pair, got {v!r}")
    return t


def _pads4(v) -> Tuple[int, int, int, int]:
    """Pads as (top, left, bottom, right) from an int, (ph, pw) or a 4-tuple."""
    if isinstance(v, (int, np.integer)):
        return (int(v),) * 4
    t = tuple(int(a) for a in v)
    if len(t) == 2:
        return (t[0], t[1], t[0], t[1])
    if len(t) == 4:
        return t
    raise GraphError(f"expected pads as int, (ph, pw) or (top, left, bottom, right), got {v!r}")


@dataclass
class Conv:
    """Convolution: weight OIHW, bias, stride, zero padding (top, left, bottom, right)."""
    weight: np.ndarray                      # float32 [O, I, KH, KW]
    bias: np.ndarray                        # float32 [O]
    stride: Tuple[int, int] = (1, 1)
    pads: Tuple[int, int, int, int] = (0, 0, 0, 0)
    name: str = ""
    op: str = field(default="conv", init=False)

    def __post_init__(self):
        self.weight = np.asarray(self.weight, dtype=np.float32)
        if self.weight.ndim != 4:
            raise GraphError(f"conv {self.name!r}: weight must be 4-D OIHW, got {self.weight.shape}")
        if self.bias is None:
            self.bias = np.zeros(self.weight.shape[0], np.float32)
        self.bias = np.asarray(self.bias, dtype=np.float32).reshape(-1)
        if self.bias.shape[0] != self.weight.shape[0]:
            raise GraphError(f"conv {self.name!r}: bias has {self.bias.shape[0]} values for "
                             f"{self.weight.shape[0]} output channels")
        self.stride = _pair(self.stride)
        self.pads = _pads4(self.pads)

    @property
    def in_channels(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    @property
    def kernel(self) -> Tuple[int, int]:
        return (int(self.weight.shape[2]), int(self.weight.shape[3]))


@dataclass
class BatchNorm:
    """Batch normalization in inference form: ``(x - mean) / sqrt(var + eps) * gamma + beta``."""
    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float = 1e-5
    name: str = ""
    op: str = field(default="batchnorm", init=False)

    def __post_init__(self):
        for k in ("gamma", "beta", "mean", "var"):
            setattr(self, k, np.asarray(getattr(self, k), dtype=np.float32).reshape(-1))
        n = self.gamma.shape[0]
        if any(getattr(self, k).shape[0] != n for k in ("beta", "mean", "var")):
            raise GraphError(f"batchnorm {self.name!r}: parameter lengths differ")


@dataclass
class Normalize:
    """Per-channel ``(x - mean) / std`` of the network input."""
    mean: np.ndarray
    std: np.ndarray
    name: str = "normalize"
    op: str = field(default="normalize", init=False)

    def __post_init__(self):
        self.mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(self.std, dtype=np.float32).reshape(-1)
        if np.any(self.std == 0):
            raise GraphError("normalize: std must be non-zero")


@dataclass
class Relu:
    """``max(x, 0)``."""
    name: str = ""
    op: str = field(default="relu", init=False)


@dataclass
class MaxPool:
    """Max pooling; padded positions never win."""
    kernel: Tuple[int, int]
    stride: Tuple[int, int]
    pads: Tuple[int, int, int, int] = (0, 0, 0, 0)
    name: str = ""
    op: str = field(default="maxpool", init=False)

    def __post_init__(self):
        self.kernel, self.stride, self.pads = _pair(self.kernel), _pair(self.stride), _pads4(self.pads)


@dataclass
class AvgPool:
    """Average pooling over the whole window (padding counts as 0, divisor ``KH * KW``)."""
    kernel: Tuple[int, int]
    stride: Tuple[int, int]
    pads: Tuple[int, int, int, int] = (0, 0, 0, 0)
    name: str = ""
    op: str = field(default="avgpool", init=False)

    def __post_init__(self):
        self.kernel, self.stride, self.pads = _pair(self.kernel), _pair(self.stride), _pads4(self.pads)


@dataclass
class GlobalAvgPool:
    """Mean over H and W: the logits."""
    name: str = ""
    op: str = field(default="gap", init=False)


@dataclass
class Graph:
    """A straight chain of ops on an input of ``(C, H, W)``."""
    input_shape: Tuple[int, int, int]        # (C, H, W)
    ops: List[object]
    name: str = ""

    def __post_init__(self):
        self.input_shape = tuple(int(a) for a in self.input_shape)
        if len(self.input_shape) != 3:
            raise GraphError(f"input shape must be (C, H, W), got {self.input_shape}")


# --------------------------------------------------------------------------- shapes


def pool_output_size(n: int, k: int, s: int, pa: int, pb: int) -> int:
    """The contract's output size (model_format.output_size), 0 when the window does not fit."""
    return model_format.output_size(n, k, s, pa, pb) or 0


def ceil_mode_extra(n: int, k: int, s: int, pa: int, pb: int) -> int:
    """Extra bottom/right padding that turns a ``ceil_mode`` pooling into a floor one.

    PyTorch (and ONNX) ``ceil_mode``: ``out = ceil((n + pa + pb - k) / s) + 1``, minus one when
    the last window would start at or past ``n + pa`` (in the right padding).  Padding the
    end by ``(out - 1) * s + k - (n + pa + pb)`` gives the same windows with the floor
    formula; the extra positions are ignored by max pooling.  The result keeps
    ``pb + extra < k``.
    """
    span = n + pa + pb - k
    if span < 0:
        raise GraphError(f"pool window {k} larger than padded input {n + pa + pb}")
    out = -(-span // s) + 1
    if (out - 1) * s >= n + pa:
        out -= 1
    return max(0, (out - 1) * s + k - (n + pa + pb))


def _conv_out_hw(h, w, kernel, stride, pads):
    kh, kw = kernel
    sh, sw = stride
    pt, pl, pb, pr = pads
    oh = pool_output_size(h, kh, sh, pt, pb)
    ow = pool_output_size(w, kw, sw, pl, pr)
    if oh < 1 or ow < 1:
        raise GraphError(f"window {kernel} does not fit the {h}x{w} input with pads {pads}")
    return oh, ow


def output_shapes(graph: Graph) -> List[Tuple[int, ...]]:
    """(C, H, W) after each op ((C,) after global average pooling)."""
    c, h, w = graph.input_shape
    shapes = []
    for op in graph.ops:
        kind = op.op
        if kind == "conv":
            if op.in_channels != c:
                raise GraphError(f"conv {op.name!r} expects {op.in_channels} input channels, gets {c}")
            h, w = _conv_out_hw(h, w, op.kernel, op.stride, op.pads)
            c = op.out_channels
        elif kind in ("maxpool", "avgpool"):
            h, w = _conv_out_hw(h, w, op.kernel, op.stride, op.pads)
        elif kind == "batchnorm":
            if op.gamma.shape[0] != c:
                raise GraphError(f"batchnorm {op.name!r} has {op.gamma.shape[0]} channels, input has {c}")
        elif kind == "normalize":
            if op.mean.shape[0] not in (1, c) or op.std.shape[0] not in (1, c):
                raise GraphError(f"normalize: mean/std need 1 or {c} values")
        elif kind == "gap":
            shapes.append((c,))
            h = w = 1
            continue
        elif kind != "relu":
            raise GraphError(f"unknown op {kind!r}")
        shapes.append((c, h, w))
    return shapes


def conv_macs(graph: Graph) -> int:
    """Multiply-accumulates of all convolutions for one image."""
    total = 0
    for op, shape in zip(graph.ops, output_shapes(graph)):
        if op.op == "conv":
            o, i, kh, kw = op.weight.shape
            total += shape[1] * shape[2] * o * i * kh * kw
    return int(total)


def parameter_count(graph: Graph) -> int:
    """Trainable parameters: every convolution's weights and bias, every batch norm's gamma and beta."""
    n = 0
    for op in graph.ops:
        if op.op == "conv":
            n += op.weight.size + op.bias.size
        elif op.op == "batchnorm":
            n += op.gamma.size + op.beta.size
    return int(n)


# --------------------------------------------------------------------------- folding


def fold_batchnorm(graph: Graph) -> Graph:
    """Fold every BatchNorm into the convolution right before it.

    ``w' = w * g / sqrt(var + eps)``, ``b' = (b - mean) * g / sqrt(var + eps) + beta``
    (computed in float64, stored float32).  A BatchNorm not directly after a Conv is refused.
    """
    ops: List[object] = []
    for op in graph.ops:
        if op.op != "batchnorm":
            ops.append(op)
            continue
        if not ops or ops[-1].op != "conv":
            prev = ops[-1].op if ops else "the input"
            raise GraphError(f"batchnorm {op.name!r} follows {prev}, not a convolution: cannot fold it")
        conv = ops[-1]
        if op.gamma.shape[0] != conv.out_channels:
            raise GraphError(f"batchnorm {op.name!r} has {op.gamma.shape[0]} channels, "
                             f"conv {conv.name!r} has {conv.out_channels}")
        k = op.gamma.astype(np.float64) / np.sqrt(op.var.astype(np.float64) + float(op.eps))
        w = conv.weight.astype(np.float64) * k[:, None, None, None]
        b = (conv.bias.astype(np.float64) - op.mean) * k + op.beta
        ops[-1] = replace(conv, weight=w.astype(np.float32), bias=b.astype(np.float32))
    return Graph(graph.input_shape, ops, graph.name)


def fold_normalization(graph: Graph, mean: Sequence[float], std: Sequence[float]) -> Graph:
    """Fold input normalization ``(x - mean_c) / std_c`` into the first convolution.

    ``w'[o][..][i] = w[o][..][i] / std_i``, ``b'[o] = b[o] - sum w[o][..][i] * mean_i / std_i``.
    Exact only when the first convolution has no padding; warns otherwise.
    """
    c = graph.input_shape[0]
    mean = np.broadcast_to(np.asarray(mean, np.float64).reshape(-1), (c,))
    std = np.broadcast_to(np.asarray(std, np.float64).reshape(-1), (c,))
    if np.any(std == 0):
        raise GraphError("normalize: std must be non-zero")
    ops = list(graph.ops)
    if not ops or ops[0].op != "conv":
        raise GraphError("input normalization must be followed directly by a convolution")
    conv = ops[0]
    if any(conv.pads):
        warnings.warn(f"first convolution {conv.name!r} is padded {conv.pads}: folding mean/std "
                      "into it is not exact at the borders (padding in normalized space is "
                      "-mean/std, not 0)", stacklevel=2)
    w = conv.weight.astype(np.float64) / std[None, :, None, None]
    b = conv.bias.astype(np.float64) - (w * mean[None, :, None, None]).sum(axis=(1, 2, 3))
    ops[0] = replace(conv, weight=w.astype(np.float32), bias=b.astype(np.float32))
    return Graph(graph.input_shape, ops, graph.name)


def fold(graph: Graph) -> Graph:
    """Fold BatchNorm ops and a leading Normalize op: the result has only
    conv, relu, maxpool, avgpool and gap."""
    g = fold_batchnorm(graph)
    ops = list(g.ops)
    norms = [i for i, op in enumerate(ops) if op.op == "normalize"]
    if norms:
        if norms != [0]:
            raise GraphError("a Normalize op is allowed only as the first op")
        norm = ops[0]
        g = fold_normalization(Graph(g.input_shape, ops[1:], g.name), norm.mean, norm.std)
    return g


# --------------------------------------------------------------------------- forward


def pixels_to_float(x_u8: np.ndarray) -> np.ndarray:
    """The float tensor a model trained on ``pixel / 255`` sees (float32)."""
    return np.asarray(x_u8, dtype=np.float32) / np.float32(255.0)


_IM2COL_LIMIT = 1 << 24   # float32 elements of one im2col chunk (64 MiB)


def _conv2d_nhwc(x: np.ndarray, op: Conv) -> np.ndarray:
    n, h, w, c = x.shape
    o, i, kh, kw = op.weight.shape
    if i != c:
        raise GraphError(f"conv {op.name!r} expects {i} input channels, gets {c}")
    sh, sw = op.stride
    pt, pl, pb, pr = op.pads
    oh, ow = _conv_out_hw(h, w, (kh, kw), (sh, sw), op.pads)
    wmat = np.ascontiguousarray(op.weight.transpose(0, 2, 3, 1).reshape(o, kh * kw * i).T)
    if kh == kw == 1 and sh == sw == 1 and not any(op.pads):
        out = x.reshape(-1, c) @ wmat
        out += op.bias
        return out.reshape(n, h, w, o)
    xp = x
    if any(op.pads):
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    xp = np.ascontiguousarray(xp)
    s0, s1, s2, s3 = xp.strides
    patches = np.lib.stride_tricks.as_strided(
        xp, shape=(n, oh, ow, kh, kw, c), strides=(s0, s1 * sh, s2 * sw, s1, s2, s3),
        writeable=False)
    out = np.empty((n, oh, ow, o), np.float32)
    per_image = oh * ow * kh * kw * c
    step = max(1, _IM2COL_LIMIT // max(1, per_image))
    for a in range(0, n, step):
        b = min(n, a + step)
        cols = patches[a:b].reshape((b - a) * oh * ow, kh * kw * c)
        r = cols @ wmat
        r += op.bias
        out[a:b] = r.reshape(b - a, oh, ow, o)
    return out


def _pool_nhwc(x: np.ndarray, op, kind: str) -> np.ndarray:
    n, h, w, c = x.shape
    kh, kw = op.kernel
    sh, sw = op.stride
    pt, pl, pb, pr = op.pads
    oh, ow = _conv_out_hw(h, w, op.kernel, op.stride, op.pads)
    fill = -np.inf if kind == "max" else 0.0
    xp = x
    if any(op.pads):
        xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    acc = None
    for ky in range(kh):
        for kx in range(kw):
            win = xp[:, ky:ky + (oh - 1) * sh + 1:sh, kx:kx + (ow - 1) * sw + 1:sw, :]
            if acc is None:
                acc = win.astype(np.float32, copy=True)
            elif kind == "max":
                np.maximum(acc, win, out=acc)
            else:
                acc += win
    if kind == "avg":
        acc /= np.float32(kh * kw)
    elif not np.all(np.isfinite(acc)):
        raise GraphError(f"maxpool {op.name!r}: a window holds only padding")
    return acc


def forward(graph: Graph, x: np.ndarray, layout: str = "NHWC", keep: str = "all"):
    """Run the float graph over a batch.

    ``x``: float32 [N, H, W, C] (``layout="NHWC"``) or [N, C, H, W] (``"NCHW"``), or a single
    image without N.  A uint8 input is taken as pixels and divided by 255.
    Returns the list of every op's output (NHWC, or [N, C] after global average pooling)
    when ``keep="all"``, else only the last output.
    """
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = pixels_to_float(x)
    x = x.astype(np.float32, copy=False)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise GraphError(f"expected a 4-D batch, got shape {x.shape}")
    if layout.upper() == "NCHW":
        x = x.transpose(0, 2, 3, 1)
    elif layout.upper() != "NHWC":
        raise GraphError(f"layout must be NHWC or NCHW, not {layout!r}")
    c, h, w = graph.input_shape
    if x.shape[1:] != (h, w, c):
        raise GraphError(f"input is {x.shape[1:]} (HWC), the graph wants {(h, w, c)}")
    outs = []
    for op in graph.ops:
        kind = op.op
        if kind == "conv":
            x = _conv2d_nhwc(x, op)
        elif kind == "relu":
            x = np.maximum(x, np.float32(0))
        elif kind == "maxpool":
            x = _pool_nhwc(x, op, "max")
        elif kind == "avgpool":
            x = _pool_nhwc(x, op, "avg")
        elif kind == "gap":
            if x.ndim == 4:
                x = x.mean(axis=(1, 2), dtype=np.float64).astype(np.float32)
        elif kind == "batchnorm":
            k = (op.gamma.astype(np.float64) / np.sqrt(op.var.astype(np.float64) + op.eps))
            x = ((x - op.mean) * k.astype(np.float32) + op.beta).astype(np.float32)
        elif kind == "normalize":
            x = ((x - op.mean) / op.std).astype(np.float32)
        else:
            raise GraphError(f"unknown op {kind!r}")
        if keep == "all":
            outs.append(x)
    return outs if keep == "all" else x


def forward_logits(graph: Graph, x: np.ndarray, layout: str = "NHWC", batch: int = 256) -> np.ndarray:
    """The last output for a large batch, computed ``batch`` images at a time."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    parts = [forward(graph, x[a:a + batch], layout, keep="last") for a in range(0, x.shape[0], batch)]
    return np.concatenate(parts, axis=0)
