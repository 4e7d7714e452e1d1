"""PNG decoding through the library: the basic PngSuite decodes to the samples Pillow reads
(Tests/fixtures/pngsuite/expected, written by tools/make_pngsuite_expected.py), from a path or
from bytes; ``load_png`` and the Model methods take PNG bytes; errors never repeat the data."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

import nin
from conftest import REPO

SUITE = REPO / "Tests" / "fixtures" / "pngsuite"
SUITE_NAMES = sorted(p.stem for p in SUITE.glob("*.png"))


def expected(name: str) -> np.ndarray:
    return np.load(SUITE / "expected" / f"{name}.npy")


def test_suite_is_complete():
    assert len(SUITE_NAMES) == 51
    assert sorted(p.stem for p in (SUITE / "expected").glob("*.npy")) == SUITE_NAMES
    # PngSuite names its corrupt files x*.png; libpng's basic copy has none.
    assert not [n for n in SUITE_NAMES if n.startswith("x")]


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_suite_decodes_to_pillows_samples(name):
    want = expected(name)
    path = SUITE / f"{name}.png"
    got = nin.load_png(path)
    assert got.dtype == np.uint8 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    data = path.read_bytes()
    np.testing.assert_array_equal(nin.load_png(data), want)
    np.testing.assert_array_equal(nin.load_png(bytearray(data)), want)
    np.testing.assert_array_equal(nin.load_png(memoryview(data)), want)


def test_expected_arrays_match_the_generator():
    """The committed arrays are what tools/make_pngsuite_expected.py's numpy decoder computes
    (its Pillow cross-check runs when the script is run; Pillow is not needed here)."""
    gen = importlib.import_module("make_pngsuite_expected")
    for name in SUITE_NAMES:
        pixels, _, _, _ = gen.independent((SUITE / f"{name}.png").read_bytes())
        np.testing.assert_array_equal(pixels, expected(name), err_msg=name)


def test_gamma_one_files_are_not_brightened():
    """basn0g08 carries gAMA 1.0: a decoder that converts to sRGB (libpng's simplified API)
    brightens its mid-grays; the stored samples are a ramp 0..255 read as they are."""
    img = nin.load_png(SUITE / "basn0g08.png")
    np.testing.assert_array_equal(img[0, :, 0], np.arange(32, dtype=np.uint8))


# ---- PNG bytes ----------------------------------------------------------------------------

def test_png_bytes_in_model_methods(small_model, png_dir):
    path = png_dir / "gray28.png"
    data = path.read_bytes()
    by_path = small_model.predict(path)
    np.testing.assert_array_equal(small_model.predict(data), by_path)
    np.testing.assert_array_equal(small_model.predict(bytearray(data)), by_path)
    np.testing.assert_array_equal(small_model.logits(memoryview(data)), small_model.logits(str(path)))
    assert small_model.classify(data, top=2) == small_model.classify(path, top=2)
    both = small_model.predict([data, png_dir / "rgb40x30.png"])
    np.testing.assert_array_equal(both[0], by_path[0])
    np.testing.assert_array_equal(both[1], small_model.predict(png_dir / "rgb40x30.png")[0])
    assert small_model.confidence_maps(data).shape[0] == 1


def test_noncontiguous_memoryview(png_dir):
    data = (png_dir / "rgb40x30.png").read_bytes()
    spread = np.zeros(2 * len(data), np.uint8)
    spread[::2] = np.frombuffer(data, np.uint8)
    view = memoryview(spread)[::2]
    assert not view.contiguous
    np.testing.assert_array_equal(nin.load_png(view), nin.load_png(data))


@pytest.mark.parametrize("name", ["corrupt.png", "truncated.png", "not_a_png.png"])
def test_bad_png_bytes(png_dir, small_model, name):
    data = (png_dir / name).read_bytes()
    with pytest.raises(nin.BadImageError) as info:
        nin.load_png(data)
    message = str(info.value)
    assert "PNG data" in message and "\n" not in message and len(message) < 300
    assert repr(data[8:40])[2:-1] not in message and data[8:40].decode("latin-1") not in message
    with pytest.raises(nin.BadImageError):
        small_model.classify(data)
    with pytest.raises(nin.BadImageError):
        small_model.predict([png_dir / "gray28.png", data])


def test_big_blob_is_not_printed(small_model):
    blob = b"\x89PNG\r\n\x1a\n" + b"A" * 100_000
    for call in (nin.load_png, small_model.predict, small_model.classify):
        with pytest.raises(nin.BadImageError) as info:
            call(blob)
        assert "AAAAAAAA" not in str(info.value) and len(str(info.value)) < 300


def test_bytes_are_data_not_a_path(png_dir):
    """A path given as bytes is refused as PNG data, with a hint, not opened as a file."""
    path = bytes(png_dir / "gray28.png")
    with pytest.raises(nin.BadImageError, match="pass a file path as str or os.PathLike"):
        nin.load_png(path)
    with pytest.raises(nin.InvalidArgumentError, match="empty"):
        nin.load_png(b"")
    with pytest.raises(nin.InvalidArgumentError, match="not int"):
        nin.load_png(3)  # type: ignore[arg-type]


def test_pathlike_still_works(png_dir):
    class Custom:
        def __fspath__(self) -> str:
            return str(png_dir / "gray28.png")

    np.testing.assert_array_equal(nin.load_png(Custom()), nin.load_png(Path(png_dir / "gray28.png")))


def _chunk_offsets(data: bytes):
    import struct
    pos, found = 8, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        found[kind] = (pos, length)
        pos += 12 + length
    return found


def test_crc_errors():
    """A bad CRC in an ancillary chunk (gAMA, sBIT) is skipped with the same pixels, as libpng
    does by default; in a critical chunk (PLTE) the file is refused, naming the chunk."""
    data = (SUITE / "basn3p04.png").read_bytes()
    chunks = _chunk_offsets(data)
    for kind in (b"gAMA", b"sBIT"):
        pos, length = chunks[kind]
        broken = bytearray(data)
        broken[pos + 8 + length] ^= 1
        np.testing.assert_array_equal(nin.load_png(bytes(broken)), expected("basn3p04"))
    pos, length = chunks[b"PLTE"]
    broken = bytearray(data)
    broken[pos + 8 + length] ^= 1
    with pytest.raises(nin.BadImageError, match="PLTE: CRC error"):
        nin.load_png(bytes(broken))


def test_png_declaring_more_than_it_holds_is_refused_without_allocating(repo):
    """65 bytes declaring 8000x8000 16-bit RGBA (512 MB of samples): refused from the sizes alone.
    Under a 400 MB address-space limit the decoder used to abort the process (its pixel buffer
    was allocated before the data ran out); now the refusal names the sizes."""
    import resource
    import subprocess
    import sys

    from conftest import PACKAGE_ROOT

    path = repo / "Tests" / "fixtures" / "png" / "bad" / "declares_more.png"
    code = ("import sys, nin\n"
            "try:\n    nin.load_png(sys.argv[1])\n"
            "except nin.BadImageError as error:\n    print(error)\n")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (400 << 20, 400 << 20))

    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            preexec_fn=limit, env={"PYTHONPATH": str(PACKAGE_ROOT)}, timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert "declares 8000x8000 pixels" in result.stdout and "more than deflate can expand" in result.stdout
