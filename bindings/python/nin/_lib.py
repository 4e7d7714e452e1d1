"""Locating, loading and declaring libnin.so (the C API of include/nin.h) with ctypes.

Search order for the shared library (the first hit wins):

1. ``$NIN_LIBRARY``: an explicit path. When it is set it must point at a loadable library;
   nothing else is tried.
2. ``nin/libnin.so`` inside this package: copied there at build time by ``setup.py``
   (``pip install ./bindings/python`` after ``swift build -c release ... --product nin``).
3. ``<repo>/.build/release/libnin.so``: the checkout's release build, found relative to this
   source file (``bindings/python/nin/_lib.py`` -> ``<repo>``); this is what an editable
   install (``pip install -e``) or a plain ``PYTHONPATH=bindings/python`` uses.

When none exists, :class:`~nin.NinLibraryNotFound` lists every place looked at.

Every function of nin.h gets its ``argtypes``/``restype`` here, and ``nin_version()`` is
checked against :data:`HEADER_VERSION` (``NIN_VERSION_STRING`` of the header these
declarations were written from).
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import (POINTER, Structure, c_char_p, c_float, c_int, c_size_t, c_uint8,
                    c_void_p)
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ._errors import (NIN_OK, NinLibraryError, NinLibraryNotFound, NinVersionMismatch,
                      error_for_status)

__all__ = [
    "HEADER_VERSION",
    "LIBRARY_ENV",
    "NinContextParams",
    "NinImage",
    "SIGNATURES",
    "candidate_paths",
    "check",
    "get_lib",
    "library_path",
    "repo_root",
]

#: NIN_VERSION_STRING of the include/nin.h these declarations match.
HEADER_VERSION = "0.1.0"
#: Environment variable naming the shared library explicitly.
LIBRARY_ENV = "NIN_LIBRARY"
LIBRARY_NAME = "libnin.so"

_PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Optional[Path]:
    """The nin checkout this package source lives in (``bindings/python/nin`` -> root), or None
    when the package is installed outside a checkout."""
    root = _PACKAGE_DIR.parent.parent.parent
    if (root / "include" / "nin.h").is_file() or (root / "Package.swift").is_file():
        return root
    return None


# ---- C types -------------------------------------------------------------------------------

class NinContextParams(Structure):
    """``nin_context_params``: threads, batch_size, arena, arena_bytes (in header order)."""

    _fields_ = [
        ("threads", c_int),
        ("batch_size", c_int),
        ("arena", c_void_p),
        ("arena_bytes", c_size_t),
    ]


class NinImage(Structure):
    """``nin_image``: interleaved 8-bit pixels; ``stride`` 0 means ``width * channels``."""

    _fields_ = [
        ("pixels", POINTER(c_uint8)),
        ("width", c_int),
        ("height", c_int),
        ("channels", c_int),
        ("stride", c_size_t),
    ]


_status = c_int          # enum nin_status
_model_p = c_void_p      # nin_model *  (opaque)
_context_p = c_void_p    # nin_context * (opaque)
_int_p = POINTER(c_int)
_float_p = POINTER(c_float)

#: name -> (restype, argtypes) for every function declared in include/nin.h.
SIGNATURES: Dict[str, Tuple[object, Sequence[object]]] = {
    # Version and status
    "nin_version": (c_char_p, []),
    "nin_status_string": (c_char_p, [_status]),
    "nin_last_error": (c_char_p, []),
    # Models
    "nin_default_model_path": (_status, [c_char_p, c_size_t]),
    "nin_model_load_file": (_status, [c_char_p, POINTER(_model_p)]),
    "nin_model_load_memory": (_status, [c_void_p, c_size_t, POINTER(_model_p)]),
    "nin_model_free": (None, [_model_p]),
    "nin_model_input_shape": (_status, [_model_p, _int_p, _int_p, _int_p]),
    "nin_model_class_count": (c_int, [_model_p]),
    "nin_model_label": (c_char_p, [_model_p, c_int]),
    "nin_model_metadata": (c_char_p, [_model_p, c_char_p]),
    "nin_model_map_shape": (_status, [_model_p, _int_p, _int_p, _int_p]),
    "nin_model_kernels": (c_char_p, [_model_p]),
    "nin_model_weight_memory": (_status, [_model_p, POINTER(c_size_t), POINTER(c_size_t)]),
    # Kernel families
    "nin_kernel_family_count": (c_int, []),
    "nin_kernel_family_name": (c_char_p, [c_int]),
    "nin_kernel_family_supported": (c_int, [c_int]),
    "nin_kernel_family_unavailable_reason": (c_char_p, [c_int]),
    "nin_kernel_family_cpu_flags": (c_char_p, [c_int]),
    # Contexts
    "nin_context_default_params": (NinContextParams, []),
    "nin_model_arena_bytes": (c_size_t, [_model_p, POINTER(NinContextParams)]),
    "nin_context_create": (_status, [_model_p, POINTER(NinContextParams), POINTER(_context_p)]),
    "nin_context_free": (None, [_context_p]),
    # Images
    "nin_image_load_png": (_status, [c_char_p, POINTER(NinImage)]),
    "nin_image_load_png_memory": (_status, [c_void_p, c_size_t, POINTER(NinImage)]),
    "nin_image_free": (None, [POINTER(NinImage)]),
    # Running
    "nin_run_images": (_status, [_context_p, POINTER(NinImage), c_int]),
    "nin_run_prepared_u8": (_status, [_context_p, POINTER(c_uint8), c_size_t, c_int]),
    "nin_run_prepared_f32": (_status, [_context_p, _float_p, c_size_t, c_int]),
    "nin_context_logits": (_status, [_context_p, c_int, _float_p, c_size_t]),
    "nin_context_probabilities": (_status, [_context_p, c_int, _float_p, c_size_t]),
    "nin_context_top_k": (_status, [_context_p, c_int, c_int, _int_p, _float_p]),
    "nin_context_confidence_maps": (_status, [_context_p, c_int, _float_p, c_size_t]),
    "nin_context_result_count": (c_int, [_context_p]),
    # Heatmaps
    "nin_context_heatmap": (_status, [_context_p, c_int, c_int, POINTER(NinImage), POINTER(NinImage)]),
}


# ---- Finding and loading -------------------------------------------------------------------

def candidate_paths() -> List[Tuple[str, Path]]:
    """The places searched for libnin.so, in order, as (description, path)."""
    found: List[Tuple[str, Path]] = []
    env = os.environ.get(LIBRARY_ENV)
    if env:
        found.append((f"${LIBRARY_ENV}", Path(env)))
        return found
    found.append(("bundled in the package", _PACKAGE_DIR / LIBRARY_NAME))
    root = _PACKAGE_DIR.parent.parent.parent
    found.append(("the checkout's release build", root / ".build" / "release" / LIBRARY_NAME))
    return found


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[Path] = None


def _declare(lib: ctypes.CDLL, path: Path) -> None:
    missing = [name for name in SIGNATURES if not hasattr(lib, name)]
    if missing:
        raise NinLibraryError(f"{path} does not export {', '.join(missing)}: it is not the "
                              f"libnin.so of include/nin.h {HEADER_VERSION}")
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)


#: Libraries a wheel carries in nin/vendor/ (setup.py), in load order (libpng needs libz).
_VENDORED = ("libz.so.1", "libpng16.so.16")


def _load_vendored(directory: Path) -> None:
    """Loads the libraries vendored beside a bundled libnin.so (``vendor/``) globally, so that
    libnin.so's dependencies on their names resolve to them instead of the system's."""
    for name in _VENDORED:
        path = directory / "vendor" / name
        if path.is_file():
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)


def _load() -> Tuple[ctypes.CDLL, Path]:
    looked: List[str] = []
    for where, path in candidate_paths():
        if not path.is_file():
            looked.append(f"{path} ({where}: no such file)")
            continue
        try:
            _load_vendored(path.resolve().parent)
            lib = ctypes.CDLL(str(path.resolve()))  # absolute: never a dlopen search
        except OSError as exc:
            raise NinLibraryError(f"cannot load {path} ({where}): {exc}") from exc
        _declare(lib, path)
        version = lib.nin_version().decode("utf-8", "replace")
        if version != HEADER_VERSION:
            raise NinVersionMismatch(
                f"{path} is libnin {version}, but this package was written for nin.h "
                f"{HEADER_VERSION}; rebuild the library or reinstall the package")
        return lib, path
    raise NinLibraryNotFound(
        "libnin.so not found; looked at: " + "; ".join(looked) +
        f". Build it with `swift build -c release -Xswiftc -static-stdlib --product nin` "
        f"at the repository root, or set ${LIBRARY_ENV} to its path")


def get_lib() -> ctypes.CDLL:
    """The loaded, declared and version-checked library (loaded once per process)."""
    global _lib, _lib_path
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is None:
            _lib, _lib_path = _load()
        return _lib


def library_path() -> Path:
    """The path libnin.so was loaded from (loading it if needed)."""
    get_lib()
    assert _lib_path is not None
    return _lib_path


def last_error() -> str:
    """This thread's ``nin_last_error()`` message."""
    return get_lib().nin_last_error().decode("utf-8", "replace")


def check(status: int) -> None:
    """Raises the NinError subclass for ``status`` (with this thread's last error) unless OK."""
    if status != NIN_OK:
        raise error_for_status(status, last_error())
