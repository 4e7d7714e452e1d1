"""Every error path: bad/truncated/missing model files, corrupt PNGs, wrong dtypes, ranks and
shapes, closed models, out-of-range arguments. Python-side checks must fire before any pointer
reaches the library; runtime errors must carry nin_last_error()'s message."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nin


# ---- model files -------------------------------------------------------------------------

def test_missing_model_file(tmp_path):
    missing = tmp_path / "no_such_model.nin"
    with pytest.raises(nin.NinIOError) as info:
        nin.Model(missing)
    assert str(missing) in str(info.value)
    assert info.value.status == 2 and info.value.status_name == "NIN_ERROR_IO"
    assert isinstance(info.value, OSError) and isinstance(info.value, nin.NinError)


def test_directory_as_model(tmp_path):
    with pytest.raises(nin.NinIOError, match="not a regular file"):
        nin.Model(tmp_path)


def test_empty_model_file(tmp_path):
    empty = tmp_path / "empty.nin"
    empty.write_bytes(b"")
    with pytest.raises(nin.BadModelError, match="empty"):
        nin.Model(empty)


def test_truncated_model_file(tmp_path, small_model_path):
    data = small_model_path.read_bytes()
    truncated = tmp_path / "truncated.nin"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(nin.BadModelError) as info:
        nin.Model(truncated)
    assert "bytes" in str(info.value)
    assert info.value.status_name == "NIN_ERROR_BAD_MODEL"


def test_corrupt_model_file(tmp_path, small_model_path):
    data = bytearray(small_model_path.read_bytes())
    data[-1] ^= 0x5A
    corrupt = tmp_path / "corrupt.nin"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(nin.BadModelError, match="checksum"):
        nin.Model(corrupt)


def test_wrong_magic(tmp_path, small_model_path):
    data = bytearray(small_model_path.read_bytes())
    data[0:1] = b"X"
    bad = tmp_path / "magic.nin"
    bad.write_bytes(bytes(data))
    with pytest.raises(nin.BadModelError, match="magic"):
        nin.Model(bad)


def test_not_a_model_at_all(tmp_path):
    bad = tmp_path / "text.nin"
    bad.write_text("hello, I am not a model\n" * 10)
    with pytest.raises(nin.BadModelError):
        nin.Model(bad)


def test_from_bytes_errors_and_success(small_model_path):
    data = small_model_path.read_bytes()
    with pytest.raises(nin.BadModelError, match="bytes"):
        nin.Model.from_bytes(data[: len(data) // 2])
    with pytest.raises(nin.InvalidArgumentError, match="empty"):
        nin.Model.from_bytes(b"")
    with pytest.raises(nin.InvalidArgumentError, match="bytes-like"):
        nin.Model.from_bytes("a string")  # type: ignore[arg-type]
    with nin.Model.from_bytes(data) as a, nin.Model(small_model_path) as b:
        assert a.path is None and a.labels == b.labels and a.input_shape == b.input_shape
        x = np.random.default_rng(0).integers(0, 256, (5,) + b.input_shape[1:], dtype=np.uint8)
        assert np.array_equal(a.logits(x).view(np.uint32), b.logits(x).view(np.uint32))


def test_bad_model_path_types(tmp_path):
    with pytest.raises(nin.InvalidArgumentError, match="NUL"):
        nin.Model(str(tmp_path / "a\0b.nin"))
    with pytest.raises(nin.InvalidArgumentError, match="model path"):
        nin.Model(12)  # type: ignore[arg-type]
    with pytest.raises(nin.InvalidArgumentError, match="empty"):
        nin.Model("")


def test_bad_constructor_arguments(small_model_path):
    for threads in (0, 257, -1, 1.5, True, "2"):
        with pytest.raises(nin.InvalidArgumentError, match="threads"):
            nin.Model(small_model_path, threads=threads)  # type: ignore[arg-type]
    for max_batch in (0, 65537, 2.0):
        with pytest.raises(nin.InvalidArgumentError, match="max_batch"):
            nin.Model(small_model_path, max_batch=max_batch)  # type: ignore[arg-type]


def test_default_model_env(monkeypatch, tmp_path, small_model_path):
    monkeypatch.setenv("NIN_MODEL", str(small_model_path))
    with nin.Model() as model:
        assert model.path == str(small_model_path)
    monkeypatch.setenv("NIN_MODEL", str(tmp_path / "missing.nin"))
    with pytest.raises(nin.NinIOError, match="missing.nin"):
        nin.Model()


# ---- PNG files -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["corrupt.png", "truncated.png", "not_a_png.png", "empty.png"])
def test_bad_png_files(png_dir, small_model, name):
    path = png_dir / name
    with pytest.raises(nin.BadImageError) as info:
        nin.load_png(path)
    assert info.value.message and info.value.status_name == "NIN_ERROR_BAD_IMAGE"
    with pytest.raises(nin.BadImageError):
        small_model.predict(str(path))
    with pytest.raises(nin.BadImageError):
        small_model.classify(path)
    with pytest.raises(nin.BadImageError):
        small_model.predict([png_dir / "gray28.png", path])


def test_missing_png(tmp_path, small_model):
    missing = tmp_path / "missing.png"
    # A PNG that cannot be opened is an I/O error (a corrupt one is a bad image).
    with pytest.raises(nin.NinIOError) as info:
        nin.load_png(missing)
    assert "missing.png" in str(info.value)
    with pytest.raises(nin.NinIOError):
        small_model.classify(str(missing))


def test_load_png_channels(png_dir):
    assert nin.load_png(png_dir / "gray28.png").shape == (28, 28, 1)
    assert nin.load_png(png_dir / "rgb40x30.png").shape == (30, 40, 3)
    assert nin.load_png(png_dir / "rgba17x23.png").shape == (23, 17, 4)
    assert nin.load_png(str(png_dir / "graya9x8.png")).shape == (8, 9, 2)
    a = nin.load_png(png_dir / "rgb40x30.png")
    assert a.dtype == np.uint8 and a.flags.c_contiguous and a.flags.writeable


# ---- inputs --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.int16, np.int32, np.uint16, np.int8, np.bool_,
                                   np.float16, np.complex64])
def test_wrong_dtype(small_model, dtype):
    c, h, w = small_model.input_shape
    x = np.zeros((2, c, h, w), dtype=dtype)
    with pytest.raises(nin.InvalidArgumentError) as info:
        small_model.predict(x)
    assert str(np.dtype(dtype)) in str(info.value) and "dtype" in str(info.value)
    assert info.value.status_name == "NIN_ERROR_INVALID_ARGUMENT"
    assert isinstance(info.value, ValueError)


def test_float64_hint(small_model):
    with pytest.raises(nin.InvalidArgumentError, match=r"astype\(np.float32\)"):
        small_model.logits(np.zeros((1,) + small_model.input_shape))


def test_python_lists_of_numbers_are_refused(small_model):
    with pytest.raises(nin.InvalidArgumentError, match="item 0"):
        small_model.predict([[1, 2], [3, 4]])  # type: ignore[list-item]
    with pytest.raises(nin.InvalidArgumentError, match="not int"):
        small_model.predict(7)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(5,), (1, 2, 3, 4, 1), (2, 3, 4, 5, 6, 7)])
def test_wrong_ndim_u8(small_model, shape):
    with pytest.raises(nin.InvalidArgumentError, match="dimensions"):
        small_model.predict(np.zeros(shape, np.uint8))


def test_wrong_channels_and_empty_images(small_model):
    with pytest.raises(nin.InvalidArgumentError, match="5 channels"):
        small_model.predict(np.zeros((2, 10, 10, 5), np.uint8))
    with pytest.raises(nin.InvalidArgumentError, match="at least 1x1"):
        small_model.predict(np.zeros((0, 10), np.uint8))
    with pytest.raises(nin.InvalidArgumentError, match="at least 1x1"):
        small_model.predict(np.zeros((3, 0, 10, 1), np.uint8))
    with pytest.raises(nin.InvalidArgumentError, match="item 1"):
        small_model.predict([np.zeros((4, 4), np.uint8), np.zeros((4, 4, 6), np.uint8)])
    with pytest.raises(nin.InvalidArgumentError, match="item 0.*float32"):
        small_model.predict([np.zeros((4, 4), np.float32)])


def test_too_large_image_is_refused_by_runtime(small_model):
    # One side over 65536: the runtime's own check, no giant allocation (width 65537, height 1).
    with pytest.raises(nin.InvalidArgumentError, match="65536"):
        small_model.predict(np.zeros((1, 65537), np.uint8))


@pytest.mark.parametrize("delta", [(1, 0, 0), (0, 1, 0), (0, 0, -1)])
def test_wrong_float_shape(small_model, delta):
    c, h, w = small_model.input_shape
    shape = (2, c + delta[0], h + delta[1], w + delta[2])
    with pytest.raises(nin.InvalidArgumentError) as info:
        small_model.predict(np.zeros(shape, np.float32))
    assert str(shape) in str(info.value) and str((c, h, w)) in str(info.value)


def test_float_wrong_ndim_and_nhwc(rgb_model):
    c, h, w = rgb_model.input_shape
    with pytest.raises(nin.InvalidArgumentError, match="N x C x H x W"):
        rgb_model.predict(np.zeros((h, w, c), np.float32))  # channels last: not the PyTorch layout
    with pytest.raises(nin.InvalidArgumentError, match="N x C x H x W"):
        rgb_model.predict(np.zeros((1, 1, c, h, w), np.float32))


def test_prepared_u8_wrong_shape(rgb_model):
    c, h, w = rgb_model.input_shape
    with pytest.raises(nin.InvalidArgumentError, match="prepared uint8"):
        rgb_model.predict(np.zeros((2, h, w + 1, c), np.uint8), prepared=True)
    with pytest.raises(nin.InvalidArgumentError, match="prepared uint8"):
        rgb_model.predict(np.zeros((2, c, h, w), np.uint8), prepared=True)


def test_nan_is_refused_by_runtime(small_model):
    x = np.full((2,) + small_model.input_shape, 0.5, np.float32)
    x[1, 0, 0, 0] = np.nan
    with pytest.raises(nin.InvalidArgumentError, match="NaN"):
        small_model.predict(x)


def test_non_contiguous_inputs_are_copied(rgb_model):
    c, h, w = rgb_model.input_shape
    rng = np.random.default_rng(5)
    big = rng.integers(0, 256, (4, 2 * h, 2 * w, c + 1), dtype=np.uint8)
    view = big[:, ::2, ::2, :c]                      # strided, not contiguous
    assert not view.flags.c_contiguous
    expected = rgb_model.logits(np.ascontiguousarray(view))
    assert np.array_equal(rgb_model.logits(view).view(np.uint32), expected.view(np.uint32))
    chw = np.ascontiguousarray(view.transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255)
    fortran = np.asfortranarray(chw)
    assert not fortran.flags.c_contiguous
    assert np.array_equal(rgb_model.logits(fortran).view(np.uint32), expected.view(np.uint32))
    be = chw.astype(">f4")                            # big-endian float32: converted
    assert np.array_equal(rgb_model.logits(be).view(np.uint32), expected.view(np.uint32))
    readonly = np.ascontiguousarray(view)
    readonly.setflags(write=False)
    assert np.array_equal(rgb_model.logits(readonly).view(np.uint32), expected.view(np.uint32))


def test_empty_batch(small_model):
    assert small_model.predict(np.zeros((0, 5, 5), np.uint8)).shape == (0, small_model.class_count)
    assert small_model.predict([]).shape == (0, small_model.class_count)
    assert small_model.logits(np.zeros((0,) + small_model.input_shape, np.float32)).shape == (0, 4)


# ---- classify / top ------------------------------------------------------------------------

@pytest.mark.parametrize("top", [0, -1, 5, 100, True, 1.0, "3"])
def test_top_out_of_range(small_model, top):
    assert small_model.class_count == 4
    image = np.zeros((9, 8), np.uint8)
    with pytest.raises(nin.InvalidArgumentError, match="top"):
        small_model.classify(image, top=top)  # type: ignore[arg-type]


def test_classify_needs_one_image(small_model):
    with pytest.raises(nin.InvalidArgumentError, match="one image"):
        small_model.classify(np.zeros((3, 9, 8), np.uint8))


def test_top_k_valid_range(small_model):
    image = np.arange(72, dtype=np.uint8).reshape(9, 8)
    for k in range(1, 5):
        ranked = small_model.classify(image, top=k)
        assert len(ranked) == k
        assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    assert small_model.classify(image, top=np.int64(2))
    assert len(small_model.classify(image)) == 4          # default: 5, or every class if fewer


# ---- closed models, results before runs ------------------------------------------------------

def test_closed_model(small_model_path):
    model = nin.Model(small_model_path)
    model.predict(np.zeros((9, 8), np.uint8))
    model.close()
    assert model.closed
    model.close()                                   # idempotent
    x = np.zeros((9, 8), np.uint8)
    for call in (lambda: model.predict(x), lambda: model.logits(x), lambda: model.classify(x),
                 lambda: model.confidence_maps(), lambda: model.confidence_maps(x),
                 lambda: model.metadata("name"), lambda: model.input_shape, lambda: model.labels,
                 lambda: model.class_count, lambda: model.map_shape, lambda: model.arena_bytes(),
                 lambda: model.kernels,
                 lambda: model.result_count()):
        with pytest.raises(nin.StateError, match="closed"):
            call()
    assert "closed" in repr(model)
    with pytest.raises(nin.StateError):
        with model:
            pass


def test_context_manager_closes(small_model_path):
    with nin.Model(small_model_path) as model:
        model.predict(np.zeros((9, 8), np.uint8))
    assert model.closed


def test_close_waits_for_other_threads(small_model_path):
    model = nin.Model(small_model_path)
    x = np.random.default_rng(3).integers(0, 256, (64, 9, 8), dtype=np.uint8)
    errors: list = []
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            try:
                model.predict(x)
            except nin.StateError:
                return
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    model.predict(x)
    model.close()
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors


def test_results_before_any_run(small_model):
    with pytest.raises(nin.StateError, match="not run"):
        small_model.confidence_maps()
    assert small_model.result_count() == 0


def test_failed_run_leaves_state_error(small_model):
    small_model.predict(np.zeros((9, 8), np.uint8))
    assert small_model.result_count() == 1
    bad = np.full((1,) + small_model.input_shape, np.nan, np.float32)
    with pytest.raises(nin.InvalidArgumentError):
        small_model.predict(bad)
    # A refused float run discards the previous results (the runtime resets them first).
    with pytest.raises(nin.StateError) as info:
        small_model.confidence_maps()
    assert info.value.status_name == "NIN_ERROR_STATE"


def test_maps_after_chunked_call(small_model_path):
    with nin.Model(small_model_path, max_batch=2) as model:
        x = np.zeros((5, 9, 8), np.uint8)
        model.predict(x)
        with pytest.raises(nin.StateError, match="max_batch"):
            model.confidence_maps()
        assert model.confidence_maps(x).shape == (5,) + model.map_shape


def test_metadata_and_arena_bytes_arguments(small_model):
    assert small_model.metadata("no such key") is None
    with pytest.raises(nin.InvalidArgumentError):
        small_model.metadata(None)  # type: ignore[arg-type]
    with pytest.raises(nin.InvalidArgumentError, match="NUL"):
        small_model.metadata("na\0me")
    for bad in (0, -1, 65537, 1.0):
        with pytest.raises(nin.InvalidArgumentError, match="batch_size"):
            small_model.arena_bytes(bad)  # type: ignore[arg-type]
