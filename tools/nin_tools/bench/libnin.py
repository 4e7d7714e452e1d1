"""libnin through the nin Python package, for the agreement figures only (timing goes through
bench/nin_bench.c, nin_tools.bench.nin_bench)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nin_tools.runtime import import_runtime


class Nin:
    """libnin through the nin Python package (bindings/python): prepared batches -> logits."""

    def __init__(self, lib_path: Path):
        os.environ["NIN_LIBRARY"] = str(lib_path)     # this build, not an installed one
        nin = import_runtime()                        # PYTHONPATH=bindings/python (make bench)
        self.nin = nin
        self.version = nin.library_version()

    def logits(self, model_path: Path, x_nhwc_u8: np.ndarray, batch: int = 50,
               threads: int = 2) -> np.ndarray:
        with self.nin.Model(model_path, threads=threads, max_batch=batch) as model:
            return model.logits(np.ascontiguousarray(x_nhwc_u8, dtype=np.uint8), prepared=True)
