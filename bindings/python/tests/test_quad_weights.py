"""Format 1.2's quad weights through the library: a shipped model rewritten with them by the
numpy writer (nin_tools.model_format, an implementation independent of the Swift reader, which
checks the copy equals the weights) gives the same logits on every kernel family this CPU runs,
and `Model.weight_memory` says which families read them in place instead of repacking."""

from __future__ import annotations

import numpy as np
import pytest

import nin
from conftest import DEFAULT_MODEL, EXAMPLE_IMAGES
from nin_tools import model_format as fmt

#: The families whose kernels multiply quad-blocked weights (nin.h, nin_model_weight_memory).
QUAD_FAMILIES = {"avx512vnni", "avxvnni", "avx2", "neon", "neondot", "wasmrelaxed"}


def _quad_copy(tmp_path):
    model = fmt.read(DEFAULT_MODEL)
    for layer in model.layers:
        layer.quad_weights = layer.op == "conv"
    path = tmp_path / "quad.nin"
    fmt.write(model, path)
    return model, path


@pytest.mark.parametrize("family", [f.name for f in nin.kernel_families() if f.supported])
def test_same_logits_and_weights_in_place(tmp_path, monkeypatch, family):
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"{DEFAULT_MODEL} missing")
    model, quad_path = _quad_copy(tmp_path)
    assert quad_path.read_bytes()[6] == 2  # version 1.2
    monkeypatch.setenv("NIN_ISA", family)
    images = sorted(EXAMPLE_IMAGES.glob("*.png"))[:3]
    with nin.Model(DEFAULT_MODEL) as plain, nin.Model(quad_path) as quad:
        assert plain.kernels == quad.kernels == family
        for image in images:
            assert np.array_equal(plain.logits(image).view(np.uint32), quad.logits(image).view(np.uint32)), image.name
        plain_packed, plain_in_place = plain.weight_memory
        quad_packed, quad_in_place = quad.weight_memory
    convs = [layer for layer in model.layers if layer.op == "conv"]
    ohwi_bytes = sum(layer.weights.size for layer in convs)
    quad_bytes = sum(fmt.quad_blocked(layer.weights).size for layer in convs)
    if family == "generic":  # the reference kernels read the stored OHWI weights in both files
        assert plain_in_place == quad_in_place == ohwi_bytes
    elif family in QUAD_FAMILIES:
        # The classic model's layers all run on the quad kernels (7-bit activations and weights):
        # every weight is read in place, only biases and requantization tables are made.
        assert plain_in_place == 0 and quad_in_place == quad_bytes
        assert plain_packed >= quad_bytes and quad_packed < plain_packed - quad_bytes + 4096
    else:  # int16-pair families repack either way
        assert plain_in_place == quad_in_place == 0 and plain_packed == quad_packed


def test_weight_memory_on_a_closed_model(small_model_path):
    model = nin.Model(small_model_path)
    packed, in_place = model.weight_memory
    assert packed > 0 and in_place >= 0
    model.close()
    with pytest.raises(nin.StateError):
        model.weight_memory
