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
    "status_names",
    "error_for_status",
]

#: NIN_OK: nin.h defines success as 0 (its only promise about the values).
NIN_OK = 0

_names: Optional[Dict[int, str]] = None


def status_names() -> Dict[int, str]:
    """``nin_status`` value -> constant name ("NIN_ERROR_IO"), as the loaded library spells
    them (``nin_status_string``): the header owns the codes, Python keeps no copy of them."""
    global _names
    if _names is None:
        from ._lib import get_lib  # here, not at import: _lib imports this module

        lib = get_lib()
        found: Dict[int, str] = {}
        for value in range(256):
            name = lib.nin_status_string(value).decode("ascii")
            if name != "unknown status":
                found[value] = name
        _names = found
    return _names


def _status_value(name: str) -> Optional[int]:
    try:
        return next(value for value, known in status_names().items() if known == name)
    except (StopIteration, NinLibraryError):
        return None


class NinError(Exception):
    """Base class of every error raised by the nin package.

    Attributes:
        message: the sentence describing the problem (the runtime's ``nin_last_error()`` when
            the error came from the C library).
        status: the ``nin_status`` value the C function returned, or ``None`` when the problem
            was detected in Python before calling the library.
    """

    #: The name of the nin_status this class stands for (None for Python-side-only classes).
    status_constant: Optional[str] = None

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message: str = message
        self._status = status

    @property
    def status(self) -> Optional[int]:
        """The ``nin_status`` value: the one the C function returned, else the value of this
        class's status (a problem found in Python before calling the library), or None."""
        if self._status is not None:
            return self._status
        return _status_value(self.status_constant) if self.status_constant else None

    @property
    def status_name(self) -> Optional[str]:
        """The C name of :attr:`status` (e.g. ``"NIN_ERROR_BAD_MODEL"``), or None."""
        if self._status is None:
            return self.status_constant
        try:
            return status_names().get(self._status, "unknown status")
        except NinLibraryError:
            return None

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(NinError, ValueError):
    """NIN_ERROR_INVALID_ARGUMENT: a wrong dtype, shape, size, index, or out-of-range value."""

    status_constant = "NIN_ERROR_INVALID_ARGUMENT"


class NinIOError(NinError, OSError):
    """NIN_ERROR_IO: a file could not be opened, read or mapped."""

    status_constant = "NIN_ERROR_IO"

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        NinError.__init__(self, message, status)

    def __str__(self) -> str:
        return self.message


class BadModelError(NinError, ValueError):
    """NIN_ERROR_BAD_MODEL: the model file breaks a rule of docs/FORMAT.md."""

    status_constant = "NIN_ERROR_BAD_MODEL"


class BadImageError(NinError, ValueError):
    """NIN_ERROR_BAD_IMAGE: the image is missing, corrupt, unsupported or too large."""

    status_constant = "NIN_ERROR_BAD_IMAGE"


class BufferTooSmallError(NinError):
    """NIN_ERROR_BUFFER_TOO_SMALL: a buffer handed to the runtime is smaller than needed."""

    status_constant = "NIN_ERROR_BUFFER_TOO_SMALL"


class OutOfMemoryError(NinError, MemoryError):
    """NIN_ERROR_OUT_OF_MEMORY: an allocation failed (model load or context creation)."""

    status_constant = "NIN_ERROR_OUT_OF_MEMORY"


class StateError(NinError):
    """NIN_ERROR_STATE: the call is valid but not now (results before a run, a closed model)."""

    status_constant = "NIN_ERROR_STATE"


class NinLibraryError(NinError):
    """libnin.so could not be used (not found, not loadable, missing symbols, wrong version)."""


class NinLibraryNotFound(NinLibraryError):
    """libnin.so was not found in any of the places searched; the message lists them."""


class NinVersionMismatch(NinLibraryError):
    """The loaded libnin.so reports a version other than the header this package was made for."""


_BY_NAME: Dict[str, Type[NinError]] = {
    cls.status_constant: cls
    for cls in (InvalidArgumentError, NinIOError, BadModelError, BadImageError, BufferTooSmallError,
                OutOfMemoryError, StateError)
}


def error_for_status(status: int, message: str) -> NinError:
    """The exception for a non-OK ``nin_status`` (a plain NinError for unknown values)."""
    name = status_names().get(int(status), "unknown status")
    cls = _BY_NAME.get(name, NinError)
    if not message:
        message = f"{name} (no message from the runtime)"
    return cls(message, int(status))
