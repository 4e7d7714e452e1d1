#!/usr/bin/env python3
"""Writes Tests/golden/output_sizes.txt: the contract's output size (nin_tools.model_format.output_size, the
Python definition) over a grid of input sizes, kernels, strides and paddings, one case a line:
"n k s pad_before pad_after out" (out -1: the window does not fit). The Swift suite checks
Window.outputSize against it, so the two languages' formulas cannot drift apart.
Usage: tools/make_output_size_golden.py   (part of `make golden`)"""

from __future__ import annotations

from pathlib import Path

from nin_tools import model_format

OUT = Path(__file__).resolve().parent.parent / "Tests" / "golden" / "output_sizes.txt"


def main() -> None:
    lines = []
    for n in (1, 2, 3, 5, 6, 7, 13, 27, 28, 55, 227):
        for k in (1, 2, 3, 5, 11):
            for s in (1, 2, 3, 4):
                for pa, pb in ((0, 0), (1, 1), (2, 2), (0, 1), (2, 0)):
                    out = model_format.output_size(n, k, s, pa, pb)
                    lines.append(f"{n} {k} {s} {pa} {pb} {-1 if out is None else out}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} cases to {OUT}")


if __name__ == "__main__":
    main()
