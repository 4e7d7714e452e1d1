"""Command line: ``python -m nin IMAGE... [--model PATH] [--top K] [--json] [--threads N]``.

Prints exactly what ``nin-infer`` prints on stdout:

- text: per image its path on one line, then one line per class ``"  0.1234  Label"``
  (probability with 4 decimals, rounded half away from zero like nin-infer);
- ``--json``: one JSON list of ``{"image": PATH, "top": [{"index", "label", "probability"}]}``
  (probabilities in the shortest form that reads back as the same float32), and
  ``{"image": PATH, "error": MESSAGE}`` for an image that failed.

A bad image gets one line ``nin: PATH: reason`` on stderr, the others still run, and the exit
status is 1. A model that cannot be loaded (or no default model) exits with status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import List, Optional, Sequence, TextIO

import numpy as np

from ._errors import NinError
from ._model import MAX_THREADS, Model, default_model_path

__all__ = ["main", "format_probability", "swift_float", "json_string"]

PROG = "nin"


def format_probability(p: float) -> str:
    """``p`` with four decimals as nin-infer prints it: ``Double(p) * 10000`` rounded to the
    nearest integer, ties away from zero."""
    v = float(np.float32(p)) * 10000.0
    negative = v < 0
    v = abs(v)
    scaled = math.floor(v)
    if v - scaled >= 0.5:
        scaled += 1
    whole, fraction = divmod(int(scaled), 10000)
    return f"{'-' if negative else ''}{whole}.{fraction:04d}"


def swift_float(x: float) -> str:
    """A float32 written as Swift's ``Float.description`` writes it: the shortest digits that
    read back as the same float32, positional for 1e-4 <= |x| < 2^24 (always with a ``.``),
    otherwise ``d.ddde-05`` style."""
    f = np.float32(x)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f == 0:
        return "-0.0" if math.copysign(1.0, float(f)) < 0 else "0.0"
    sci = np.format_float_scientific(f, unique=True, trim="-", exp_digits=2)
    mantissa, exponent = sci.split("e")
    e = int(exponent)
    if e < -4 or abs(float(f)) >= 2.0 ** 24:
        return f"{mantissa}e{'-' if e < 0 else '+'}{abs(e):02d}"
    return np.format_float_positional(f, unique=True, trim="0")


def json_string(s: str) -> str:
    """A JSON string literal escaped as nin-infer escapes it."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG if __package__ is None else "python -m nin",
        description="Classify PNG images with an int8 Network-in-Network model "
                    "(the same output as nin-infer).",
        epilog="Without --model, the default model is used: $NIN_MODEL, else models/"
               "fashion_classic.nin of the nin checkout, else the copy bundled in the package.")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG images to classify")
    parser.add_argument("--model", metavar="PATH", help="path of the .nin model")
    parser.add_argument("--top", type=int, default=None, metavar="K",
                        help="how many classes to print per image, at most the model's class "
                             "count (default 5, or every class of a model with fewer)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="worker threads per inference (default 1)")
    return parser


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[TextIO] = None,
         stderr: Optional[TextIO] = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 some image failed, 2 usage
    or model error)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if args.top is not None and args.top < 1:
        parser.error("--top must be at least 1")
    if not 1 <= args.threads <= MAX_THREADS:
        parser.error(f"--threads must be 1 to {MAX_THREADS}")

    try:
        model_path = args.model if args.model is not None else str(default_model_path())
    except NinError as exc:
        print(f"{PROG}: {exc.message}; pass --model PATH", file=err)
        return 2
    try:
        model = Model(model_path, threads=args.threads, max_batch=1)
    except NinError as exc:
        print(f"{PROG}: {model_path}: {exc.message}", file=err)
        return 2

    failures = 0
    records: List[str] = []
    with model:
        if args.top is not None and args.top > model.class_count:
            print(f"{PROG}: --top {args.top} is more than the model's {model.class_count} classes", file=err)
            return 2
        k = args.top if args.top is not None else min(5, model.class_count)
        labels = model.labels
        for path in args.images:
            try:
                ranked = model.top_k(path, k)
            except NinError as exc:
                failures += 1
                print(f"{PROG}: {path}: {exc.message}", file=err)
                if args.json:
                    records.append(f'{{"image": {json_string(path)}, "error": {json_string(exc.message)}}}')
                continue
            if args.json:
                entries = [f'{{"index": {i}, "label": {json_string(labels[i])}, '
                           f'"probability": {swift_float(p)}}}' for i, p in ranked]
                records.append(f'{{"image": {json_string(path)}, "top": [{", ".join(entries)}]}}')
            else:
                print(path, file=out)
                for i, p in ranked:
                    print(f"  {format_probability(p)}  {labels[i]}", file=out)
    if args.json:
        print("[" + ",\n ".join(records) + "]", file=out)
    out.flush()
    return 1 if failures else 0
