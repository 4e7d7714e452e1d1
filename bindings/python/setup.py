"""Build hook of the nin Python package (the metadata lives in pyproject.toml).

At build time (``pip install ./bindings/python``, ``python -m build``, ``setup.py bdist_wheel``)
``build_py`` copies, when they exist relative to the repository this file belongs to:

- ``<repo>/.build/release/libnin.so``  ->  ``nin/libnin.so``  (build it first with
  ``swift build -c release -Xswiftc -static-stdlib --product nin``; ``$NIN_LIBRARY`` at build
  time overrides the source path);
- ``<repo>/models/fashion_classic.nin`` (the default model; ``$NIN_MODEL`` at build time
  overrides its path), ``fashion_small.nin`` and ``MODEL_CARD.md`` -> ``nin/models/``.

The copies go into the build directory only (the source tree stays clean), so an installed
package is self-contained: ``nin._lib`` finds the bundled library and ``nin.Model()`` the
bundled default model. When a library is bundled the wheel is tagged as platform-specific.
An editable install (``pip install -e``) copies nothing: it finds ``<repo>/.build/release``
and ``<repo>/models`` directly from the source tree.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

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


class BuildPyWithLibrary(build_py):
    """build_py that also bundles libnin.so and the default model when they exist."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "nin"
        library = _library_source()
        if library.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(library, target / "libnin.so")
            self.announce(f"bundled {library} as nin/libnin.so", level=2)
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


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution)
