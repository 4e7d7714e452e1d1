"""Calibration: the images, and the range of every activation over them.

``--calibrate fashion-mnist`` (the first N training images, N = 2000 by default), a
directory of PNG files (every ``*.png`` below it, subfolders included, listed as ``nin-infer
DIR`` lists them, and N of them spread evenly over that list, so that each class folder
contributes) or an IDX images file.  PNG files are
decoded by the runtime's own decoder (``nin.load_png`` of bindings/python, which needs
libnin.so: ``make lib``), and every image goes through ``nin_tools.preprocess.prepare`` to the
model input, so calibration sees exactly the runtime's pixels.  The range ``a`` of each ReLU
output is the 99.999th percentile of that activation over the calibration set (numpy's linear
interpolation, computed exactly from a running top-k, :class:`_TopK`); with fewer than 100
images ``a`` is the maximum (``--percentile`` overrides both).  A convolution without ReLU
gets an asymmetric range from the same percentiles at both ends, widened to include 0.
:mod:`nin_tools.convert.quantization` turns the ranges into scales.
"""

from __future__ import annotations

import math
import os
from typing import List, Optional, Sequence

import numpy as np

from nin_tools import fashion_mnist
from nin_tools import float_graph as nf
from nin_tools import preprocess
from nin_tools.convert.errors import ConvertError
from nin_tools.convert.lowering import Stage
from nin_tools.runtime import RuntimeMissing, import_runtime

__all__ = ["DEFAULT_PERCENTILE", "SMALL_SET", "DEFAULT_CALIBRATION_COUNT", "runtime_png_decoder",
           "png_files", "spread", "load_calibration", "topk_for", "calibrate"]

DEFAULT_PERCENTILE = 99.999
SMALL_SET = 100            # fewer calibration images than this: use the maximum
DEFAULT_CALIBRATION_COUNT = 2000


def runtime_png_decoder():
    """The ``nin`` package (bindings/python), for its ``load_png``: the runtime's own PNG
    decoder, so calibration sees the pixels nin decodes at inference. Raises ConvertError when
    the package cannot be imported or libnin.so cannot be loaded."""
    try:
        nin = import_runtime()
    except RuntimeMissing as e:
        raise ConvertError(f"calibrating on PNG files uses the runtime's PNG decoder: {e}") from None
    try:
        nin.library_path()
    except nin.NinError as e:
        raise ConvertError(f"calibrating on PNG files uses the runtime's PNG decoder, which needs "
                           f"libnin.so (build it with `make lib`): {e}") from None
    return nin


def png_files(directory: str) -> List[str]:
    """Every ``*.png`` (any case) below ``directory``, as ``nin-infer DIR`` lists them: names
    sorted byte by byte at each level, subfolders walked, folders reached through a symbolic
    link not entered (the top one is followed)."""
    top = os.fsencode(directory)
    found: List[str] = []

    def walk(folder: bytes) -> None:
        prefix = folder if folder.endswith(b"/") else folder + b"/"
        for name in sorted(e.name for e in os.scandir(folder)):
            path = prefix + name
            if os.path.isdir(path) and not os.path.islink(path):
                walk(path)
            elif len(name) > 4 and name[-4:].lower() == b".png":
                found.append(os.fsdecode(path))

    walk(top)
    return found


def spread(items: Sequence[str], count: int) -> List[str]:
    """``count`` of ``items`` spread evenly over the list (all when there are no more), so
    every class folder of a sorted listing contributes, not only the first ones."""
    if count >= len(items):
        return list(items)
    if count < 1:
        raise ConvertError(f"--calibration-count {count}: must be at least 1")
    picks = np.linspace(0, len(items) - 1, count).round().astype(np.int64)
    return [items[int(i)] for i in picks]


def load_calibration(spec: str, count: int, input_shape: Sequence[int]):
    """-> (uint8 N x H x W x C prepared images, labels or None, description, dataset name)."""
    c, h, w = (int(a) for a in input_shape)
    labels = None
    if spec == "fashion-mnist":
        imgs, lbl = fashion_mnist.load_split("train")
        imgs, labels = imgs[:count], lbl[:count].astype(np.int64)
        desc = f"first {len(imgs)} Fashion-MNIST training images"
        dataset = "Fashion-MNIST"
        raw = imgs
    elif os.path.isdir(spec):
        found = png_files(spec)
        if not found:
            raise ConvertError(f"{spec}: no image found: no *.png file below this directory "
                               f"(calibration searches it and its subfolders, as nin-infer does)")
        names = spread(found, count)
        nin = runtime_png_decoder()
        raw = []
        for n in names:
            try:
                raw.append(nin.load_png(n))
            except nin.NinError as e:
                raise ConvertError(f"calibration image: {e}") from None
        desc = f"{len(raw)} PNG images from {os.path.basename(os.path.normpath(spec))}"
        if len(raw) < len(found):
            desc += f" (of {len(found)}, spread evenly)"
        dataset = ""
    elif os.path.isfile(spec):
        arr = fashion_mnist.load_idx(spec)
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4):
            raise ConvertError(f"{spec}: an IDX images file must be uint8 [N, H, W] or [N, H, W, C], "
                               f"got {arr.dtype} {arr.shape}")
        raw = arr[:count]
        desc = f"first {len(raw)} images of {os.path.basename(spec)}"
        dataset = ""
    else:
        raise ConvertError(f"--calibrate {spec!r}: not 'fashion-mnist', a directory or an IDX file")
    if isinstance(raw, np.ndarray):          # a uniform batch (N x H x W [x C])
        x = np.asarray(preprocess.prepare_batch(raw, (c, h, w)), np.uint8)
    else:                                     # images of any size, one at a time
        x = np.empty((len(raw), h, w, c), np.uint8)
        for i, img in enumerate(raw):
            x[i] = np.asarray(preprocess.prepare(np.asarray(img), (c, h, w)), np.uint8).reshape(h, w, c)
    return x, labels, desc, dataset


class _TopK:
    """Exact numpy-style (linear) percentiles of a stream, from its k largest values."""

    def __init__(self, k: int, largest: bool = True):
        self.k = max(1, int(k))
        self.largest = largest
        self.buf = np.empty(0, np.float32)
        self.count = 0

    def add(self, values: np.ndarray):
        v = np.asarray(values, np.float32).reshape(-1)
        self.count += v.size
        if not self.largest:
            v = -v
        v = np.concatenate([self.buf, v])
        if v.size > self.k:
            v = np.partition(v, v.size - self.k)[v.size - self.k:]
        self.buf = v

    def sorted_desc(self) -> np.ndarray:
        return np.sort(self.buf)[::-1]

    def percentile(self, q: float) -> float:
        """numpy.percentile(all_values, q) (or 100 - q from the other end)."""
        t = self.count
        p = (t - 1) * (q / 100.0)
        lo = int(math.floor(p))
        frac = p - lo
        top = self.sorted_desc()

        def at(asc):             # value at ascending position `asc`
            return float(top[t - 1 - asc])
        a_lo = at(lo)
        a_hi = at(min(lo + 1, t - 1))
        v = a_lo + (a_hi - a_lo) * frac
        return v if self.largest else -v

    def fraction_beyond(self, a: float) -> float:
        if self.count == 0:
            return 0.0
        b = a if self.largest else -a
        return float(np.count_nonzero(self.buf > b)) / self.count


def topk_for(count: int, q: float) -> int:
    """How many of the largest of ``count`` values the ``q``-th percentile needs (both
    neighbours of its interpolation position, counted from the top)."""
    p = (count - 1) * (q / 100.0)
    return int(count - math.floor(p)) + 1


def calibrate(graph: nf.Graph, stages: List[Stage], x_u8: np.ndarray, percentile: float,
              batch: Optional[int] = None):
    """One fp32 pass over the calibration images: the range of every conv stage output and
    the final logits.  -> (ranges {stage: (lo, hi, clip_hi, clip_lo)}, logits)"""
    n = x_u8.shape[0]
    shapes = nf.output_shapes(graph)
    if batch is None:            # keep every op's output of one batch within ~256 MiB
        per_image = sum(int(np.prod(s)) for s in shapes)
        batch = max(1, min(64, (64 << 20) // max(1, per_image)))
    hi_trk, lo_trk = {}, {}
    for si, st in enumerate(stages):
        if st.op != "conv":
            continue
        per = int(np.prod(shapes[st.out_idx]))
        k = topk_for(n * per, percentile)
        hi_trk[si] = _TopK(k, True)
        if not st.relu:
            lo_trk[si] = _TopK(k, False)
    logits = []
    for a in range(0, n, batch):
        outs = nf.forward(graph, nf.pixels_to_float(x_u8[a:a + batch]))
        for si in hi_trk:
            o = outs[stages[si].out_idx]
            hi_trk[si].add(o)
            if si in lo_trk:
                lo_trk[si].add(o)
        logits.append(outs[-1])
    ranges = {}
    for si, trk in hi_trk.items():
        hi = trk.percentile(percentile)
        lo = lo_trk[si].percentile(percentile) if si in lo_trk else 0.0
        ranges[si] = (lo, hi, trk, lo_trk.get(si))
    return ranges, np.concatenate(logits, axis=0)
