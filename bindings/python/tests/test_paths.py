"""File names that are not UTF-8 work everywhere: Linux paths are bytes, and nin passes them
to the OS unchanged (from Python as os.fsencode gives them, from nin-infer's argv as they are)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import DEFAULT_MODEL, EXAMPLE_IMAGES, NIN_INFER

import nin

IMAGE = EXAMPLE_IMAGES / "test_00000_ankle_boot.png"


@pytest.fixture()
def odd_names(tmp_path):
    """Copies of the default model and an example image under names with an invalid UTF-8 byte."""
    if not DEFAULT_MODEL.is_file() or not IMAGE.is_file():
        pytest.skip("the shipped model or example image is missing")
    directory = os.fsencode(tmp_path)
    model = directory + b"/model\xfe.nin"
    image = directory + b"/bad\xffbyte.png"
    shutil.copyfile(DEFAULT_MODEL, model)
    shutil.copyfile(IMAGE, image)
    return model, image


def test_model_and_image_with_non_utf8_names(odd_names):
    model_bytes, image_bytes = odd_names
    with nin.Model(DEFAULT_MODEL) as plain:
        expected = plain.logits(nin.load_png(IMAGE))
    for model_path in (model_bytes, os.fsdecode(model_bytes)):   # bytes, and str with surrogates
        with nin.Model(model_path) as model:
            pixels = nin.load_png(os.fsdecode(image_bytes))
            assert np.array_equal(pixels, nin.load_png(IMAGE))
            assert np.array_equal(model.logits(pixels).view(np.uint32), expected.view(np.uint32))


def test_missing_non_utf8_name_is_named_in_the_error(tmp_path):
    missing = os.fsencode(tmp_path) + b"/missing\xff.nin"
    with pytest.raises(nin.NinError) as raised:
        nin.Model(missing)
    assert "missing\\xff.nin" in str(raised.value)


def test_nin_infer_takes_non_utf8_names(odd_names):
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    model, image = odd_names
    plain = subprocess.run([NIN_INFER, "--top", "2", "--model", DEFAULT_MODEL, IMAGE],
                           capture_output=True, check=True).stdout
    odd = subprocess.run([os.fsencode(NIN_INFER), b"--top", b"2", b"--model=" + model, image],
                         capture_output=True, check=True).stdout
    # The same classes and probabilities; the first line names the file, its odd byte escaped.
    assert odd.splitlines()[1:] == plain.splitlines()[1:]
    assert odd.splitlines()[0].endswith(b"bad\\xffbyte.png")
