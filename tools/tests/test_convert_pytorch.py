"""Tests of nin_tools.convert.pytorch: the seed's state_dict layout (with and without batch
norm) and its topology, from numpy arrays (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from nin_tools import float_graph as nf
from nin_tools.convert import ConvertError, pytorch


def _seed_state_dict(rng, arch, bn):
    sd = {}
    c = arch["input"][0]
    for i, L in enumerate(arch["layers"]):
        if L["type"] != "nin_block":
            continue
        o, k = L["out"], L["kernel"]
        step = 3 if bn else 2
        for j in range(3):
            ci = j * step
            shape = (o, c, k, k) if j == 0 else (o, o, 1, 1)
            sd[f"network.{i}.{ci}.weight"] = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape).astype(np.float32)
            sd[f"network.{i}.{ci}.bias"] = rng.normal(0, 0.05, o).astype(np.float32)
            if bn:
                p = f"network.{i}.{ci + 1}"
                sd[p + ".weight"] = rng.uniform(0.5, 1.5, o).astype(np.float32)
                sd[p + ".bias"] = rng.normal(0, 0.1, o).astype(np.float32)
                sd[p + ".running_mean"] = rng.normal(0, 0.2, o).astype(np.float32)
                sd[p + ".running_var"] = rng.uniform(0.5, 2, o).astype(np.float32)
                sd[p + ".num_batches_tracked"] = np.array(10)
        c = o
    return sd


SMALL_ARCH = {"name": "t", "input": [1, 12, 12], "layers": [
    {"type": "nin_block", "out": 6, "kernel": 3, "stride": 1, "padding": 1},
    {"type": "dropout"},
    {"type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True},
    {"type": "nin_block", "out": 3, "kernel": 3, "stride": 1, "padding": 1},
    {"type": "gap"}]}


@pytest.mark.parametrize("bn", [True, False])
def test_state_dict_layout(bn):
    rng = np.random.default_rng(12)
    sd = _seed_state_dict(rng, SMALL_ARCH, bn)
    g = pytorch.graph_from_state_dict(sd, SMALL_ARCH)
    kinds = [op.op for op in g.ops]
    assert kinds.count("conv") == 6 and kinds.count("batchnorm") == (6 if bn else 0)
    assert g.ops[[op.op for op in g.ops].index("maxpool")].pads == (0, 0, 1, 1)   # 12 -> 6 with ceil
    assert nf.output_shapes(g)[-1] == (3,)
    bad = dict(sd)
    bad["network.3.0.weight"] = bad["network.3.0.weight"][:, :, :2, :2]
    with pytest.raises(ConvertError, match=r"network\.3\.0\.weight"):
        pytorch.graph_from_state_dict(bad, SMALL_ARCH)
    missing = dict(sd)
    del missing[f"network.0.{3 if bn else 2}.weight"]
    with pytest.raises(ConvertError, match=f"network.0.{3 if bn else 2}.weight"):
        pytorch.graph_from_state_dict(missing, SMALL_ARCH)
    extra = dict(sd)
    extra["network.5.0.weight"] = np.zeros(3, np.float32)
    with pytest.raises(ConvertError, match=r"network\.5\.0\.weight"):
        pytorch.graph_from_state_dict(extra, SMALL_ARCH)


def test_classic_topology_is_checked_against_the_weights():
    arch = pytorch.classic_arch({"network.0.0.weight": np.zeros((96, 1, 11, 11), np.float32),
                            "network.0.4.weight": 0, "network.3.0.weight": np.zeros((256, 96, 5, 5)),
                            "network.3.4.weight": 0, "network.6.0.weight": np.zeros((384, 256, 3, 3)),
                            "network.6.4.weight": 0, "network.9.0.weight": np.zeros((10, 384, 3, 3)),
                            "network.9.4.weight": 0})
    assert arch["input"] == [1, 227, 227] and len(arch["layers"]) == 11
    sd = {"network.0.0.weight": np.zeros((96, 1, 7, 7), np.float32)}
    with pytest.raises(ConvertError, match=r"network\.0\.0\.weight.*11x11"):
        pytorch.graph_from_state_dict(sd, None)
