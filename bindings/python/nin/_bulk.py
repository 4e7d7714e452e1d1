"""Classifying many files lazily: :func:`classify_files`."""

from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator, List, NamedTuple, Optional, Tuple

import numpy as np

from ._errors import InvalidArgumentError, NinError
from ._image import PNGSource
from ._model import Model

__all__ = ["FileResult", "classify_files"]


class FileResult(NamedTuple):
    """One file's outcome: its ``top`` classes as ``[(label, probability), ...]``, best first,
    or, when it could not be classified, an empty ``top`` and the ``error``."""

    path: PNGSource
    top: List[Tuple[str, float]]
    error: Optional[NinError]


def classify_files(paths: Iterable[PNGSource], *, model: Optional[Model] = None, top: int = 5,
                   batch_size: int = 64, threads: int = 1) -> Iterator[FileResult]:
    """Classifies PNG files (paths or bytes) lazily, in order, ``batch_size`` at a time: the
    next batch is read from ``paths`` only when the caller has consumed the previous results,
    so a generator of millions of paths runs in constant memory. A file that cannot be read
    or decoded gives a FileResult with its ``error`` and the others go on. ``paths`` that
    give no file at all raise InvalidArgumentError ("no image found"), as ``nin-infer`` fails
    on a folder without a PNG: a run that did nothing says so.

    Args:
        paths: PNG paths (``str``/``os.PathLike``) or PNG bytes, any iterable.
        model: the Model to use; None loads the default model (with ``threads`` and
            ``max_batch=batch_size``) for this call and closes it at the end.
        top: classes per file, 1..class_count (ranked as nin-infer and ``classify`` rank).
        batch_size: files per run.
        threads: threads per run when ``model`` is None.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgumentError(f"batch_size is {batch_size!r}, expected an int >= 1")
    own = model is None
    m = Model(threads=threads, max_batch=batch_size) if own else model
    try:
        classes = m.class_count
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= classes:
            raise InvalidArgumentError(f"top is {top!r}, expected an int from 1 to {classes}")
        labels = m.labels
        iterator = iter(paths)
        seen = 0
        while True:
            chunk = list(islice(iterator, batch_size))
            if not chunk:
                if seen == 0:
                    raise InvalidArgumentError("no image found: paths gave no file to classify "
                                               "(an empty list, or a search that matched nothing?)")
                return
            seen += len(chunk)
            rows, failures = m.predict(chunk, errors="return")
            for i, path in enumerate(chunk):
                if i in failures:
                    yield FileResult(path, [], failures[i])
                    continue
                order = np.argsort(-rows[i], kind="stable")[:top]   # ties: lower index first
                yield FileResult(path, [(labels[c], float(rows[i][c])) for c in order], None)
    finally:
        if own:
            m.close()
