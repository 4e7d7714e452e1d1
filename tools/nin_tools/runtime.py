"""The runtime binding (the ``nin`` package of bindings/python) for the tools that run nin.

The tools never edit the import path: ``nin`` is whatever ``import nin`` finds, an installed
package or this checkout's ``bindings/python`` on ``PYTHONPATH`` (the Makefile, the
``tools/nin-convert`` launcher and tools/make_models.sh put it there). This module only turns
its absence into a one-line error that says how to fix it.
"""

from __future__ import annotations

import importlib

__all__ = ["RuntimeMissing", "import_runtime", "HOW_TO_GET_IT"]

#: How to make ``import nin`` work from a checkout.
HOW_TO_GET_IT = ("put bindings/python on PYTHONPATH (PYTHONPATH=bindings/python, as the Makefile "
                 "does) or install it (pip install ./bindings/python)")


class RuntimeMissing(ImportError):
    """``import nin`` failed; the message says how to make it work."""


def import_runtime():
    """The ``nin`` module, or :class:`RuntimeMissing` naming the fix."""
    try:
        return importlib.import_module("nin")
    except ImportError as e:
        raise RuntimeMissing(f"the nin Python package is not importable ({e}): "
                             f"{HOW_TO_GET_IT}") from None
