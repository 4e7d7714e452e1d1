"""``nin-convert --check DIR``: the written ``.nin`` against the float source model.

Every ``*.png`` below DIR (listed as ``nin-infer DIR`` lists them) goes through the runtime
(``nin.Model(OUT.nin).logits(paths)``: libnin.so's decoder, preprocessing and int8 kernels, as
a user's images go) and through the float model the converter read (its folded graph, on the
same decoded pixels prepared by :func:`nin_tools.preprocess.prepare`). The result is the top-1
agreement between the two and the logit error (the runtime's dequantized logits minus the
float logits), and, when every image sits in a folder named after one of the model's labels,
both accuracies. Use images the calibration did not see (a held-out folder) for an honest
figure.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from nin_tools import float_graph as nf
from nin_tools import preprocess
from nin_tools.convert.calibration import png_files, runtime_png_decoder
from nin_tools.convert.errors import ConvertError

__all__ = ["CheckResult", "check_against_float", "print_check"]

_BATCH = 64


@dataclass
class CheckResult:
    """What :func:`check_against_float` measured on ``count`` images below ``directory``."""
    directory: str
    count: int
    agree: int                      # images whose top-1 class is the same in both
    max_error: float                # largest |runtime logit - float logit|
    mean_error: float               # mean |runtime logit - float logit|
    float_range: tuple              # (min, max) of the float logits
    accuracy: Optional[tuple]       # (float, runtime) top-1 accuracy by folder name, or None


def check_against_float(model_path: str, graph: nf.Graph, labels: Sequence[str],
                        directory: str) -> CheckResult:
    """Runs the .nin at ``model_path`` (through the runtime) and the float ``graph`` on every
    PNG below ``directory``; ConvertError when there is none or one cannot be read."""
    if not os.path.isdir(directory):
        raise ConvertError(f"--check {directory}: not a directory")
    paths = png_files(directory)
    if not paths:
        raise ConvertError(f"--check {directory}: no image found: no *.png file below this directory")
    nin = runtime_png_decoder()
    runtime: List[np.ndarray] = []
    floats: List[np.ndarray] = []
    try:
        with nin.Model(model_path, max_batch=_BATCH) as model:
            shape = tuple(int(v) for v in graph.input_shape)
            for start in range(0, len(paths), _BATCH):
                chunk = paths[start:start + _BATCH]
                runtime.append(model.logits(chunk))
                x = np.stack([np.asarray(preprocess.prepare(nin.load_png(p), shape), np.uint8)
                              .reshape(shape[1], shape[2], shape[0]) for p in chunk])
                floats.append(np.asarray(nf.forward(graph, nf.pixels_to_float(x), keep="last"), np.float32))
    except nin.NinError as e:
        raise ConvertError(f"--check: {e}") from None
    q, f = np.concatenate(runtime), np.concatenate(floats).reshape(len(paths), -1)
    error = np.abs(q.astype(np.float64) - f)
    folders = [os.path.basename(os.path.dirname(p)) for p in paths]
    accuracy = None
    if all(name in labels for name in folders):
        truth = np.array([list(labels).index(name) for name in folders])
        accuracy = (float(np.mean(np.argmax(f, 1) == truth)), float(np.mean(np.argmax(q, 1) == truth)))
    return CheckResult(directory, len(paths), int(np.sum(np.argmax(q, 1) == np.argmax(f, 1))),
                       float(error.max()), float(error.mean()), (float(f.min()), float(f.max())), accuracy)


def print_check(result: CheckResult, out=None) -> None:
    """The check's lines: agreement, logit error, and the accuracies when known."""
    out = out or sys.stdout
    r = result
    print(f"check on {r.count} PNG images below {r.directory}: top-1 agreement nin (int8) vs the float "
          f"source model {100.0 * r.agree / r.count:.2f}% ({r.agree} of {r.count})", file=out)
    print(f"  logit error |nin - float|: max {r.max_error:.4f}, mean {r.mean_error:.4f} "
          f"(float logits from {r.float_range[0]:.4f} to {r.float_range[1]:.4f})", file=out)
    if r.accuracy is not None:
        print(f"  top-1 accuracy by folder name: float {100 * r.accuracy[0]:.2f}%, "
              f"nin {100 * r.accuracy[1]:.2f}%", file=out)
