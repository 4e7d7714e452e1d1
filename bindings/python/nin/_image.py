"""PNG decoding through the runtime (``nin_image_load_png`` / ``nin_image_free``)."""

from __future__ import annotations

import ctypes
import os
from typing import Union

import numpy as np

from ._errors import InvalidArgumentError
from ._lib import NinImage, check, get_lib

__all__ = ["load_png", "PathLike", "encode_path"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


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


def load_png(path: PathLike) -> np.ndarray:
    """Decodes the PNG file at ``path`` with the runtime's decoder.

    Any color type and bit depth is accepted (interlaced or not): palettes expand to RGB/RGBA,
    16-bit samples are rounded to 8 bits. The result is a new ``uint8`` array of shape
    ``(height, width, channels)`` with the file's channels: 1 gray, 2 gray+alpha, 3 RGB,
    4 RGBA (alpha is kept; the model ignores it).

    Raises:
        BadImageError: the file is missing, unreadable, corrupt, not a PNG or too large.
        InvalidArgumentError: ``path`` is not a usable path.
    """
    raw = encode_path(path)
    lib = get_lib()
    image = NinImage()
    check(lib.nin_image_load_png(raw, ctypes.byref(image)))
    try:
        height, width, channels = int(image.height), int(image.width), int(image.channels)
        stride = int(image.stride) or width * channels
        flat = np.ctypeslib.as_array(image.pixels, shape=(height * stride,))
        rows = flat.reshape(height, stride)[:, : width * channels]
        return np.array(rows, dtype=np.uint8, copy=True).reshape(height, width, channels)
    finally:
        lib.nin_image_free(ctypes.byref(image))
