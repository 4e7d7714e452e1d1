"""The C examples (examples/c/, built by this folder's Makefile into bindings/c/build/) print
and draw what the Python package computes from the same library: classify's top-5 lines equal
``Model.classify`` formatted with C's ``%.4f``, and heatmap's PPM equals ``Model.heatmap``.
Run by ``make -C bindings/c test`` (``make test-c``, ``make test-embedded``), after it builds the
examples into ``$NIN_C_BUILD`` (the Makefile's BUILD folder)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import nin

REPO = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("NIN_C_BUILD", REPO / "bindings" / "c" / "build"))
C_CLASSIFY = BUILD / "classify"
C_HEATMAP = BUILD / "heatmap"
DEFAULT_MODEL = REPO / "models" / "fashion_classic.nin"
EXAMPLE_IMAGES = REPO / "examples" / "images"
SHIPPED_MODELS = sorted((REPO / "models").glob("*.nin"))


@pytest.fixture(scope="module")
def example_images():
    images = sorted(EXAMPLE_IMAGES.glob("*.png"))
    if not images:
        pytest.skip(f"no PNGs under {EXAMPLE_IMAGES}")
    return images


@pytest.mark.parametrize("shipped_model_path", SHIPPED_MODELS, ids=[p.stem for p in SHIPPED_MODELS])
def test_classify_example_matches_the_package(shipped_model_path, example_images):
    if not C_CLASSIFY.is_file():
        pytest.skip(f"{C_CLASSIFY} not built (make -C bindings/c)")
    with nin.Model(shipped_model_path) as model:
        for path in example_images[:8]:
            result = subprocess.run([str(C_CLASSIFY), str(shipped_model_path), str(path), "5"],
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            mine = ["%.4f  %s" % (p, label) for label, p in model.classify(path, top=5)]
            assert result.stdout.splitlines() == mine


def test_heatmap_example_matches_the_package(example_images, tmp_path):
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"{DEFAULT_MODEL} missing")
    if not C_HEATMAP.is_file():
        pytest.skip(f"{C_HEATMAP} not built (make -C bindings/c)")
    image = example_images[0]
    subprocess.run([C_HEATMAP, DEFAULT_MODEL, image, tmp_path / "c.ppm"], check=True, capture_output=True)
    ppm = (tmp_path / "c.ppm").read_bytes()
    header, data = ppm.split(b"\n255\n", 1)
    width, height = map(int, header.split()[1:3])
    with nin.Model(DEFAULT_MODEL) as model:
        assert np.array_equal(np.frombuffer(data, np.uint8).reshape(height, width, 3), model.heatmap(image))
