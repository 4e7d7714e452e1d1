"""nin-convert: a trained NiN-family network (PyTorch state_dict or ONNX) -> calibrated .nin.

    tools/nin-convert SOURCE [--arch ARCH.json] [--calibrate DIR|IDX|fashion-mnist]
                [--calibration-count N] [--labels FILE] [--name NAME] [--meta k=v ...]
                [--activation-bits 7|8] [--weight-bits 7|8] [--check DIR] -o OUT.nin

(or ``python3 -m nin_tools.convert ...`` with ``tools/`` on ``PYTHONPATH``).  The steps, one
module each: import the source (:mod:`~nin_tools.convert.pytorch`,
:mod:`~nin_tools.convert.onnx_import`), fold and group it into layers
(:mod:`~nin_tools.convert.lowering`), calibrate (:mod:`~nin_tools.convert.calibration`),
quantize (:mod:`~nin_tools.convert.quantization`), write and report
(:mod:`~nin_tools.convert.report`).  The table printed after conversion says, per layer,
which scale was taken from a QDQ model ("qdq") and which was calibrated.  ``--check DIR``
then runs the written file through the runtime on every PNG below DIR and compares it with the
float source model (:mod:`~nin_tools.convert.check`).  docs/CONVERTING.md is the user's guide.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import List, Optional

import numpy as np

from nin_tools import fashion_mnist
from nin_tools import float_graph as nf
from nin_tools import model_format as fmt
from nin_tools.convert.calibration import (DEFAULT_CALIBRATION_COUNT, DEFAULT_PERCENTILE, SMALL_SET,
                                           calibrate, load_calibration)
from nin_tools.convert.check import check_against_float, print_check
from nin_tools.convert.errors import ConvertError
from nin_tools.convert.lowering import fold_with_map, lower
from nin_tools.convert.onnx_import import graph_from_onnx
from nin_tools.convert.pytorch import graph_from_state_dict, load_torch_source
from nin_tools.convert.quantization import quantization_description, quantize
from nin_tools.convert.report import print_report, run_int8

__all__ = ["CONVERTER_VERSION", "build_model", "main"]

CONVERTER_VERSION = "nin-convert 1.0"


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def build_model(args, out=sys.stdout):
    """The checked model that ``args`` (nin-convert's parsed command line) describe, with the
    folded float graph, the per-layer reports and the calibration data it used."""
    src = args.source
    ext = os.path.splitext(src)[1].lower()
    arch = None
    if args.arch:
        with open(args.arch) as f:
            arch = json.load(f)
    qdq = None
    if ext in (".pt", ".pth"):
        sd, embedded = load_torch_source(src)
        graph = graph_from_state_dict(sd, arch or embedded)
    elif ext == ".onnx":
        shape = [int(v) for v in args.input_shape.split(",")] if args.input_shape else None
        graph, qdq = graph_from_onnx(src, shape)
    else:
        raise ConvertError(f"{src}: unknown source type {ext!r} (expected .pt, .pth or .onnx)")
    c, h, w = graph.input_shape
    if c not in (1, 3):
        raise ConvertError(f"the model wants {c} input channels; nin supports 1 or 3")
    folded, qdq = fold_with_map(graph, qdq)
    if args.mean or args.std:
        mean = [float(v) for v in (args.mean or "0").split(",")]
        std = [float(v) for v in (args.std or "1").split(",")]
        folded = nf.fold_normalization(folded, mean, std)
        if qdq:
            first = next(i for i, op in enumerate(folded.ops) if op.op == "conv")
            qdq.weights.pop(first, None)
    stages = lower(folded)

    calib_x = calib_y = None
    calib_desc, dataset = "", ""
    if args.calibrate:
        calib_x, calib_y, calib_desc, dataset = load_calibration(args.calibrate, args.calibration_count,
                                                                 graph.input_shape)
    if args.percentile is not None:
        q = float(args.percentile)
    else:
        q = DEFAULT_PERCENTILE if calib_x is not None and calib_x.shape[0] >= SMALL_SET else 100.0
    qdesc = "max" if q >= 100 else f"p{q:g}"
    ranges, fp_logits = None, None
    if calib_x is not None:
        ranges, fp_logits = calibrate(folded, stages, calib_x, q)
    layers, reports = quantize(folded, stages, ranges, qdq, qdesc,
                               activation_bits=args.activation_bits, weight_bits=args.weight_bits)

    classes = layers[-1].out_channels
    if args.labels:
        with open(args.labels, encoding="utf-8") as f:
            labels = [ln.rstrip("\r\n") for ln in f if ln.strip()]
        if len(labels) != classes:
            raise ConvertError(f"{args.labels}: {len(labels)} labels for {classes} classes")
    elif classes == 10 and args.calibrate == "fashion-mnist":
        labels = list(fashion_mnist.LABELS)
    else:
        labels = [f"class_{i}" for i in range(classes)]

    name = args.name or graph.name or os.path.splitext(os.path.basename(src))[0]
    n_qdq = sum(1 for r in reports if r.source == "qdq")
    cal = []
    if calib_x is not None:
        cal.append(f"{calib_desc}; ReLU ranges at the {'maximum' if q >= 100 else f'{q:g}th percentile'}")
    if qdq:
        cal.append(f"{n_qdq} activation scale(s) and "
                   f"{sum(1 for r in reports if r.weight_source == 'qdq')} weight set(s) taken from the QDQ model")
    meta = {"name": name, "source": os.path.basename(src), "converter": CONVERTER_VERSION,
            "calibration": "; ".join(cal) if cal else "none"}
    if args.activation_bits != 8 or args.weight_bits != 8:
        meta["quantization"] = quantization_description(args.activation_bits, args.weight_bits)
    if dataset:
        meta["dataset"] = dataset
    for kv in args.meta or []:
        if "=" not in kv:
            raise ConvertError(f"--meta {kv!r}: expected key=value")
        k, v = kv.split("=", 1)
        meta[k] = v
    model = fmt.Model(input_shape=tuple(graph.input_shape), layers=layers, labels=labels,
                      input_scale=1.0 / 255.0, input_zero_point=0, metadata=meta)
    fmt.validate(model)
    return model, folded, reports, (calib_x, calib_y, fp_logits)


def main(argv: Optional[List[str]] = None) -> int:
    """The command line: convert, write, print the table; 0, or 1 with a one-line error."""
    ap = argparse.ArgumentParser(prog="nin-convert", description=__doc__.split("\n\n")[0],
                                 epilog="docs/CONVERTING.md is the guide (accepted graphs and layouts, "
                                        "the --arch schema, calibration, checking); the module docstrings "
                                        "of tools/nin_tools/convert/ and docs/QUANTIZATION.md have the details.")
    ap.add_argument("source", help="PyTorch state_dict (.pt/.pth) or ONNX model (.onnx)")
    ap.add_argument("-o", "--output", required=True, help="the .nin file to write")
    ap.add_argument("--arch", help="topology JSON for a state_dict (docs/CONVERTING.md has its schema; "
                                   "default: the classic 227x227 NiN, four blocks 11x11/4, 5x5, 3x3, 3x3)")
    ap.add_argument("--calibrate", help="fashion-mnist, a directory of PNGs (subfolders searched as "
                                        "nin-infer searches them), or an IDX images file")
    ap.add_argument("--calibration-count", type=int, default=DEFAULT_CALIBRATION_COUNT,
                    help=f"images used for calibration (default {DEFAULT_CALIBRATION_COUNT}; from a "
                         f"larger folder, spread evenly over its sorted list)")
    ap.add_argument("--percentile", type=float, default=None,
                    help=f"activation range percentile (default {DEFAULT_PERCENTILE}; "
                         f"the maximum below {SMALL_SET} images)")
    ap.add_argument("--labels", help="class labels, one per line")
    ap.add_argument("--name", help="model name for the metadata")
    ap.add_argument("--meta", nargs="+", action="extend", default=[], metavar="K=V",
                    help="extra metadata pairs (FORMAT.md keys: description, dataset, ...)")
    ap.add_argument("--input-shape", help="C,H,W for an ONNX model whose input shape is symbolic")
    ap.add_argument("--mean", help="per-channel input mean (on [0,1] pixels) to fold into the first conv")
    ap.add_argument("--std", help="per-channel input std to fold into the first conv")
    ap.add_argument("--activation-bits", type=int, choices=(7, 8), default=8, metavar="N",
                    help="bits of every ReLU convolution's output, 7 or 8 (default 8): scale "
                         "a / (2^N - 1), output_max 2^N - 1; a convolution without ReLU keeps 8")
    ap.add_argument("--weight-bits", type=int, choices=(7, 8), default=8, metavar="N",
                    help="bits of the weights, 7 or 8 (default 8): per-channel scale "
                         "max|w| / (2^(N-1) - 1), weight_max 2^(N-1) - 1 (63 for 7 bits)")
    ap.add_argument("--check", metavar="DIR",
                    help="after writing, run OUT.nin through the runtime on every PNG below DIR and print "
                         "its top-1 agreement and logit error against the float source model (use "
                         "images calibration did not see)")
    ap.add_argument("--quad-weights", action="store_true",
                    help="also store every convolution's weights quad-blocked (format 1.2, docs/FORMAT.md): "
                         "the quad kernel families then read them in place from the mapped file instead "
                         "of repacking a private copy, so processes loading the same file share them "
                         "(the file grows by about the weights' size)")
    ap.add_argument("--quiet", action="store_true", help="no table, no calibration agreement line")
    args = ap.parse_args(argv)
    try:
        model, folded, reports, (cx, cy, fp_logits) = build_model(args)
    except (ConvertError, nf.GraphError, fmt.NinFormatError, FileNotFoundError) as e:
        print(f"nin-convert: error: {e}", file=sys.stderr)
        return 1
    for layer in model.layers:
        layer.quad_weights = args.quad_weights and layer.op == "conv"
    data = fmt.to_bytes(model)
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output}: {len(model.layers)} layers, {len(model.labels)} classes, "
          f"{len(data)} bytes")
    if args.quiet:
        return _check(args, model, folded)
    sat = None
    if cx is not None:
        q_logits, sat = run_int8(model, cx, want_layers=True)
        print_report(reports, sat)
        agree = float(np.mean(np.argmax(q_logits, 1) == np.argmax(fp_logits, 1)))
        line = f"top-1 agreement fp32 vs int8 on {cx.shape[0]} calibration images: {agree * 100:.2f}%"
        if cy is not None:
            line += (f" (accuracy fp32 {np.mean(np.argmax(fp_logits, 1) == cy) * 100:.2f}%, "
                     f"int8 {np.mean(np.argmax(q_logits, 1) == cy) * 100:.2f}%)")
        print(line)
    else:
        print_report(reports, None)
    return _check(args, model, folded)


def _check(args, model, folded) -> int:
    """--check DIR: the written file against the float source model; 0, or 1 with a one-line error."""
    if not args.check:
        return 0
    try:
        print_check(check_against_float(args.output, folded, model.labels, args.check))
    except ConvertError as e:
        print(f"nin-convert: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
