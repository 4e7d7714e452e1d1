#!/usr/bin/env python3
"""Writes a full-width classic NiN (1x227x227: 96 k11 s4, 256 k5 p2, 384 k3 p1, 10 k3 p1, each
with two 1x1 convs, maxpool 3/2 between blocks, GAP) with random but calibrated weights, for
timing the runtime before (or without) a trained model.

    python tools/make_bench_model.py OUT.nin
"""
import sys
from pathlib import Path

import numpy as np

import make_golden as G
from nin_tools import model_format as F
from nin_tools import preprocess as P


def classic_random() -> F.Model:
    rng = np.random.default_rng(227)
    small = rng.integers(0, 256, (28, 28)).astype(np.uint8)
    x = P.prepare(small, (1, 227, 227))[None]
    b = G._builder(rng, x)
    for out, k, s, p in [(96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1), (10, 3, 1, 1)]:
        b.conv(out, (k, k), (s, s), (p, p, p, p))
        b.conv(out, (1, 1))
        b.conv(out, (1, 1))
        if out != 10:
            b.pool("maxpool", (3, 3), (2, 2))
    b.gap()
    return b.model(metadata={"name": "classic_random", "description": "classic NiN topology, random weights"})


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".build/bench/classic_random.nin")
    out.parent.mkdir(parents=True, exist_ok=True)
    F.write(classic_random(), out)
    print(f"wrote {out}")
