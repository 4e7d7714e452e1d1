"""The kernel families of the loaded libnin.so: ``nin.kernel_families()``.

The same list, in the same order, as ``nin_kernel_family_count`` / ``nin_kernel_family_name`` /
``nin_kernel_family_supported`` / ``nin_kernel_family_unavailable_reason`` /
``nin_kernel_family_cpu_flags`` of ``include/nin.h``
and ``nin-infer --list-kernels``: the build's families, best first, ``portable`` and
``generic`` (the scalar reference kernels) last.
"""

from __future__ import annotations

import os
from typing import List, NamedTuple, Optional, Tuple

from ._lib import get_lib


class KernelFamily(NamedTuple):
    """One kernel family of the library."""

    #: Its name, the NIN_ISA value and what :attr:`nin.Model.kernels` reports ("avx2", ...).
    name: str
    #: Whether this CPU (and OS) runs it.
    supported: bool
    #: Why not ("CPU lacks avx512f/avx512bw/avx512vl/avx512_vnni"); None when it runs.
    reason: Optional[str]
    #: The CPU flags it needs, as /proc/cpuinfo names them (("avx2", "fma")); () for a family
    #: every CPU of the library's architecture runs.
    cpu_flags: Tuple[str, ...] = ()


def kernel_families() -> List[KernelFamily]:
    """The library's kernel families in the order a model load prefers them (a load takes the
    first supported one unless the NIN_ISA environment variable names another)."""
    lib = get_lib()
    families = []
    for index in range(lib.nin_kernel_family_count()):
        reason = lib.nin_kernel_family_unavailable_reason(index)
        families.append(KernelFamily(name=lib.nin_kernel_family_name(index).decode("ascii"),
                                     supported=lib.nin_kernel_family_supported(index) == 1,
                                     reason=reason.decode("utf-8", "replace") if reason is not None else None,
                                     cpu_flags=tuple(lib.nin_kernel_family_cpu_flags(index).decode("ascii").split())))
    return families


def chosen_kernel_family(families: Optional[List[KernelFamily]] = None) -> str:
    """The family a model loaded now would run: the first supported one at or after the family
    the NIN_ISA environment variable names (from the start when it names none of the list)."""
    families = families if families is not None else kernel_families()
    names = [family.name for family in families]
    requested = os.environ.get("NIN_ISA")
    start = names.index(requested) if requested in names else 0
    return next(family.name for family in families[start:] if family.supported)
