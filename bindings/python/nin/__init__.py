"""nin: Python bindings of the nin int8 inference runtime for Network-in-Network CNNs.

The bindings call ``libnin.so`` (the C API of ``include/nin.h``) through ctypes and depend only
on numpy::

    import nin

    with nin.Model() as model:                      # the shipped default model
        print(model.classify("examples/images/test_00000_ankle_boot.png", top=3))
        probabilities = model.predict(images_uint8)  # [N, classes]

See :class:`Model` for the accepted inputs, :func:`load_png` for PNG decoding, and
``python -m nin --help`` for the command line (the same output as ``nin-infer``).
"""

from __future__ import annotations

from ._errors import (BadImageError, BadModelError, BufferTooSmallError, InvalidArgumentError,
                      NinError, NinIOError, NinLibraryError, NinLibraryNotFound,
                      NinVersionMismatch, OutOfMemoryError, StateError)
from ._image import load_png
from ._kernels import KernelFamily, kernel_families
from ._lib import HEADER_VERSION, library_path
from ._model import DEFAULT_MAX_BATCH, Model, default_model_path
from ._bulk import FileResult, classify_files

__version__ = HEADER_VERSION

__all__ = [
    "Model",
    "classify_files",
    "FileResult",
    "load_png",
    "kernel_families",
    "KernelFamily",
    "default_model_path",
    "library_path",
    "library_version",
    "DEFAULT_MAX_BATCH",
    "NinError",
    "InvalidArgumentError",
    "NinIOError",
    "BadModelError",
    "BadImageError",
    "BufferTooSmallError",
    "OutOfMemoryError",
    "StateError",
    "NinLibraryError",
    "NinLibraryNotFound",
    "NinVersionMismatch",
    "__version__",
]


def library_version() -> str:
    """``nin_version()`` of the loaded libnin.so (equal to ``nin.__version__``, checked at load)."""
    from ._lib import get_lib

    return get_lib().nin_version().decode("utf-8", "replace")
