"""Evaluate a .nin model on the Fashion-MNIST test set through the runtime (the Python bindings).

    python tools/nin_eval.py [--model models/fashion_small.nin] [--batch 256] [--threads 1]
                             [--fp32-logits fp32_logits.npy] [--plot confusion.png]
                             [--json figures.json] [--limit N] [--data DIR]

Runs the 10,000 test images (uint8 28x28, through ``nin_run_images`` exactly as a user's images
go) in batches, prints the int8 top-1 accuracy, per-class accuracy and the 10x10 confusion
matrix (rows: true class, columns: predicted). With ``--fp32-logits FILE.npy`` (float32 logits
``[N, classes]`` of the same images in the same order from the float PyTorch model) it also
prints the fp32 accuracy and the agreement of int8 vs fp32 top-1. ``--plot`` writes the
confusion matrix as a PNG when matplotlib is importable; ``--json`` writes every figure.

Needs numpy and the ``nin`` package: an installed one, or bindings/python of this checkout on
``PYTHONPATH`` (``make eval`` sets it). The data come from tools/nin_tools/fashion_mnist.py
(/usr/share/datasets/fashion-mnist, ``apt-get install dataset-fashion-mnist``, or
``$NIN_FASHION_MNIST``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

import numpy as np

from nin_tools import fashion_mnist
from nin_tools.runtime import RuntimeMissing, import_runtime

if TYPE_CHECKING:
    import nin

__all__ = ["evaluate", "confusion_matrix", "format_confusion", "top1", "main"]


def top1(scores: np.ndarray) -> np.ndarray:
    """Top-1 class per row; ties go to the lower class index (the runtime's rule)."""
    return np.argmax(scores, axis=1)


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """``m[t, p]`` = number of images of true class t predicted as p."""
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (truth.astype(np.int64), predicted.astype(np.int64)), 1)
    return m


def format_confusion(m: np.ndarray, labels: Sequence[str]) -> str:
    """The confusion matrix as an aligned text table (rows true, columns predicted)."""
    n = len(labels)
    short = [f"{i}" for i in range(n)]
    width = max(5, len(str(int(m.max()))) + 1)
    name_width = max(len(label) for label in labels) + 4
    lines = ["true \\ predicted".ljust(name_width) + "".join(s.rjust(width) for s in short)
             + "   recall"]
    for t in range(n):
        row_total = int(m[t].sum())
        recall = m[t, t] / row_total if row_total else float("nan")
        lines.append(f"{t} {labels[t]}".ljust(name_width) + "".join(str(int(v)).rjust(width) for v in m[t])
                     + f"   {100 * recall:6.2f}%")
    col_total = m.sum(axis=0)
    precision = [m[p, p] / col_total[p] if col_total[p] else float("nan") for p in range(n)]
    lines.append("precision".ljust(name_width) +
                 "".join(("-" if v != v else f"{100 * v:.0f}%").rjust(width) for v in precision))
    return "\n".join(lines)


def evaluate(model: "nin.Model", images: np.ndarray, labels: np.ndarray, batch: int = 256,
             fp32_logits: Optional[np.ndarray] = None) -> Dict[str, Any]:
    """Runs ``images`` (uint8 N x H x W) through ``model`` in batches of ``batch`` and returns
    the figures: accuracy, per-class accuracy, confusion matrix, predictions, and the fp32
    comparison when ``fp32_logits`` is given."""
    if images.ndim != 3 or images.dtype != np.uint8 or len(images) != len(labels):
        raise ValueError(f"images must be uint8 N x H x W matching labels, got {images.shape} {images.dtype}")
    classes = model.class_count
    if len(labels) and int(labels.max()) >= classes:
        raise ValueError(f"the model has {classes} classes but the data has labels up to {int(labels.max())}")
    probabilities = np.empty((len(images), classes), dtype=np.float32)
    start = time.perf_counter()
    for s in range(0, len(images), batch):
        probabilities[s:s + batch] = model.predict(images[s:s + batch])
    seconds = time.perf_counter() - start
    predicted = top1(probabilities)
    truth = labels.astype(np.int64)
    m = confusion_matrix(truth, predicted, classes)
    per_class = [float(m[c, c] / m[c].sum()) if m[c].sum() else float("nan") for c in range(classes)]
    figures: Dict[str, Any] = {
        "model": model.path,
        "model_name": model.metadata("name"),
        "images": int(len(images)),
        "correct": int((predicted == truth).sum()),
        "accuracy": float((predicted == truth).mean()) if len(images) else float("nan"),
        "per_class_accuracy": dict(zip(model.labels, per_class)),
        "labels": list(model.labels),
        "confusion": m.tolist(),
        "seconds": seconds,
        "images_per_second": len(images) / seconds if seconds > 0 else float("inf"),
        "predicted": predicted,
    }
    if fp32_logits is not None:
        fp32_logits = np.asarray(fp32_logits)
        if fp32_logits.shape != (len(images), classes):
            raise ValueError(f"fp32 logits have shape {fp32_logits.shape}, expected {(len(images), classes)} "
                             f"(the same images in the same order)")
        fp32_predicted = top1(fp32_logits)
        agree = fp32_predicted == predicted
        figures["fp32"] = {
            "accuracy": float((fp32_predicted == truth).mean()),
            "agreement": float(agree.mean()),
            "disagreements": int((~agree).sum()),
            "disagreeing_indices": np.nonzero(~agree)[0][:100].tolist(),
        }
    return figures


def _json_safe(value: Any) -> Any:
    """NaN/inf (e.g. the recall of a class absent from --limit) become null: strict JSON."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _plot(m: np.ndarray, labels: Sequence[str], path: str, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"nin_eval: matplotlib is not importable; no plot written to {path}", file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(8, 7))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for t in range(m.shape[0]):
        for p in range(m.shape[1]):
            ax.text(p, t, str(int(m[t, p])), ha="center", va="center", fontsize=7,
                    color="white" if m[t, p] > m.max() / 2 else "black")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="the .nin model (default: nin's default model)")
    parser.add_argument("--data", help="Fashion-MNIST directory (default: $NIN_FASHION_MNIST or "
                                       f"{fashion_mnist.DEFAULT_ROOT})")
    parser.add_argument("--batch", type=int, default=256, help="images per run (default 256)")
    parser.add_argument("--threads", type=int, default=1, help="worker threads per run (default 1)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N test images")
    parser.add_argument("--fp32-logits", metavar="FILE.npy",
                        help="float32 logits [N, classes] of the same images from the fp32 model")
    parser.add_argument("--plot", metavar="PATH", help="write the confusion matrix as a PNG (needs matplotlib)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be at least 1")

    try:
        images, labels = fashion_mnist.load_split("test", args.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f"nin_eval: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None:
        images, labels = images[: args.limit], labels[: args.limit]
    fp32 = None
    if args.fp32_logits:
        fp32 = np.load(args.fp32_logits)
        if args.limit is not None:
            fp32 = fp32[: args.limit]
    try:
        nin = import_runtime()
    except RuntimeMissing as exc:
        print(f"nin_eval: {exc}", file=sys.stderr)
        return 2
    try:
        model = nin.Model(args.model, threads=args.threads, max_batch=max(args.batch, 1))
    except nin.NinError as exc:
        print(f"nin_eval: {args.model or 'default model'}: {exc}", file=sys.stderr)
        return 2
    with model:
        try:
            figures = evaluate(model, images, labels, args.batch, fp32)
        except ValueError as exc:
            print(f"nin_eval: {exc}", file=sys.stderr)
            return 2
        labels_text = model.labels

    name = figures["model_name"] or Path(figures["model"] or "model").stem
    print(f"model: {figures['model']} ({name})")
    print(f"images: {figures['images']} in {figures['seconds']:.2f} s "
          f"({figures['images_per_second']:.0f} images/s, batch {args.batch}, threads {args.threads})")
    print(f"int8 top-1 accuracy through nin: {100 * figures['accuracy']:.2f}% "
          f"({figures['correct']}/{figures['images']})")
    if "fp32" in figures:
        f = figures["fp32"]
        print(f"fp32 top-1 accuracy (given logits): {100 * f['accuracy']:.2f}%")
        print(f"int8 vs fp32 top-1 agreement: {100 * f['agreement']:.2f}% "
              f"({f['disagreements']} of {figures['images']} images differ)")
    print()
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion(np.array(figures["confusion"]), labels_text))
    if args.plot:
        if _plot(np.array(figures["confusion"]), labels_text, args.plot,
                 f"{name}: int8 top-1 {100 * figures['accuracy']:.2f}%"):
            print(f"\nplot: {args.plot}")
    if args.json:
        out = _json_safe({k: v for k, v in figures.items() if k != "predicted"})
        Path(args.json).write_text(json.dumps(out, indent=2, allow_nan=False) + "\n")
        print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
