"""PNG decoding through the runtime (``nin_image_load_png``, ``nin_image_load_png_memory``,
``nin_image_free``): a PNG is a file path (``str`` or ``os.PathLike``) or the file's bytes
(``bytes``, ``bytearray``, ``memoryview``)."""

from __future__ import annotations

import ctypes
import os
from typing import Union

import numpy as np

from ._errors import BadImageError, InvalidArgumentError
from ._lib import NinImage, check, get_lib

__all__ = ["load_png", "PathLike", "PNGSource", "encode_path", "is_png_source"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: What :func:`load_png` takes: a path (``str``, ``os.PathLike``) or PNG data (bytes-like).
PNGSource = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes, bytearray, memoryview]

_PNG_DATA = (bytes, bytearray, memoryview)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_png_source(x: object) -> bool:
    """True when ``x`` is something :func:`load_png` reads: a path or PNG data."""
    return isinstance(x, (str, os.PathLike) + _PNG_DATA)


def encode_path(path: PathLike, what: str = "path") -> bytes:
    """``path`` as the bytes handed to C, refusing what C cannot represent."""
    try:
        raw = os.fsencode(path)
    except TypeError:
        raise InvalidArgumentError(
            f"{what} must be a str, bytes or os.PathLike, not {type(path).__name__}") from None
    if b"\0" in raw:
        raise InvalidArgumentError(f"{what} {path!r} contains a NUL character")
    if not raw:
        raise InvalidArgumentError(f"{what} is empty")
    return raw


def load_png(source: PNGSource) -> np.ndarray:
    """Decodes a PNG with the runtime's decoder: ``source`` is the path of a PNG file
    (``str`` or ``os.PathLike``) or the bytes of one (``bytes``, ``bytearray``, ``memoryview``).

    Any color type and bit depth is accepted (interlaced or not). The pixels are the stored
    samples, as Pillow reads them (no gamma or color-profile conversion): palettes expand to
    RGB/RGBA, a ``tRNS`` chunk adds an alpha channel, bit depths below 8 scale to 8 bits and
    16-bit samples round to the nearest 8-bit value (docs/PREPROCESSING.md). The result is a
    new ``uint8`` array of shape ``(height, width, channels)`` with the file's channels:
    1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (alpha is kept; the model ignores it).

    Raises:
        BadImageError: the data or file is corrupt, truncated, not a PNG or too large (the
            message never repeats the data).
        NinIOError: the file cannot be opened.
        InvalidArgumentError: ``source`` is neither a path nor bytes-like, or is empty.
    """
    lib = get_lib()
    image = NinImage()
    if isinstance(source, _PNG_DATA):
        data = _png_data(source)
        check(lib.nin_image_load_png_memory(data.ctypes.data, data.size, ctypes.byref(image)))
    elif isinstance(source, (str, os.PathLike)):
        check(lib.nin_image_load_png(encode_path(source), ctypes.byref(image)))
    else:
        raise InvalidArgumentError(
            f"a PNG is a path (str or os.PathLike) or its bytes (bytes, bytearray, memoryview), "
            f"not {type(source).__name__}")
    try:
        height, width, channels = int(image.height), int(image.width), int(image.channels)
        stride = int(image.stride) or width * channels
        flat = np.ctypeslib.as_array(image.pixels, shape=(height * stride,))
        rows = flat.reshape(height, stride)[:, : width * channels]
        return np.array(rows, dtype=np.uint8, copy=True).reshape(height, width, channels)
    finally:
        lib.nin_image_free(ctypes.byref(image))


def _png_data(source: Union[bytes, bytearray, memoryview]) -> np.ndarray:
    """The bytes of ``source`` as a uint8 array (no copy when contiguous), checked enough that
    an error can say what is wrong without repeating the data."""
    try:
        data = np.frombuffer(source, dtype=np.uint8)
    except (ValueError, TypeError, BufferError):  # a non-contiguous memoryview
        data = np.frombuffer(memoryview(source).tobytes(), dtype=np.uint8)
    if data.size == 0:
        raise InvalidArgumentError("PNG data is empty (0 bytes)")
    if data[:8].tobytes() != _PNG_SIGNATURE[:data.size]:
        raise BadImageError(
            f"PNG data ({data.size} bytes) does not start with the PNG signature; bytes are read as "
            f"the contents of a PNG file (pass a file path as str or os.PathLike)")
    return data
