"""Tests of tools/nin_eval.py, the test-set evaluation through the runtime: its confusion
matrix and agreement figures, evaluate() on a golden model, and the command line against
PyTorch's fp32 logits (the last needs the Fashion-MNIST test set)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nin
import nin_eval
from nin_tools import fashion_mnist

REPO = Path(__file__).resolve().parents[2]
GOLDEN_NET = REPO / "Tests" / "golden" / "net"


def _test_split():
    try:
        return fashion_mnist.load_split("test")
    except FileNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not installed ({exc}); apt-get install dataset-fashion-mnist")


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
