"""Class heatmaps: Model.heatmap and `nin-infer --heatmap` give the same pixels (the C example too:
bindings/c/tests/test_examples.py),
and the map part equals an independent numpy rendering of the documented recipe (gray image
prepared as docs/PREPROCESSING.md says, class map upsampled bilinearly with half-pixel centres,
normalized to its range, viridis at 154/256 opacity)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import DEFAULT_MODEL, EXAMPLE_IMAGES, NIN_INFER, REPO

import nin
from nin_tools import preprocess as nin_preprocess

TABLES = REPO / "Sources" / "NiN" / "Heatmap" / "HeatmapTables.swift"
STRIP = 17


def _viridis() -> np.ndarray:
    text = TABLES.read_text()
    body = text.split("static let viridis: [UInt8] = [")[1].split("]")[0]
    return np.array([int(v) for v in re.findall(r"\d+", body)], np.uint8).reshape(256, 3)


def _reference(model: "nin.Model", pixels: np.ndarray, cls: int) -> np.ndarray:
    """The heatmap below its caption strip, computed with numpy from the documented recipe."""
    c, h, w = model.input_shape
    scale = -(-256 // min(h, w))
    H, W = h * scale, w * scale
    gray = nin_preprocess.prepare(pixels, (1, H, W)).reshape(H, W).astype(np.int64)
    maps = model.confidence_maps(pixels)[0, cls].astype(np.float32)
    mh, mw = maps.shape

    def taps(n_out: int, n_in: int):
        src = np.maximum((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * np.float32(n_in)
                         / np.float32(n_out) - np.float32(0.5), np.float32(0))
        first = np.minimum(src.astype(np.int64), n_in - 1)
        return first, np.minimum(first + 1, n_in - 1), (src - first.astype(np.float32)).astype(np.float32)

    r0, r1, rw = taps(H, mh)
    c0, c1, cw = taps(W, mw)
    one = np.float32(1)
    top = maps[r0][:, c0] * (one - cw) + maps[r0][:, c1] * cw
    bottom = maps[r1][:, c0] * (one - cw) + maps[r1][:, c1] * cw
    value = top * (one - rw[:, None]) + bottom * rw[:, None]
    low, high = maps.min(), maps.max()
    level = np.rint((value - low) / (high - low) * np.float32(255)).astype(np.int64) if high > low \
        else np.zeros_like(gray)
    color = _viridis()[np.clip(level, 0, 255)].astype(np.int64)
    return ((gray[:, :, None] * (256 - 154) + color * 154 + 128) >> 8).astype(np.uint8)


@pytest.fixture(scope="module")
def model():
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"{DEFAULT_MODEL} missing")
    with nin.Model(DEFAULT_MODEL) as m:
        yield m


@pytest.fixture(scope="module")
def images():
    found = sorted(EXAMPLE_IMAGES.glob("*.png"))[:4]
    if not found:
        pytest.skip("no example images")
    return found


def test_python_and_cli_give_the_same_pixels(model, images, tmp_path):
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    subprocess.run([NIN_INFER, "--heatmap", tmp_path, "--model", DEFAULT_MODEL] + images,
                   check=True, capture_output=True)
    for path in images:
        ours = model.heatmap(path)
        written = nin.load_png(tmp_path / (path.stem + ".heatmap.png"))
        assert ours.dtype == np.uint8 and ours.shape == written.shape
        assert np.array_equal(ours, written)


def test_class_by_label_index_and_cli(model, images, tmp_path):
    labels = model.labels
    best = model.top_k(images[0], 1)[0][0]
    other = (best + 3) % len(labels)
    assert np.array_equal(model.heatmap(images[0]), model.heatmap(images[0], cls=best))
    by_label = model.heatmap(images[0], cls=labels[other])
    assert np.array_equal(by_label, model.heatmap(images[0], cls=other))
    assert not np.array_equal(by_label, model.heatmap(images[0]))
    if NIN_INFER.is_file():
        subprocess.run([NIN_INFER, "--heatmap", tmp_path, "--class", labels[other], images[0]],
                       check=True, capture_output=True)
        assert np.array_equal(nin.load_png(tmp_path / (images[0].stem + ".heatmap.png")), by_label)
    with pytest.raises(nin.InvalidArgumentError):
        model.heatmap(images[0], cls="no such class")
    with pytest.raises(nin.InvalidArgumentError):
        model.heatmap(images[0], cls=len(labels))


def test_map_part_equals_numpy_rendering(model, images):
    for path in images:
        pixels = nin.load_png(path)
        for cls in (None, 0):
            got = model.heatmap(pixels, cls=cls)
            index = model.top_k(pixels, 1)[0][0] if cls is None else cls
            expected = _reference(model, pixels, index)
            below = got[STRIP:]
            assert below.shape == expected.shape
            # float32 arithmetic in a different order may move a value across a level boundary
            # at a few pixels (one viridis step, at most 2 per channel after blending);
            # everything else must be equal.
            diff = np.abs(below.astype(int) - expected.astype(int))
            assert diff.max() <= 2 and (diff == 0).mean() > 0.999, (diff.max(), (diff == 0).mean())
            # The strip: black with white caption pixels, nothing else.
            strip = got[:STRIP].reshape(-1, 3)
            assert set(map(tuple, np.unique(strip, axis=0))) <= {(0, 0, 0), (255, 255, 255)}
            assert (strip == 255).any()
