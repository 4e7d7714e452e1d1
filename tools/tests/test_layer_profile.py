"""Tests of tools/nin_tools/layer_profile.py, the per-layer table of nin beside OpenVINO: nin's
`--profile` report parsed (MACs checked against the model file's own shapes), OpenVINO's nodes
matched to nin's layers by name, and the table's shares and ratios.

Run: python -m pytest tools/tests/test_layer_profile.py
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from nin_tools import layer_profile as LP
from nin_tools import model_format as F

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / ".build" / "release" / "nin-infer"
MODEL = REPO / "models" / "fashion_classic.nin"


def _profile(isa: str) -> str:
    if not CLI.is_file():
        pytest.skip(f"{CLI} not built (make cli)")
    image = sorted((REPO / "examples" / "images").glob("*.png"))[0]
    r = subprocess.run([str(CLI), "--profile", "3", "--model", str(MODEL), str(image)],
                       capture_output=True, text=True, env={**os.environ, "NIN_ISA": isa}, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_nin_profile_parsed_with_the_model_files_macs():
    nin = LP.parse_nin_profile(_profile(""))
    model = F.read(str(MODEL))
    shapes = model.output_shapes()
    assert [l["index"] for l in nin["layers"]] == list(range(len(model.layers)))
    assert nin["threads"] == 1
    for layer, L, (c, h, w) in zip(nin["layers"], model.layers, shapes):
        assert layer["kind"] == L.op
        expected = c * h * w * int(L.kernel[0]) * int(L.kernel[1]) * int(L.in_channels) if L.op == "conv" else 0
        if layer["ms"] >= 0.05:  # printed to 4 decimals: exact enough on the large layers
            assert layer["macs"] == pytest.approx(expected, rel=5e-3), layer
        elif expected == 0:
            assert layer["macs"] == 0
    if nin["family"] not in ("portable", "generic"):
        assert nin["peak_gmacs"] > 0 and nin["instruction"]


def test_family_without_a_peak_loop_has_no_shares():
    nin = LP.parse_nin_profile(_profile("portable"))
    assert nin["family"] == "portable" and nin["peak_gmacs"] is None
    lines = LP.side_by_side_lines(nin, None)
    assert "no peak loop" in lines[0] and "%" not in "".join(lines[2:])


def test_openvino_nodes_match_nin_layers_by_name():
    nodes = [{"name": "input_QuantizeLinear", "exec_type": "jit", "ms": 0.25},
             {"name": "l4_relu/WithoutBiases", "exec_type": "brgconv_avx512_amx_I8", "ms": 1.0},
             {"name": "l4_relu/extra", "exec_type": "brgconv_avx512_amx_I8", "ms": 0.5},
             {"name": "l3", "exec_type": "jit_avx512_I8", "ms": 0.125},
             {"name": "l12_relu", "exec_type": "brgconv", "ms": 0.0625},
             {"name": "logits", "exec_type": "jit", "ms": 0.5}]
    by_layer, other = LP.match_openvino(nodes)
    assert sorted(by_layer) == [3, 4, 12]
    assert by_layer[4] == {"ms": 1.5, "exec_type": "brgconv_avx512_amx_I8"}
    assert by_layer[3]["ms"] == 0.125 and by_layer[12]["ms"] == 0.0625
    assert other == 0.75


def test_table_gives_shares_of_the_peak_and_ratios():
    nin = {"family": "amx", "threads": 2, "peak_gmacs": 1000.0, "instruction": "tdpbusd",
           "layers": [{"index": 0, "kind": "conv", "input": "8x8x4", "output": "8x8x16", "ms": 0.5, "macs": 4e8},
                      {"index": 1, "kind": "maxpool", "input": "8x8x16", "output": "4x4x16", "ms": 0.25, "macs": 0.0}]}
    nodes = [{"name": "l0_relu/WithoutBiases", "exec_type": "brgconv", "ms": 1.0},
             {"name": "input_QuantizeLinear", "exec_type": "jit", "ms": 0.25}]
    lines = LP.side_by_side_lines(nin, nodes, openvino_threads=2)
    assert "2 x nin's measured peak (1000.0 GMAC/s per thread, tdpbusd from registers)" in lines[0]
    conv = lines[2].split()
    # 4e8 MACs in 0.5 ms = 800 GMAC/s of 2 x 1000: 40%; in OpenVINO's 1.0 ms: 20%; 0.5 / 1.0
    assert conv[:5] == ["0", "conv", "8x8x4", "->", "8x8x16"]
    assert conv[5:10] == ["0.5000", "40.0%", "1.0000", "20.0%", "0.50"]
    assert "(fused)" in lines[3]                         # the pool has no OpenVINO node
    total = lines[4].split()
    assert total[:4] == ["total", "0.7500", "1.2500", "0.60"]  # OpenVINO's total counts its other nodes
