"""Python at scale: a Model pickles (so it reaches worker processes), a list with bad items can
return per-item errors instead of failing, classify_files streams results lazily, and a Dask
cluster of two worker processes gives exactly the serial results on 2,000 PNGs."""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest

from conftest import EXAMPLE_IMAGES, PACKAGE_ROOT, REPO

import nin

SMALL = REPO / "models" / "fashion_small.nin"


@pytest.fixture(scope="module")
def pngs(tmp_path_factory):
    """2,000 Fashion-MNIST-sized PNGs written by the independent encoder."""
    from nin_tools.png_write import write_png

    out = tmp_path_factory.mktemp("scale")
    rng = np.random.default_rng(11)
    paths = []
    for i in range(2000):
        path = out / f"img_{i:04d}.png"
        write_png(str(path), rng.integers(0, 256, (28, 28), dtype=np.uint8))
        paths.append(str(path))
    return paths


def test_model_pickles_from_its_path_and_from_bytes(tmp_path, monkeypatch):
    image = EXAMPLE_IMAGES / "test_00000_ankle_boot.png"
    monkeypatch.chdir(REPO)
    with nin.Model("models/fashion_small.nin", threads=2, max_batch=7) as model:
        expected = model.logits(image)
        blob = pickle.dumps(model)
        monkeypatch.chdir(tmp_path)                     # a relative path must still resolve
        copy = pickle.loads(blob)
        assert (copy._threads, copy._max_batch) == (2, 7)
        assert np.array_equal(copy.logits(image).view(np.uint32), expected.view(np.uint32))
        copy.close()
    from_bytes = nin.Model.from_bytes(SMALL.read_bytes(), max_batch=3)
    again = pickle.loads(pickle.dumps(from_bytes))
    assert again._max_batch == 3 and again._path is None
    assert np.array_equal(again.logits(image).view(np.uint32), expected.view(np.uint32))
    from_bytes.close()
    with pytest.raises(nin.StateError):
        pickle.dumps(from_bytes)


def test_per_item_errors(pngs, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    items = [pngs[0], str(tmp_path / "missing.png"), pngs[1], str(broken), b"not a png",
             np.zeros((5, 5), np.float32), np.full((9, 9), 7, np.uint8)]
    with nin.Model(SMALL) as model:
        with pytest.raises(nin.NinIOError):
            model.predict(items)
        rows, failures = model.predict(items, errors="return")
        assert sorted(failures) == [1, 3, 4, 5]
        assert isinstance(failures[1], nin.NinIOError) and "missing.png" in str(failures[1])
        assert isinstance(failures[3], nin.BadImageError)
        assert isinstance(failures[4], nin.BadImageError)
        assert isinstance(failures[5], nin.InvalidArgumentError)
        assert np.isnan(rows[[1, 3, 4, 5]]).all()
        good = model.predict([items[0], items[2], items[6]])
        assert np.array_equal(rows[[0, 2, 6]].view(np.uint32), good.view(np.uint32))
        logits, _ = model.logits(items, errors="return")
        assert np.array_equal(logits[[0, 2, 6]].view(np.uint32), model.logits([items[0], items[2], items[6]]).view(np.uint32))
        with pytest.raises(nin.InvalidArgumentError):
            model.predict(items, errors="ignore")
        with pytest.raises(nin.InvalidArgumentError):
            model.predict(np.zeros((2, 28, 28), np.uint8), errors="return")


def test_classify_files_is_lazy_and_ranks_like_classify(pngs):
    pulled = []

    def paths():
        for p in pngs[:25] + ["/no/such/file.png"] + pngs[25:30]:
            pulled.append(p)
            yield p

    with nin.Model(SMALL) as model:
        results = nin.classify_files(paths(), model=model, top=3, batch_size=8)
        first = next(results)
        assert len(pulled) == 8                 # only the first batch was read
        rest = [first] + list(results)
        assert [r.path for r in rest] == pngs[:25] + ["/no/such/file.png"] + pngs[25:30]
        for r in rest:
            if r.path == "/no/such/file.png":
                assert r.top == [] and isinstance(r.error, nin.NinIOError)
            else:
                assert r.error is None and r.top == model.classify(r.path, top=3)
        assert not model.closed                 # a given model stays open


def _classify_chunk(chunk, model):
    """Runs in a Dask worker process on the model it received (pickled: reloaded there)."""
    return [(r.path, r.top) for r in nin.classify_files(chunk, model=model, top=2, batch_size=64)]


def test_dask_local_cluster_equals_serial(pngs, monkeypatch):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (.ci/deps installs it)")
    import cloudpickle

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]))
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers cannot import this test file
    with nin.Model(SMALL) as model:
        serial = _classify_chunk(pngs, model)
        chunks = [pngs[i:i + 250] for i in range(0, len(pngs), 250)]
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            workers = client.run(os.getpid)
            assert len(set(workers.values())) == 2 and os.getpid() not in workers.values()
            futures = client.map(_classify_chunk, chunks, model=model)
            parallel = [item for part in client.gather(futures) for item in part]
    assert parallel == serial
