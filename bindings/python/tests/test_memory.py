"""No memory growth over 10,000 calls (RSS from /proc/self/status after a warm-up)."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from conftest import GOLDEN_NET

import nin

#: Allowed RSS growth over 10,000 calls after the warm-up. A leak of even one 64-byte block per
#: call would be 640 KB, a leaked context or image buffer per call far more.
GROWTH_LIMIT_KB = 512


def _rss_kb() -> int:
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("/proc/self/status not available")
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    pytest.skip("no VmRSS line")


def test_no_memory_growth_over_10000_calls(png_dir):
    path = GOLDEN_NET / "extremes" / "model.nin"
    png = png_dir / "rgb40x30.png"               # 3.6 KB of pixels per decode
    rng = np.random.default_rng(31)
    with nin.Model(path) as model:
        image = rng.integers(0, 256, (12, 10), dtype=np.uint8)
        batch = rng.integers(0, 256, (3, 9, 8, 3), dtype=np.uint8)
        tensor = rng.random((2,) + model.input_shape, dtype=np.float32)
        bad = np.full((1,) + model.input_shape, np.nan, np.float32)

        def one_round(i: int) -> None:
            kind = i % 8
            if kind == 0:
                model.predict(image)
            elif kind == 1:
                model.logits(batch)
            elif kind == 2:
                model.predict(tensor)
            elif kind == 3:
                model.classify(image, top=2)
            elif kind == 4:
                model.confidence_maps()
            elif kind == 5:
                model.predict(str(png))          # nin_image_load_png + nin_image_free
            elif kind == 6:
                try:
                    model.predict(bad)           # a runtime error: nin_last_error() each time
                except nin.InvalidArgumentError:
                    pass
            else:
                model.predict(batch[0], prepared=False)

        for i in range(2000):                    # warm-up: contexts, caches, allocator pools
            one_round(i)
        gc.collect()
        before = _rss_kb()
        for i in range(10_000):
            one_round(i)
        gc.collect()
        growth = _rss_kb() - before
    print(f"RSS growth over 10,000 calls: {growth} KB")
    assert growth < GROWTH_LIMIT_KB, f"RSS grew by {growth} KB over 10,000 calls"


def test_no_growth_loading_and_closing_models():
    path = GOLDEN_NET / "k11s4_batch3" / "model.nin"
    data = path.read_bytes()
    x = np.zeros((2, 35, 39, 3), np.uint8)

    def cycle(i: int) -> None:
        model = nin.Model(path) if i % 2 else nin.Model.from_bytes(data)
        model.predict(x)
        if i % 3:
            model.close()                        # explicit close, or left to the finalizer

    for i in range(100):
        cycle(i)
    gc.collect()
    before = _rss_kb()
    for i in range(1000):
        cycle(i)
    gc.collect()
    growth = _rss_kb() - before
    assert growth < 2048, f"RSS grew by {growth} KB over 1,000 model load/run/free cycles"
