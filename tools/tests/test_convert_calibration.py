"""Tests of nin_tools.convert.calibration: exact percentiles from a running top-k, and
calibration images decoded by the runtime's own PNG decoder."""

from __future__ import annotations

import os

import numpy as np
import pytest

from nin_tools import preprocess
from nin_tools.convert import calibration
from source_builders import CALIBRATION_KINDS, PNGSUITE, copy_pngsuite


def test_percentile_tracker_is_numpy_percentile():
    rng = np.random.default_rng(4)
    data = [rng.gamma(2.0, size=s).astype(np.float32) for s in (5000, 12345, 777, 30000)]
    allv = np.concatenate(data)
    for q in (99.999, 99.9, 100.0):
        k = calibration.topk_for(allv.size, q)
        hi, lo = calibration._TopK(k, True), calibration._TopK(k, False)
        for d in data:
            hi.add(d)
            lo.add(-d)
        assert hi.percentile(q) == pytest.approx(float(np.percentile(allv, q)), rel=1e-6)
        assert lo.percentile(q) == pytest.approx(float(np.percentile(-allv, 100 - q)), rel=1e-6)
        assert k < allv.size // 10 or q < 99.99


@pytest.mark.parametrize("shape", [(1, 16, 16), (3, 20, 24)])
def test_png_calibration_sees_the_stored_samples(tmp_path, shape):
    """Calibration decodes PNGs with the runtime's decoder: every PngSuite kind (16-bit and
    interlaced included) gives the model input that Pillow's samples give
    (Tests/fixtures/pngsuite/expected, tools/make_pngsuite_expected.py)."""
    cal = str(tmp_path / "cal")
    copy_pngsuite(cal, CALIBRATION_KINDS)
    x, labels, desc, _ = calibration.load_calibration(cal, 100, shape)
    assert labels is None and f"{len(CALIBRATION_KINDS)} PNG images" in desc
    for i, name in enumerate(sorted(CALIBRATION_KINDS)):
        want = np.load(os.path.join(PNGSUITE, "expected", name + ".npy"))
        np.testing.assert_array_equal(x[i], preprocess.prepare(want, shape).reshape(x[i].shape),
                                      err_msg=name)
