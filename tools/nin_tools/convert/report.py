"""The table nin-convert prints: per layer, its scale, where the scale came from, and how
much of the calibration data the int8 model clips (:func:`run_int8` runs the reference)."""

from __future__ import annotations

import math
import sys
from typing import List, Optional

import numpy as np

from nin_tools import reference
from nin_tools.convert.quantization import LayerReport

__all__ = ["run_int8", "print_report"]


def run_int8(model, x_u8: np.ndarray, batch: Optional[int] = None, want_layers: bool = False):
    """The reference over a batch -> (logits [N, classes], per-layer saturation counts or None)."""
    if batch is None:
        batch = max(1, min(250, 500_000 // (x_u8.shape[1] * x_u8.shape[2])))
    logits = []
    sat = None
    for a in range(0, x_u8.shape[0], batch):
        r = reference.run(model, x_u8[a:a + batch])
        logits.append(np.asarray(r["logits"], np.float32).reshape(min(batch, x_u8.shape[0] - a), -1))
        if want_layers and "layers" in r:
            outs = r["layers"]
            if sat is None:
                sat = [[0, 0] for _ in outs]
            for li, o in enumerate(outs):
                o = np.asarray(o)
                if o.dtype == np.uint8:
                    layer = model.layers[li]
                    top = (int(layer.output_max) or 255) if layer.op == "conv" else 255
                    sat[li][0] += int(np.count_nonzero(o == top))
                    sat[li][1] += o.size
    return np.concatenate(logits, axis=0), sat


def print_report(reports: List[LayerReport], sat, out=None):
    """The table, one row a layer; ``sat`` (from :func:`run_int8`) adds the saturation column."""
    out = out or sys.stdout
    print(f"{'#':>3} {'layer':<10} {'output C x H x W':<17} {'scale':>11} {'zp':>4} "
          f"{'fp32 clipped':>12} {'int8 at max':>11}  scale from / weights", file=out)
    for r in reports:
        shape = " x ".join(str(v) for v in r.shape)
        clip = "" if math.isnan(r.clip_fraction) else f"{r.clip_fraction:.2e}"
        s255 = ""
        if sat is not None and r.index < len(sat) and sat[r.index][1] and r.op.startswith("conv"):
            s255 = f"{sat[r.index][0] / sat[r.index][1]:.2e}"
        how = r.source + (f" / {r.weight_source}" if r.weight_source else "")
        print(f"{r.index:>3} {r.op:<10} {shape:<17} {r.scale:>11.5g} {r.zero_point:>4} "
              f"{clip:>12} {s255:>11}  {how}", file=out)
