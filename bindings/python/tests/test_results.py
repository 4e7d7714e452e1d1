"""Results through the bindings: bit-exact logits on the golden vectors by every input path,
u8 (runtime preprocessing) vs float32 prepared input, preprocessing vs the numpy reference,
batching/chunking, probabilities, confidence maps."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import GOLDEN_NET, golden_cases, golden_input, golden_logits

import nin

CASES = golden_cases()


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z.astype(np.float32))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("case", CASES)
def test_golden_logits_every_input_path(case):
    with nin.Model(GOLDEN_NET / case / "model.nin") as model:
        x = golden_input(case, model)                       # N x H x W x C, already prepared
        ref = golden_logits(case, model)
        c, h, w = model.input_shape
        # 1. uint8 images through nin_run_images (same size: preprocessing is the identity)
        assert np.array_equal(_bits(model.logits(x)), _bits(ref))
        # 2. prepared uint8 through nin_run_prepared_u8
        assert np.array_equal(_bits(model.logits(x, prepared=True)), _bits(ref))
        # 3. float32 N x C x H x W through nin_run_prepared_f32 (x / 255 quantizes back to x)
        f = (x.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255))
        assert np.array_equal(_bits(model.logits(f)), _bits(ref))
        # 4. one image at a time, each as its own call, and as a list of images
        for n in range(len(x)):
            assert np.array_equal(_bits(model.logits(x[n])), _bits(ref[n:n + 1]))
            assert np.array_equal(_bits(model.logits(f[n])), _bits(ref[n:n + 1]))
        assert np.array_equal(_bits(model.logits(list(x))), _bits(ref))
        # probabilities: softmax of the logits (platform expf: tolerance)
        p = model.predict(x)
        assert p.dtype == np.float32 and p.shape == ref.shape
        np.testing.assert_allclose(p, _softmax(ref), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("case", ["k11s4_batch3", "zin_padding", "nonsquare"])
def test_threads_and_batching_do_not_change_results(case):
    path = GOLDEN_NET / case / "model.nin"
    with nin.Model(path) as one:
        c, h, w = one.input_shape
        x = np.random.default_rng(7).integers(0, 256, (11, h, w, c), dtype=np.uint8)
        expected = one.logits(x)
        maps = one.confidence_maps(x)
    for threads, max_batch in ((1, 1), (3, 4), (4, 256)):
        with nin.Model(path, threads=threads, max_batch=max_batch) as model:
            assert np.array_equal(_bits(model.logits(x)), _bits(expected))
            assert np.array_equal(_bits(model.confidence_maps(x)), _bits(maps))


def test_context_batch_grows(rgb_model):
    c, h, w = rgb_model.input_shape
    rng = np.random.default_rng(8)
    batches = [rng.integers(0, 256, (n, h, w, c), dtype=np.uint8) for n in (1, 3, 2, 9, 1)]
    singles = [np.concatenate([rgb_model.logits(b[i]) for i in range(len(b))]) for b in batches]
    for b, s in zip(batches, singles):
        assert np.array_equal(_bits(rgb_model.logits(b)), _bits(s))


def test_u8_and_f32_prepared_paths_agree(rgb_model):
    c, h, w = rgb_model.input_shape
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, (6, h, w, c), dtype=np.uint8)
    f = x.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
    assert np.array_equal(_bits(rgb_model.logits(x)), _bits(rgb_model.logits(f)))
    assert np.array_equal(_bits(rgb_model.predict(x)), _bits(rgb_model.predict(f)))
    # Values off the 1/255 grid quantize as clamp(floor(x * 255 + 0.5), 0, 255).
    from nin_tools.preprocess import quantize_float_input

    g = rng.uniform(-0.2, 1.2, f.shape).astype(np.float32)
    q = quantize_float_input(g).transpose(0, 2, 3, 1)
    assert np.array_equal(_bits(rgb_model.logits(g)), _bits(rgb_model.logits(np.ascontiguousarray(q))))


@pytest.mark.parametrize("shape", [(28, 28), (30, 40, 3), (23, 17, 4), (8, 9, 2), (35, 39, 1),
                                   (100, 7), (1, 1, 3)])
def test_runtime_preprocessing_matches_numpy_reference(rgb_model, small_model, shape):
    """Any-size uint8 images: the runtime's conversion + resize (docs/PREPROCESSING.md) equals
    nin_tools.preprocess, so logits equal those of the reference-prepared input."""
    from nin_tools.preprocess import prepare

    image = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    for model in (rgb_model, small_model):
        prepared = prepare(image, model.input_shape)
        c, h, w = model.input_shape
        prepared = np.ascontiguousarray(prepared).reshape(h, w, c)
        assert np.array_equal(_bits(model.logits(image)), _bits(model.logits(prepared, prepared=True)))


def test_batch_layouts_are_equivalent(small_model):
    rng = np.random.default_rng(12)
    gray = rng.integers(0, 256, (5, 20, 30), dtype=np.uint8)
    expected = small_model.logits(gray)                              # N x H x W
    assert np.array_equal(_bits(small_model.logits(gray[..., None])), _bits(expected))  # N x H x W x 1
    assert np.array_equal(_bits(small_model.logits(list(gray))), _bits(expected))      # list of H x W
    rgb = np.repeat(gray[..., None], 3, axis=3)                      # gray as RGB: same luma
    assert np.array_equal(_bits(small_model.logits(rgb)), _bits(expected))
    assert np.array_equal(_bits(small_model.logits(gray[2])), _bits(expected[2:3]))  # H x W


def test_png_paths_match_arrays(png_dir, rgb_model):
    paths = [png_dir / "gray28.png", png_dir / "rgb40x30.png", png_dir / "rgba17x23.png",
             png_dir / "graya9x8.png"]
    arrays = [nin.load_png(p) for p in paths]
    from nin_tools.png_read import read_png  # the independent pure-Python decoder

    for path, array in zip(paths, arrays):
        independent = read_png(str(path))
        assert np.array_equal(array.reshape(independent.shape), independent)
    by_path = rgb_model.logits([str(p) for p in paths])
    assert np.array_equal(_bits(by_path), _bits(rgb_model.logits(arrays)))
    assert np.array_equal(_bits(rgb_model.logits(paths[1])), _bits(by_path[1:2]))


def test_classify_matches_predict(rgb_model):
    c, h, w = rgb_model.input_shape
    x = np.random.default_rng(13).integers(0, 256, (h, w, c), dtype=np.uint8)
    p = rgb_model.predict(x)[0]
    ranked = rgb_model.classify(x, top=rgb_model.class_count)
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    assert [label for label, _ in ranked] == [rgb_model.labels[i] for i in order]
    assert [prob for _, prob in ranked] == [float(p[i]) for i in order]
    assert rgb_model.top_k(x, 2) == [(i, float(p[i])) for i in order[:2]]


def test_confidence_maps_average_to_logits(rgb_model):
    c, h, w = rgb_model.input_shape
    x = np.random.default_rng(14).integers(0, 256, (4, h, w, c), dtype=np.uint8)
    logits = rgb_model.logits(x)
    maps = rgb_model.confidence_maps()                  # the last run of this thread
    assert maps.shape == (4,) + rgb_model.map_shape and maps.dtype == np.float32
    np.testing.assert_allclose(maps.mean(axis=(2, 3)), logits, rtol=1e-5, atol=1e-5)
    assert np.array_equal(_bits(rgb_model.confidence_maps(x)), _bits(maps))
    rgb_model.classify(x[1])
    assert np.array_equal(_bits(rgb_model.confidence_maps()), _bits(maps[1:2]))
    assert rgb_model.result_count() == 1


def test_model_properties(rgb_model, rgb_model_path):
    assert rgb_model.input_shape == (3, 35, 39)
    assert rgb_model.class_count == len(rgb_model.labels) == rgb_model.map_shape[0]
    assert all(isinstance(label, str) and label for label in rgb_model.labels)
    assert rgb_model.metadata("name") == "k11s4_batch3"
    assert rgb_model.path == str(rgb_model_path)
    one, eight = rgb_model.arena_bytes(), rgb_model.arena_bytes(8)
    assert 0 < one < eight
    assert rgb_model.arena_bytes(batch_size=1) == one
    assert "k11s4_batch3" in repr(rgb_model)
    assert rgb_model.kernels in [family.name for family in nin.kernel_families() if family.supported]


def test_kernel_families_list_the_librarys(monkeypatch):
    # The library's list: names once each, portable and generic last and supported, a reason
    # exactly where a family does not run; a load without NIN_ISA takes the first supported one.
    monkeypatch.delenv("NIN_ISA", raising=False)
    families = nin.kernel_families()
    names = [family.name for family in families]
    assert len(names) == len(set(names)) and names[-2:] == ["portable", "generic"]
    assert families[-1].supported and families[-2].supported
    for family in families:
        assert family.supported == (family.reason is None)
        assert family.reason is None or family.reason.startswith(("CPU lacks ", "the OS", "the kernel"))
    assert nin.Model().kernels == next(family.name for family in families if family.supported)


@pytest.mark.parametrize("family", ["generic", "portable"])
def test_kernels_name_the_family_nin_isa_asks_for(rgb_model_path, monkeypatch, family):
    # generic and portable run on every CPU; NIN_ISA is read when a model is loaded.
    monkeypatch.setenv("NIN_ISA", family)
    with nin.Model(rgb_model_path) as model:
        assert model.kernels == family
