"""Build hook of the nin Python package (the metadata lives in pyproject.toml).

At build time (``pip install ./bindings/python``, ``python -m build``, ``setup.py bdist_wheel``)
``build_py`` copies, when they exist relative to the repository this file belongs to:

- ``<repo>/.build/release/libnin.so``  ->  ``nin/libnin.so``, stripped (build it first with
  ``swift build -c release -Xswiftc -static-stdlib --product nin``; ``$NIN_LIBRARY`` at build
  time overrides the source path);
- ``<repo>/models/fashion_classic.nin`` (the default model; ``$NIN_MODEL`` at build time
  overrides its path), ``fashion_small.nin`` and ``MODEL_CARD.md`` -> ``nin/models/``.

- the shared libraries libnin.so needs beyond the C runtime (libpng16.so.16 and libz.so.1, as
  the build machine's loader resolves them) -> ``nin/vendor/``; ``nin._lib`` loads them first,
  so an installed package does not need the system's libpng.

The copies go into the build directory only (the source tree stays clean), so an installed
package is self-contained: ``nin._lib`` finds the bundled library and ``nin.Model()`` the
bundled default model. When a library is bundled the wheel is tagged
``py3-none-manylinux_2_<N>_<arch>``: pure-Python code (ctypes, any CPython 3), no Python ABI,
and glibc 2.<N> or newer, N being the newest GLIBC_2.N symbol version libnin.so and the vendored
libraries use (libstdc++ and libgcc_s, which manylinux systems have, are not vendored).
An editable install (``pip install -e``) copies nothing: it finds ``<repo>/.build/release``
and ``<repo>/models`` directly from the source tree.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:  # no wheel support at all: an sdist or a plain install
        bdist_wheel = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _library_source() -> Path:
    env = os.environ.get("NIN_LIBRARY")
    return Path(env) if env else REPO / ".build" / "release" / "libnin.so"


def _model_sources() -> list:
    env = os.environ.get("NIN_MODEL")
    model = Path(env) if env else REPO / "models" / "fashion_classic.nin"
    sources = [(model, "fashion_classic.nin"), (REPO / "models" / "fashion_small.nin", "fashion_small.nin")]
    card = REPO / "models" / "MODEL_CARD.md"
    if card.is_file():
        sources.append((card, "MODEL_CARD.md"))
    return sources


#: Libraries libnin.so links that a wheel carries (the rest are the C runtime and libstdc++).
VENDORED = ("libpng16.so.16", "libz.so.1")


def _vendored_sources(library: Path) -> list:
    """The paths the loader resolves for VENDORED, from ``ldd library``."""
    out = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in VENDORED and parts[1] == "=>":
            found.append(Path(parts[2]))
    missing = set(VENDORED) - {p.name for p in found}
    if missing:
        raise RuntimeError(f"ldd {library} does not resolve {', '.join(sorted(missing))}")
    return found


def _glibc_minor(paths: list) -> int:
    """The newest GLIBC_2.N symbol version any of `paths` needs."""
    newest = 17  # manylinux2014's glibc: the oldest tag worth naming
    for path in paths:
        out = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True, check=True).stdout
        for minor in re.findall(r"GLIBC_2\.(\d+)", out):
            newest = max(newest, int(minor))
    return newest


if bdist_wheel is not None:
    class BdistWheelManylinux(bdist_wheel):
        """Tags a wheel that carries libnin.so as py3-none-manylinux_2_N_<arch> (module doc)."""

        def get_tag(self):
            python, abi, plat = super().get_tag()
            library = _library_source()
            if not library.is_file() or not plat.startswith("linux"):
                return python, abi, plat
            minor = _glibc_minor([library] + _vendored_sources(library))
            return "py3", "none", f"manylinux_2_{minor}_{platform.machine()}"


class BuildPyWithLibrary(build_py):
    """build_py that also bundles libnin.so and the default model when they exist."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "nin"
        library = _library_source()
        if library.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(library, target / "libnin.so")
            if shutil.which("strip"):  # the debug information is most of the file
                subprocess.run(["strip", "--strip-unneeded", str(target / "libnin.so")], check=True)
            self.announce(f"bundled {library} as nin/libnin.so", level=2)
            (target / "vendor").mkdir(exist_ok=True)
            for source in _vendored_sources(library):
                shutil.copy2(source, target / "vendor" / source.name)
                self.announce(f"bundled {source} as nin/vendor/{source.name}", level=2)
        else:
            self.warn(f"{library} not found: the package will look for libnin.so via $NIN_LIBRARY "
                      f"or the checkout's .build/release at run time")
        for source, name in _model_sources():
            if source.is_file():
                (target / "models").mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / "models" / name)
                self.announce(f"bundled {source} as nin/models/{name}", level=2)


class BinaryDistribution(Distribution):
    """Marks the wheel platform-specific when it carries libnin.so."""

    def has_ext_modules(self) -> bool:
        return _library_source().is_file()


commands = {"build_py": BuildPyWithLibrary}
if bdist_wheel is not None:
    commands["bdist_wheel"] = BdistWheelManylinux
setup(cmdclass=commands, distclass=BinaryDistribution)
