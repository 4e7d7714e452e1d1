"""Command line: ``python -m nin [OPTIONS] INPUT...``, nin-infer's inputs, options and output.

Inputs are PNG files, directories (every ``*.png`` below them, any case, names sorted byte by
byte at each level; directories reached through symbolic links are not entered) or ``-``
(newline-separated paths on stdin). A directory without a PNG below it, or an empty stdin, is
reported on stderr and makes the exit status 1, as nin-infer does.

Output on stdout, exactly what ``nin-infer`` prints:

- text: per image its path on one line, then one line per class ``"  0.1234  Label"``
  (probability with 4 decimals, rounded half away from zero like nin-infer);
- ``--json``: one JSON list of ``{"image": PATH, "top": [{"index", "label", "probability"}]}``
  (probabilities in the shortest form that reads back as the same float32), and
  ``{"image": PATH, "error": MESSAGE}`` for an image that failed;
- ``--jsonl``: the same objects, one per line, each written as soon as its image is done;
- ``--csv``: a header ``image,label_1,probability_1,...,error``, then one row per image.

``--heatmap DIR`` (created when missing) writes ``DIR/NAME.heatmap.png`` with the pixels of
``nin-infer --heatmap`` (``--class NAME`` picks the class); ``--threads``, ``--batch``,
``--progress`` / ``--no-progress`` and ``--version`` are nin-infer's. ``--plan`` and
``--profile`` need the engine's internals, which the C API does not expose: they are refused
with status 2 and a pointer to nin-infer.

A bad image gets one line ``nin: PATH: reason`` on stderr, the others still run, and the exit
status is 1. A bad command line, or a model that cannot be loaded, exits with status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import struct
import sys
import time
import zlib
from typing import BinaryIO, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from ._errors import NinError
from ._kernels import chosen_kernel_family, kernel_families
from ._model import MAX_THREADS, Model, default_model_path

__all__ = ["main", "format_probability", "swift_float", "json_string", "csv_field", "expand_inputs",
           "encode_rgb_png"]

PROG = "nin"
#: Largest ``--batch``, as nin-infer's.
MAX_BATCH = 4096


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


def csv_field(s: str) -> str:
    """A CSV field (RFC 4180) as nin-infer writes it: quoted when it holds a comma, a quote or
    a line break."""
    if not any(c in s for c in ',"\n\r'):
        return s
    return '"' + s.replace('"', '""') + '"'


# ---- inputs ------------------------------------------------------------------------------------

def _is_dir(path: bytes, follow: bool) -> bool:
    try:
        info = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode)


def _walk(directory: bytes, images: List[bytes], errors: List[Tuple[bytes, str]]) -> None:
    try:
        names = [entry.name for entry in os.scandir(directory)]
    except OSError as e:
        errors.append((directory, f"cannot list directory: {e.strerror}"))
        return
    prefix = directory if directory.endswith(b"/") else directory + b"/"
    for name in sorted(names):
        child = prefix + name
        if _is_dir(child, follow=False):
            _walk(child, images, errors)
        elif len(name) > 4 and name[-4:].lower() == b".png":
            images.append(child)


def expand_inputs(arguments: Sequence[bytes], stdin: BinaryIO) -> Tuple[List[bytes], List[Tuple[bytes, str]]]:
    """The images that nin-infer's INPUT arguments name, as path bytes in order, and
    ``(argument, reason)`` for each argument that could not be listed or named no image."""
    images: List[bytes] = []
    errors: List[Tuple[bytes, str]] = []
    for argument in arguments:
        if argument == b"-":
            paths = [line[:-1] if line.endswith(b"\r") else line for line in stdin.read().split(b"\n")]
            paths = [p for p in paths if p]
            if not paths:
                errors.append((argument, "no image found: stdin gave no path"))
            images += paths
        elif _is_dir(argument, follow=True):
            before, unlisted = len(images), len(errors)
            _walk(argument, images, errors)
            if len(images) == before and len(errors) == unlisted:
                errors.append((argument, "no image found: no *.png file below this directory"))
        else:
            images.append(argument)
    return images, errors


def _shown(path: bytes) -> str:
    """A path as nin-infer prints it (invalid UTF-8 replaced)."""
    return path.decode("utf-8", "replace")


# ---- heatmaps ----------------------------------------------------------------------------------

def encode_rgb_png(pixels: np.ndarray) -> bytes:
    """An 8-bit RGB PNG (no filtering, zlib level 6) of ``pixels``, uint8 H x W x 3."""
    height, width, _ = pixels.shape
    raw = np.zeros((height, 1 + width * 3), np.uint8)
    raw[:, 1:] = pixels.reshape(height, width * 3)
    parts = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in ((b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
                       (b"IDAT", zlib.compress(raw.tobytes(), 6)), (b"IEND", b"")):
        parts.append(struct.pack(">I", len(body)) + kind + body
                     + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return b"".join(parts)


def _make_directory(path: str) -> Optional[str]:
    """``mkdir -p path``; None when it is a directory now, else why not."""
    if os.path.exists(path) and not os.path.isdir(path):
        return "not a directory"
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        return f"cannot create directory {e.filename}: {e.strerror}"
    return None


class _HeatmapNames:
    """DIR/NAME.heatmap.png for each image, NAME its file name without ".png" ("-2", "-3", ...
    for a name met again), as nin-infer names them."""

    def __init__(self, directory: str) -> None:
        self.directory = os.fsencode(directory)
        self.used: dict = {}

    def path(self, image: bytes) -> bytes:
        """Where the heatmap of the image at ``image`` goes."""
        name = ([part for part in image.split(b"/") if part] or [b""])[-1]
        if len(name) > 4 and name[-4:].lower() == b".png":
            name = name[:-4]
        seen = self.used.get(name, 0) + 1
        self.used[name] = seen
        if seen > 1:
            name += f"-{seen}".encode()
        return self.directory.rstrip(b"/") + b"/" + name + b".heatmap.png"


# ---- output ------------------------------------------------------------------------------------

class _Writer:
    """Writes results in nin-infer's formats, each record flushed as soon as it is written."""

    def __init__(self, out: TextIO, fmt: str, labels: Sequence[str], top: int) -> None:
        self.out, self.fmt, self.labels, self.top = out, fmt, labels, top
        self.written = 0

    def _emit(self, text: str, newline: bool = True) -> None:
        self.out.write(text + ("\n" if newline else ""))
        self.out.flush()

    def begin(self) -> None:
        """What comes before the first result (the CSV header)."""
        if self.fmt == "csv":
            columns = ["image"]
            for rank in range(1, self.top + 1):
                columns += [f"label_{rank}", f"probability_{rank}"]
            self._emit(",".join(columns + ["error"]))

    def write(self, name: str, ranked: Optional[List[Tuple[int, float]]], error: Optional[str]) -> None:
        """One image's result: ``ranked`` ``[(class, probability), ...]``, or its ``error``."""
        labels = self.labels
        if self.fmt == "text":
            if ranked is not None:
                self._emit("\n".join([name] + [f"  {format_probability(p)}  {labels[c]}" for c, p in ranked]))
        elif self.fmt in ("json", "jsonl"):
            if ranked is not None:
                entries = ", ".join(f'{{"index": {c}, "label": {json_string(labels[c])}, '
                                    f'"probability": {swift_float(p)}}}' for c, p in ranked)
                record = f'{{"image": {json_string(name)}, "top": [{entries}]}}'
            else:
                record = f'{{"image": {json_string(name)}, "error": {json_string(error or "")}}}'
            if self.fmt == "jsonl":
                self._emit(record)
            else:
                self._emit(("[" if self.written == 0 else ",\n ") + record, newline=False)
        elif ranked is not None:
            fields = [csv_field(name)]
            for c, p in ranked:
                fields += [csv_field(labels[c]), swift_float(p)]
            self._emit(",".join(fields + [""]))
        else:
            self._emit(",".join([csv_field(name)] + [""] * (2 * self.top) + [csv_field(error or "")]))
        self.written += 1

    def end(self) -> None:
        """What comes after the last result (the end of the JSON array)."""
        if self.fmt == "json":
            self._emit("[]" if self.written == 0 else "]")


class _Progress:
    """nin-infer's progress line and summary on stderr (silent unless enabled)."""

    def __init__(self, err: TextIO, enabled: bool, total: int) -> None:
        self.err, self.enabled, self.total = err, enabled, total
        self.done = self.failed = 0
        self.start = time.monotonic()
        self.drawn = -1.0

    def advance(self, images: int, failures: int) -> None:
        """Counts ``images`` more done, ``failures`` of them failed; redraws at most 5 times a second."""
        self.done += images
        self.failed += failures
        now = time.monotonic()
        if not self.enabled or (now - self.drawn < 0.2 and self.done != self.total):
            return
        self.drawn = now
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = math.ceil((self.total - self.done) / rate) if rate > 0 else 0
        self.err.write(f"\r{self.done}/{self.total} images, {rate:.1f} images/s, ETA {eta} s\x1b[K")
        self.err.flush()

    def finish(self) -> None:
        """Replaces the progress line with the summary."""
        if self.enabled:
            elapsed = time.monotonic() - self.start
            rate = self.done / elapsed if elapsed > 0 else 0.0
            self.err.write(f"\r\x1b[K{PROG}: {self.done} images, {self.failed} failed, {elapsed:.1f} s, "
                           f"{rate:.1f} images/s\n")


# ---- the command -------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nin",
        description="Classify PNG images with an int8 Network-in-Network model "
                    "(nin-infer's inputs, options, output and exit status).",
        epilog="Exit status: 0 when every image was classified, 1 when some image failed or some "
               "input named no image, 2 for a bad command line or a model that cannot be loaded. "
               "Without --model, the default model is used: $NIN_MODEL, else models/"
               "fashion_classic.nin of the nin checkout, else the copy bundled in the package.")
    parser.add_argument("images", nargs="*", metavar="INPUT",
                        help="PNG files, directories (every *.png below them, sorted), or - to read "
                             "newline-separated paths from stdin")
    parser.add_argument("--model", metavar="PATH", help="the .nin model")
    parser.add_argument("--top", type=int, default=None, metavar="K",
                        help="how many classes to print per image, at most the model's class "
                             "count (default 5, or every class of a model with fewer)")
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--json", dest="format", action="store_const", const="json",
                         help="print the results as one JSON array")
    formats.add_argument("--jsonl", dest="format", action="store_const", const="jsonl",
                         help="print one JSON object per image, as soon as it is classified")
    formats.add_argument("--csv", dest="format", action="store_const", const="csv",
                         help="print a CSV header, then one row per image")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help=f"threads per inference, 1 to {MAX_THREADS} (default 1)")
    parser.add_argument("--batch", type=int, default=None, metavar="N",
                        help=f"images per run, 1 to {MAX_BATCH} (default 1 with one thread, else 8 per thread)")
    parser.add_argument("--progress", dest="progress", action="store_true", default=None,
                        help="show progress (done/total, images/s, ETA) and a summary on stderr")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="do not (the default when stderr is not a terminal)")
    parser.add_argument("--heatmap", metavar="DIR",
                        help="write each image's class heatmap to DIR/NAME.heatmap.png (DIR is created)")
    parser.add_argument("--class", dest="heatmap_class", metavar="NAME",
                        help="show class NAME's map in the heatmaps instead of the top class's")
    parser.add_argument("--plan", action="store_true", help="nin-infer only (refused here)")
    parser.add_argument("--profile", type=int, metavar="N", help="nin-infer only (refused here)")
    parser.add_argument("--version", action="store_true",
                        help="print the version, and the kernel family a model runs here")
    parser.add_argument("--list-kernels", action="store_true",
                        help="list the kernel families, best first: whether this CPU runs each (and "
                             "why not), and which one a model runs here (as JSON with --json)")
    return parser


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.plan or args.profile is not None:
        parser.error(f"{'--plan' if args.plan else '--profile'} needs the engine's internals, which the C "
                     f"API does not expose: run nin-infer for it")
    if args.list_kernels and args.format not in (None, "json"):
        parser.error("--list-kernels prints text, or JSON with --json")
    if args.version or args.list_kernels:
        return args
    if not args.images:
        parser.error("give at least one INPUT")
    if args.top is not None and args.top < 1:
        parser.error("--top must be at least 1")
    if not 1 <= args.threads <= MAX_THREADS:
        parser.error(f"--threads must be 1 to {MAX_THREADS}")
    if args.batch is not None and not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1 to {MAX_BATCH}")
    if args.heatmap_class is not None and args.heatmap is None:
        parser.error("--class needs --heatmap DIR")
    return args


def _version(out: TextIO) -> int:
    from . import library_version

    print(f"python -m nin {library_version()}", file=out)
    try:
        with Model() as model:
            print(f"kernels: {model.kernels}", file=out)
    except NinError:
        pass
    return 0


def _list_kernels(fmt: Optional[str], out: TextIO) -> int:
    """--list-kernels, in nin-infer's words (KernelList.swift)."""
    families = kernel_families()
    chosen = chosen_kernel_family(families)
    if fmt == "json":
        objects = [f'{{"name": {json_string(f.name)}, "supported": {"true" if f.supported else "false"}, '
                   f'"reason": {json_string(f.reason) if f.reason is not None else "null"}, '
                   f'"chosen": {"true" if f.name == chosen else "false"}, '
                   f'"cpu_flags": [{", ".join(json_string(flag) for flag in f.cpu_flags)}]}}' for f in families]
        print("[" + ", ".join(objects) + "]", file=out)
        return 0
    width = max(len(f.name) for f in families)
    for f in families:
        status = ("yes" + (" (chosen)" if f.name == chosen else "")) if f.supported else f"no: {f.reason}"
        print(f"{f.name.ljust(width)}  {status}", file=out)
    return 0


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[TextIO] = None,
         stderr: Optional[TextIO] = None, stdin: Optional[BinaryIO] = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 some image failed or some input
    named no image, 2 usage or model error; a usage error raises SystemExit(2) from argparse).
    ``stdin`` is the binary stream ``-`` reads (default ``sys.stdin.buffer``)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parse(argv)
    if args.version:
        return _version(out)
    if args.list_kernels:
        return _list_kernels(args.format, out)
    fmt = args.format or "text"
    batch = args.batch or (1 if args.threads == 1 else 8 * args.threads)

    try:
        model_path = args.model if args.model is not None else str(default_model_path())
    except NinError as exc:
        print(f"{PROG}: {exc.message}; pass --model PATH", file=err)
        return 2
    try:
        model = Model(model_path, threads=args.threads, max_batch=batch)
    except NinError as exc:
        print(f"{PROG}: {model_path}: {exc.message}", file=err)
        return 2
    with model:
        return _classify(args, model, fmt, batch, out, err, stdin)


def _classify(args: argparse.Namespace, model: Model, fmt: str, batch: int, out: TextIO, err: TextIO,
              stdin: Optional[BinaryIO]) -> int:
    if args.top is not None and args.top > model.class_count:
        print(f"{PROG}: --top {args.top} is more than the model's {model.class_count} classes", file=err)
        return 2
    k = args.top if args.top is not None else min(5, model.class_count)
    labels = model.labels
    if args.heatmap_class is not None and args.heatmap_class not in labels:
        print(f"{PROG}: --class {args.heatmap_class} is not a class of the model ({', '.join(labels)})", file=err)
        return 2
    names = None
    if args.heatmap is not None:
        problem = _make_directory(args.heatmap)
        if problem:
            print(f"{PROG}: --heatmap {args.heatmap}: {problem}", file=err)
            return 2
        names = _HeatmapNames(args.heatmap)

    source = stdin if stdin is not None else sys.stdin.buffer
    images, listing = expand_inputs([os.fsencode(a) for a in args.images], source)
    for path, reason in listing:
        print(f"{PROG}: {_shown(path)}: {reason}", file=err)
    writer = _Writer(out, fmt, labels, k)
    progress = _Progress(err, err.isatty() if args.progress is None else args.progress, len(images))
    writer.begin()
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        rows, failures = model.predict([os.fsdecode(p) for p in chunk], errors="return")
        failed = 0
        for i, path in enumerate(chunk):
            error = failures[i].message if i in failures else None
            ranked = None
            if error is None:
                order = np.argsort(-rows[i], kind="stable")[:k]          # ties: lower index first
                ranked = [(int(c), float(rows[i][c])) for c in order]
                if names is not None:
                    try:
                        pixels = model.heatmap(os.fsdecode(path), cls=args.heatmap_class)
                        with open(names.path(path), "wb") as f:
                            f.write(encode_rgb_png(pixels))
                    except (NinError, OSError) as exc:
                        error, ranked = getattr(exc, "message", None) or str(exc), None
            if error is not None:
                failed += 1
                print(f"{PROG}: {_shown(path)}: {error}", file=err)
            writer.write(_shown(path), ranked, error)
        progress.advance(len(chunk), failed)
    writer.end()
    progress.finish()
    out.flush()
    return 1 if progress.failed or listing else 0
