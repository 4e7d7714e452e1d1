"""Shared fixtures of the nin Python binding tests.

The tests import the package from this source tree: pytest.ini at the repository root (and
pyproject.toml here, when pytest runs from this folder) puts bindings/python and tools/ first on
the import path. To test an installed wheel instead, leave bindings/python out of that path:
``python3 -m pytest -o pythonpath=tools bindings/python/tests`` (from the repository root).
Fixtures that need artifacts made elsewhere (the shipped model, example PNGs, nin-infer,
the Fashion-MNIST data) skip with the reason when those are absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS.parent                     # bindings/python
REPO = PACKAGE_ROOT.parent.parent               # the nin checkout
GOLDEN_NET = REPO / "Tests" / "golden" / "net"
#: The default model (nin-infer and ``nin.Model()`` load it without a path).
DEFAULT_MODEL = REPO / "models" / "fashion_classic.nin"
#: Every model shipped in models/ (the default one first).
SHIPPED_MODELS = sorted((REPO / "models").glob("*.nin"), key=lambda p: (p != DEFAULT_MODEL, p.name))
EXAMPLE_IMAGES = REPO / "examples" / "images"
NIN_INFER = REPO / ".build" / "release" / "nin-infer"

import nin


def golden_cases() -> List[str]:
    return sorted(p.name for p in GOLDEN_NET.iterdir() if (p / "model.nin").is_file()) \
        if GOLDEN_NET.is_dir() else []


def golden_input(case: str, model: "nin.Model") -> np.ndarray:
    """input.u8 of a golden case as uint8 N x H x W x C."""
    c, h, w = model.input_shape
    return np.fromfile(GOLDEN_NET / case / "input.u8", dtype=np.uint8).reshape(-1, h, w, c)


def golden_logits(case: str, model: "nin.Model") -> np.ndarray:
    return np.fromfile(GOLDEN_NET / case / "logits.f32", dtype="<f4").reshape(-1, model.class_count)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def small_model_path() -> Path:
    """A small golden model (1 x 9 x 8 input, 4 classes): fast, always present."""
    path = GOLDEN_NET / "extremes" / "model.nin"
    if not path.is_file():
        pytest.skip(f"{path} missing (run tools/make_golden.py)")
    return path


@pytest.fixture(scope="session")
def rgb_model_path() -> Path:
    """A 3-channel golden model (3 x 35 x 39 input, 5 classes)."""
    path = GOLDEN_NET / "k11s4_batch3" / "model.nin"
    if not path.is_file():
        pytest.skip(f"{path} missing (run tools/make_golden.py)")
    return path


@pytest.fixture()
def small_model(small_model_path: Path):
    with nin.Model(small_model_path) as model:
        yield model


@pytest.fixture()
def rgb_model(rgb_model_path: Path):
    with nin.Model(rgb_model_path) as model:
        yield model


@pytest.fixture(scope="session", params=[p.stem for p in SHIPPED_MODELS] or ["(none)"])
def shipped_model_path(request) -> Path:
    """Each model of models/ in turn."""
    path = REPO / "models" / f"{request.param}.nin"
    if not path.is_file():
        pytest.skip("no models/*.nin shipped yet")
    return path


@pytest.fixture(scope="session")
def example_images() -> List[Path]:
    images = sorted(EXAMPLE_IMAGES.glob("*.png")) if EXAMPLE_IMAGES.is_dir() else []
    if not images:
        pytest.skip(f"no PNGs under {EXAMPLE_IMAGES} yet")
    return images


@pytest.fixture(scope="session")
def png_dir(tmp_path_factory) -> Path:
    """PNG fixtures written with the independent encoder nin_tools.png_write."""
    from nin_tools.png_write import write_png

    out = tmp_path_factory.mktemp("png")
    rng = np.random.default_rng(1234)
    write_png(str(out / "gray28.png"), rng.integers(0, 256, (28, 28), dtype=np.uint8))
    write_png(str(out / "rgb40x30.png"), rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    write_png(str(out / "rgba17x23.png"), rng.integers(0, 256, (23, 17, 4), dtype=np.uint8))
    write_png(str(out / "graya9x8.png"), rng.integers(0, 256, (8, 9, 2), dtype=np.uint8))
    good = (out / "gray28.png").read_bytes()
    (out / "corrupt.png").write_bytes(good[:40] + bytes(b ^ 0x5A for b in good[40:80]) + good[80:])
    (out / "truncated.png").write_bytes(good[: len(good) // 2])
    (out / "not_a_png.png").write_bytes(b"this is not a PNG file at all\n" * 4)
    (out / "empty.png").write_bytes(b"")
    return out
