"""From the float graph to nin's layers: BatchNorm folding that keeps the QDQ parameters
attached to the right ops (:func:`fold_with_map`), and the grouping of the folded ops into
nin layers, convolution and ReLU fused (:func:`lower`, :class:`Stage`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from nin_tools import float_graph as nf
from nin_tools.convert.errors import ConvertError
from nin_tools.convert.onnx_import import QDQInfo

__all__ = ["fold_with_map", "Stage", "lower"]


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


@dataclass
class Stage:
    """One nin layer to be: the float op it comes from and where its output is in the graph."""
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
