"""nin's int8 logits against the fp32 PyTorch model they were converted from.

Tests/golden/fp32/<model>.logits.npy holds PyTorch's fp32 logits for the first N Fashion-MNIST
test images (written by tools/make_fp32_logits.py from the committed checkpoint). nin runs the
same images through models/<model>.nin and must agree on the top-1 class for at least 99% of
them, with its dequantized logits within the stated tolerance: the largest absolute difference
at most 5% of the span of the fp32 logits, the mean at most 1%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nin
from conftest import REPO
from nin_tools import fashion_mnist

FP32 = REPO / "Tests" / "golden" / "fp32"
CASES = sorted(p.name.removesuffix(".logits.npy") for p in FP32.glob("*.logits.npy")) if FP32.is_dir() else []


def test_every_shipped_model_has_fp32_goldens() -> None:
    shipped = sorted(p.stem for p in (REPO / "models").glob("*.nin"))
    assert shipped and set(shipped) <= set(CASES), f"fp32 goldens missing for {set(shipped) - set(CASES)}"


@pytest.mark.parametrize("name", CASES)
def test_int8_logits_track_fp32(name: str) -> None:
    try:
        images, _ = fashion_mnist.load_split("test")
    except FileNotFoundError as error:  # CI installs dataset-fashion-mnist
        pytest.skip(f"Fashion-MNIST not installed: {error}")
    reference = np.load(FP32 / f"{name}.logits.npy")
    with nin.Model(REPO / "models" / f"{name}.nin") as model:
        logits = model.logits(images[: reference.shape[0]])
    assert logits.shape == reference.shape
    agreement = float((logits.argmax(1) == reference.argmax(1)).mean())
    span = float(reference.max() - reference.min())
    error = np.abs(logits - reference)
    print(f"{name}: top-1 agreement {agreement:.2%}, max |diff| {error.max():.4f}, mean {error.mean():.4f}, span {span:.3f}")
    assert agreement >= 0.99
    assert error.max() <= 0.05 * span
    assert error.mean() <= 0.01 * span
