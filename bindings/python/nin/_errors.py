"""Exceptions of the nin package and their mapping from the C API's ``nin_status``.

Every failure of the runtime surfaces as a :class:`NinError` subclass chosen by the status the
C function returned; its message is the runtime's ``nin_last_error()`` sentence. Problems the
Python layer detects before calling into the library (wrong dtype, ndim or shape, a closed
model, ``top`` out of range) raise the same classes with a message naming the problem.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

__all__ = [
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
    "STATUS_NAMES",
    "error_for_status",
]

# The values of ``enum nin_status`` in include/nin.h.
NIN_OK = 0
NIN_ERROR_INVALID_ARGUMENT = 1
NIN_ERROR_IO = 2
NIN_ERROR_BAD_MODEL = 3
NIN_ERROR_BAD_IMAGE = 4
NIN_ERROR_BUFFER_TOO_SMALL = 5
NIN_ERROR_OUT_OF_MEMORY = 6
NIN_ERROR_STATE = 7

STATUS_NAMES: Dict[int, str] = {
    NIN_OK: "NIN_OK",
    NIN_ERROR_INVALID_ARGUMENT: "NIN_ERROR_INVALID_ARGUMENT",
    NIN_ERROR_IO: "NIN_ERROR_IO",
    NIN_ERROR_BAD_MODEL: "NIN_ERROR_BAD_MODEL",
    NIN_ERROR_BAD_IMAGE: "NIN_ERROR_BAD_IMAGE",
    NIN_ERROR_BUFFER_TOO_SMALL: "NIN_ERROR_BUFFER_TOO_SMALL",
    NIN_ERROR_OUT_OF_MEMORY: "NIN_ERROR_OUT_OF_MEMORY",
    NIN_ERROR_STATE: "NIN_ERROR_STATE",
}


class NinError(Exception):
    """Base class of every error raised by the nin package.

    Attributes:
        message: the sentence describing the problem (the runtime's ``nin_last_error()`` when
            the error came from the C library).
        status: the ``nin_status`` value the C function returned, or ``None`` when the problem
            was detected in Python before calling the library.
    """

    #: The nin_status this class stands for (None for Python-side-only classes).
    default_status: Optional[int] = None

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.status: Optional[int] = status if status is not None else self.default_status

    @property
    def status_name(self) -> Optional[str]:
        """The C name of :attr:`status` (e.g. ``"NIN_ERROR_BAD_MODEL"``), or None."""
        if self.status is None:
            return None
        return STATUS_NAMES.get(self.status, "unknown status")

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(NinError, ValueError):
    """NIN_ERROR_INVALID_ARGUMENT: a wrong dtype, shape, size, index, or out-of-range value."""

    default_status = NIN_ERROR_INVALID_ARGUMENT


class NinIOError(NinError, OSError):
    """NIN_ERROR_IO: a file could not be opened, read or mapped."""

    default_status = NIN_ERROR_IO

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        NinError.__init__(self, message, status)

    def __str__(self) -> str:
        return self.message


class BadModelError(NinError, ValueError):
    """NIN_ERROR_BAD_MODEL: the model file breaks a rule of docs/FORMAT.md."""

    default_status = NIN_ERROR_BAD_MODEL


class BadImageError(NinError, ValueError):
    """NIN_ERROR_BAD_IMAGE: the image is missing, corrupt, unsupported or too large."""

    default_status = NIN_ERROR_BAD_IMAGE


class BufferTooSmallError(NinError):
    """NIN_ERROR_BUFFER_TOO_SMALL: a buffer handed to the runtime is smaller than needed."""

    default_status = NIN_ERROR_BUFFER_TOO_SMALL


class OutOfMemoryError(NinError, MemoryError):
    """NIN_ERROR_OUT_OF_MEMORY: an allocation failed (model load or context creation)."""

    default_status = NIN_ERROR_OUT_OF_MEMORY


class StateError(NinError):
    """NIN_ERROR_STATE: the call is valid but not now (results before a run, a closed model)."""

    default_status = NIN_ERROR_STATE


class NinLibraryError(NinError):
    """libnin.so could not be used (not found, not loadable, missing symbols, wrong version)."""


class NinLibraryNotFound(NinLibraryError):
    """libnin.so was not found in any of the places searched; the message lists them."""


class NinVersionMismatch(NinLibraryError):
    """The loaded libnin.so reports a version other than the header this package was made for."""


_BY_STATUS: Dict[int, Type[NinError]] = {
    NIN_ERROR_INVALID_ARGUMENT: InvalidArgumentError,
    NIN_ERROR_IO: NinIOError,
    NIN_ERROR_BAD_MODEL: BadModelError,
    NIN_ERROR_BAD_IMAGE: BadImageError,
    NIN_ERROR_BUFFER_TOO_SMALL: BufferTooSmallError,
    NIN_ERROR_OUT_OF_MEMORY: OutOfMemoryError,
    NIN_ERROR_STATE: StateError,
}


def error_for_status(status: int, message: str) -> NinError:
    """The exception for a non-OK ``nin_status`` (a plain NinError for unknown values)."""
    cls = _BY_STATUS.get(int(status), NinError)
    if not message:
        message = f"{STATUS_NAMES.get(int(status), 'unknown status')} (no message from the runtime)"
    return cls(message, int(status))
