"""Accuracy of the shipped model through the runtime on all 10,000 Fashion-MNIST test images:
at or above the figure in models/MODEL_CARD.md minus 0.1 points (tools/nin_eval.py's evaluate; its own tests are
tools/tests/test_nin_eval.py)."""

from __future__ import annotations

import re
from typing import Optional

import pytest

from conftest import DEFAULT_MODEL, REPO, SHIPPED_MODELS

import nin
import nin_eval

MODEL_CARD = REPO / "models" / "MODEL_CARD.md"
CARD_LINE = re.compile(
    r"int8 top-1 accuracy through nin \(10,000 test images\): (?P<value>\d+(?:\.\d+)?)%")
TOLERANCE_POINTS = 0.1


def card_accuracy(text: str, model_name: str) -> Optional[float]:
    """The card's ``int8 top-1 accuracy through nin (10,000 test images): NN.NN%`` figure
    for ``model_name``: the line inside the model's section (the nearest ``#`` or ``##``
    heading above the line names the model), or None when that section has no such line."""
    sections = [(m.start(), m.group(0).lower()) for m in re.finditer(r"^##? .*$", text, flags=re.M)]
    for match in CARD_LINE.finditer(text):
        before = [h for pos, h in sections if pos < match.start()]
        if before and model_name.lower() in before[-1]:
            return float(match.group("value"))
    return None


def _test_split():
    from nin_tools import fashion_mnist

    try:
        return fashion_mnist.load_split("test")
    except FileNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not installed ({exc}); apt-get install dataset-fashion-mnist")


def test_card_parsing():
    one = "## `m.nin`\n- int8 top-1 accuracy through nin (10,000 test images): 91.23%\n"
    assert card_accuracy(one, "m") == 91.23
    assert card_accuracy(one, "other") is None
    two = ("# Card\n## fashion_large\nint8 top-1 accuracy through nin (10,000 test images): 93.00%\n"
           "## fashion_small\nint8 top-1 accuracy through nin (10,000 test images): 91.50%\n")
    assert card_accuracy(two, "fashion_small") == 91.5
    assert card_accuracy(two, "fashion_large") == 93.0
    # sub-headings belong to their model's section
    nested = ("## fashion_large\n### Accuracy\nint8 top-1 accuracy through nin (10,000 test images): 90%\n"
              "## fashion_small\n### Accuracy\n")
    assert card_accuracy(nested, "fashion_large") == 90.0
    assert card_accuracy(nested, "fashion_small") is None
    assert card_accuracy("## m\nint8 accuracy: 91%", "m") is None


def test_every_model_is_on_the_card():
    text = MODEL_CARD.read_text(encoding="utf-8")
    assert SHIPPED_MODELS and DEFAULT_MODEL in SHIPPED_MODELS
    for path in SHIPPED_MODELS:
        assert card_accuracy(text, path.stem) is not None, f"{MODEL_CARD} has no accuracy line for {path.stem}"


def test_shipped_model_accuracy_matches_card(shipped_model_path):
    images, labels = _test_split()
    assert len(images) == 10_000
    with nin.Model(shipped_model_path, max_batch=500, threads=2) as model:
        figures = nin_eval.evaluate(model, images, labels, batch=500)
    accuracy = 100 * figures["accuracy"]
    measured = f"int8 top-1 accuracy through nin (10,000 test images): {accuracy:.2f}%"
    print(f"{measured} ({figures['seconds']:.1f} s)")
    assert MODEL_CARD.is_file(), f"{MODEL_CARD} is missing; it must contain the line '{measured}'"
    expected = card_accuracy(MODEL_CARD.read_text(encoding="utf-8"), shipped_model_path.stem)
    assert expected is not None, (
        f"{MODEL_CARD} has no line of the form 'int8 top-1 accuracy through nin (10,000 test "
        f"images): 91.23%'; measured now: '{measured}'")
    assert accuracy >= expected - TOLERANCE_POINTS, (
        f"accuracy through nin {accuracy:.2f}% is below the model card's {expected:.2f}% "
        f"minus {TOLERANCE_POINTS} points")

