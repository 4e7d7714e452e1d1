"""PyTorch importer: a ``state_dict`` of the seed's ``NiN`` module -> float graph.

``.pt`` / ``.pth``: a PyTorch ``state_dict`` (or a dict holding one under ``state_dict``,
and optionally the topology under ``arch``) of the seed's ``NiN`` module: keys
``network.<i>.<j>.<param>`` where ``i`` indexes the ``nn.Sequential`` (nin_block, Dropout,
MaxPool, ..., AdaptiveAvgPool2d) and ``j`` the module inside a block: conv(0) relu(1)
conv(2) relu(3) conv(4) relu(5), or with BatchNorm conv(0) bn(1) relu(2) conv(3) bn(4)
relu(5) conv(6) bn(7) relu(8).  What a state_dict does not hold (strides, paddings,
pooling) comes from ``--arch`` (the JSON written by ``tools/nin_train.py``: entry ``i`` of
``layers`` is ``network.<i>``); without it the classic 227x227 topology of the seed is
assumed and its kernel sizes are checked against the weights.  torch is imported only by
:func:`load_torch_source`; :func:`graph_from_state_dict` takes numpy arrays.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from nin_tools import float_graph as nf
from nin_tools.convert.errors import ConvertError

__all__ = ["classic_arch", "load_torch_source", "graph_from_state_dict", "CLASSIC_KERNELS"]


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
