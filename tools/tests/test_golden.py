"""The golden vectors under Tests/golden (what the Swift and binding tests compare with) are
what tools/make_golden.py writes today, and their layout is what Tests/golden/README.md says."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import make_golden
from nin_tools import model_format as F
from nin_tools import preprocess as P
from nin_tools import reference as R
from oracles import channels_naive

GOLDEN = Path(__file__).resolve().parents[2] / "Tests" / "golden"


def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for sub in make_golden.GENERATED_DIRS if (root / sub).exists()
            for p in sorted((root / sub).rglob("*")) if p.is_file()}


def test_golden_up_to_date(tmp_path):
    make_golden.generate(tmp_path / "g", verbose=False)
    fresh, stored = _tree(tmp_path / "g"), _tree(GOLDEN)
    missing = sorted(set(fresh) - set(stored))
    extra = sorted(set(stored) - set(fresh))
    assert not missing and not extra, f"regenerate with tools/make_golden.py: missing " \
                                      f"{missing[:5]}, stale {extra[:5]}"
    differ = sorted(k for k in fresh if fresh[k] != stored[k])
    assert not differ, f"golden files out of date (run tools/make_golden.py): {differ[:10]}"


def test_golden_layout_consistent():
    """Sizes in net/ agree with the README's description (what the Swift tests rely on)."""
    total = 0
    for d in sorted((GOLDEN / "net").iterdir()) + sorted((GOLDEN / "bounds").iterdir()):
        model = F.read(d / "model.nin")
        c, h, w = model.input_shape
        n, rem = divmod((d / "input.u8").stat().st_size, h * w * c)
        assert rem == 0 and n >= 1
        shapes = model.output_shapes()
        lines = (d / "shapes.txt").read_text().splitlines()
        assert lines[:3] == [f"batch {n}", f"input {c} {h} {w}", f"layers {len(shapes)}"]
        for i, (L, s) in enumerate(zip(model.layers, shapes)):
            size = (d / f"layer_{i}.bin").stat().st_size
            assert size == (n * s[0] * 4 if L.op == "gap" else n * s[0] * s[1] * s[2])
            assert lines[3 + i] == f"{i} {L.op} {s[0]} {s[1]} {s[2]}"
        assert (d / "logits.f32").stat().st_size == n * shapes[-1][0] * 4
        x = np.fromfile(d / "input.u8", np.uint8).reshape(n, h, w, c)
        out = R.run(model, x)
        assert np.fromfile(d / "logits.f32", "<f4").tobytes() == out["logits"].astype("<f4").tobytes()
    for d in sorted((GOLDEN / "preprocess").iterdir()):
        ih, iw, ic = map(int, (d / "image.txt").read_text().split())
        tc, th, tw = map(int, (d / "target.txt").read_text().split())
        img = np.fromfile(d / "image.u8", np.uint8).reshape(ih, iw, ic)
        prep = np.fromfile(d / "prepared.u8", np.uint8).reshape(th, tw, tc)
        chan = channels_naive(img, tc)
        assert np.array_equal(prep, P.resize_u8(chan, th, tw))
        if th * tw <= 4096:
            assert np.array_equal(prep, P._resize_u8_scalar(chan, th, tw))
    for p in GOLDEN.rglob("*"):
        if p.is_file():
            total += p.stat().st_size
    assert total < 3_000_000
