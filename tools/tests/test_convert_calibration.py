"""Tests of nin_tools.convert.calibration: exact percentiles from a running top-k, and
calibration images decoded by the runtime's own PNG decoder."""

from __future__ import annotations

import os
import subprocess

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


def test_calibration_folder_is_searched_as_nin_infer_searches_it(tmp_path):
    """--calibrate DIR takes the PNGs of DIR's subfolders too (a train/<class>/ tree), in the
    order `nin-infer DIR` lists them, and N of more spread over every class folder."""
    from source_builders import REPO, write_random_pngs

    rng = np.random.default_rng(6)
    cal = tmp_path / "train"
    for name in ("b_class", "a_class", "c_class"):
        write_random_pngs(str(cal / name), 4, rng, 12, 12)
    (cal / "a_class" / "deeper").mkdir()
    write_random_pngs(str(cal / "a_class" / "deeper"), 2, rng, 12, 12)
    (cal / "UPPER.PNG").write_bytes((cal / "b_class" / "img_000.png").read_bytes())
    (cal / "notes.txt").write_text("not an image")
    os.symlink(cal / "b_class", cal / "link")                  # not entered, as by nin-infer
    found = calibration.png_files(str(cal))
    assert len(found) == 15 and not any("/link/" in p for p in found)
    nin_infer = os.path.join(REPO, ".build", "release", "nin-infer")
    if os.path.isfile(nin_infer):
        model = os.path.join(REPO, "Tests", "golden", "net", "k11s4_batch3", "model.nin")
        listed = subprocess.run([nin_infer, "--model", model, "--csv", "--top", "1", str(cal)], capture_output=True,
                                text=True, timeout=120).stdout.splitlines()[1:]
        assert [row.split(",")[0] for row in listed] == found
    x, labels, desc, _ = calibration.load_calibration(str(cal), 100, (1, 12, 12))
    assert x.shape == (15, 12, 12, 1) and desc == "15 PNG images from train"
    x, _, desc, _ = calibration.load_calibration(str(cal), 6, (1, 12, 12))
    assert x.shape[0] == 6 and desc == "6 PNG images from train (of 15, spread evenly)"
    picked = calibration.spread(found, 6)
    assert {p.split("/")[-2] for p in picked} >= {"a_class", "b_class", "c_class"}
    assert picked[0] == found[0] and picked[-1] == found[-1]
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(calibration.ConvertError, match="no image found: no \\*.png file below"):
        calibration.load_calibration(str(tmp_path / "empty"), 10, (1, 12, 12))
