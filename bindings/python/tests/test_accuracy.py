"""Accuracy of the shipped model through the runtime on all 10,000 Fashion-MNIST test images:
at or above the figure in models/MODEL_CARD.md minus 0.1 points. Plus checks of
tools/nin_eval.py itself (no dataset needed for those)."""

from __future__ import annotations

import json
import re
from typing import Optional

import numpy as np
import pytest

from conftest import DEFAULT_MODEL, GOLDEN_NET, REPO, SHIPPED_MODELS

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
    import fashion_mnist

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


# ---- tools/nin_eval.py ------------------------------------------------------------------------

def test_confusion_and_fp32_agreement():
    truth = np.array([0, 1, 2, 2, 1])
    predicted = np.array([0, 2, 2, 2, 1])
    m = nin_eval.confusion_matrix(truth, predicted, 3)
    assert m.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 2]]
    text = nin_eval.format_confusion(m, ["a", "b", "c"])
    assert "recall" in text and "50.00%" in text and len(text.splitlines()) == 5
    assert nin_eval.top1(np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]], np.float32)).tolist() == [0, 1]


def test_evaluate_on_a_golden_model():
    with nin.Model(GOLDEN_NET / "k11s4_batch3" / "model.nin") as model:
        rng = np.random.default_rng(51)
        images = rng.integers(0, 256, (37, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, model.class_count, 37).astype(np.uint8)
        fp32 = model.logits(images)
        fp32[:5] = -fp32[:5]                          # flip some predictions
        figures = nin_eval.evaluate(model, images, labels, batch=8, fp32_logits=fp32)
        predicted = np.argmax(model.predict(images), axis=1)
        assert figures["images"] == 37
        assert figures["correct"] == int((predicted == labels).sum())
        assert np.array(figures["confusion"]).sum() == 37
        assert figures["fp32"]["agreement"] == float((np.argmax(fp32, 1) == predicted).mean())
        with pytest.raises(ValueError, match="fp32 logits"):
            nin_eval.evaluate(model, images, labels, fp32_logits=fp32[:3])


def test_nin_eval_command_line(tmp_path, capsys):
    """The command line against PyTorch's fp32 logits (Tests/golden/fp32/, written by
    tools/make_fp32_logits.py from the checkpoint the model was converted from): the agreement
    it prints is the one computed here from nin's own logits and PyTorch's."""
    images, labels = _test_split()
    name = "fashion_small"
    model = REPO / "models" / f"{name}.nin"
    fp32_path = REPO / "Tests" / "golden" / "fp32" / f"{name}.logits.npy"
    fp32 = np.load(fp32_path)
    limit = 200
    assert fp32.shape[0] >= limit
    with nin.Model(model) as m:
        int8 = m.logits(images[:limit])
    agree = np.argmax(int8, 1) == np.argmax(fp32[:limit], 1)
    correct = int((np.argmax(int8, 1) == labels[:limit]).sum())
    out_json = tmp_path / "figures.json"
    code = nin_eval.main(["--model", str(model), "--limit", str(limit), "--batch", "64",
                          "--fp32-logits", str(fp32_path), "--json", str(out_json)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "int8 top-1 accuracy through nin:" in printed
    assert (f"int8 vs fp32 top-1 agreement: {100 * agree.mean():.2f}% "
            f"({int((~agree).sum())} of {limit} images differ)") in printed
    assert "confusion matrix" in printed
    figures = json.loads(out_json.read_text())
    assert figures["images"] == limit and figures["correct"] == correct
    assert figures["fp32"]["agreement"] == float(agree.mean())
    assert len(figures["confusion"]) == 10
