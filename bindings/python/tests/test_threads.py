"""One Model shared by many threads gives exactly the single-thread answers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from conftest import GOLDEN_NET

import nin


def test_many_threads_share_one_model():
    path = GOLDEN_NET / "k11s4_batch3" / "model.nin"
    rng = np.random.default_rng(21)
    with nin.Model(path) as model:
        c, h, w = model.input_shape
        # Different sizes and batch sizes per task, so contexts grow differently per thread.
        tasks = []
        for i in range(48):
            n = 1 + i % 5
            size = (h + (i % 3) * 7, w - (i % 4) * 3, 1 + i % 4)
            tasks.append(rng.integers(0, 256, (n,) + size, dtype=np.uint8))
        expected = [model.predict(t) for t in tasks]
        expected_logits = [model.logits(t) for t in tasks]
        expected_maps = [model.confidence_maps(t) for t in tasks]
        expected_top = [model.classify(t[0], top=3) for t in tasks]

        start = threading.Barrier(8)
        seen_threads = set()

        def work(i: int):
            if i < 8:
                start.wait(30)        # make sure 8 threads really run at once
            seen_threads.add(threading.get_ident())
            t = tasks[i % len(tasks)]
            p = model.predict(t)
            maps_after = model.confidence_maps()          # this thread's last run: t
            lg = model.logits(t)
            return i, p, lg, maps_after, model.classify(t[0], top=3)

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(4 * len(tasks))))
        assert len(seen_threads) == 8
        for i, p, lg, maps, top in results:
            k = i % len(tasks)
            assert np.array_equal(p.view(np.uint32), expected[k].view(np.uint32))
            assert np.array_equal(lg.view(np.uint32), expected_logits[k].view(np.uint32))
            assert np.array_equal(maps.view(np.uint32), expected_maps[k].view(np.uint32))
            assert top == expected_top[k]


def test_threads_with_worker_threads_and_float_input():
    path = GOLDEN_NET / "nonsquare" / "model.nin"
    with nin.Model(path, threads=1) as serial:     # the expected logits: one thread, no workers
        shape = (7,) + serial.input_shape
        rng = np.random.default_rng(22)
        batches = [rng.random(shape, dtype=np.float32) for _ in range(12)]
        expected = [serial.logits(b) for b in batches]
    with nin.Model(path, threads=2, max_batch=3) as model:
        with ThreadPoolExecutor(max_workers=6) as pool:
            got = list(pool.map(model.logits, batches * 3))
        for i, g in enumerate(got):
            assert np.array_equal(g.view(np.uint32), expected[i % 12].view(np.uint32))


def test_contexts_of_finished_threads_are_released():
    path = GOLDEN_NET / "extremes" / "model.nin"
    with nin.Model(path) as model:
        x = np.zeros((2, 9, 8), np.uint8)
        for _ in range(20):
            t = threading.Thread(target=model.predict, args=(x,))
            t.start()
            t.join()
        import gc

        gc.collect()
        assert len(model._contexts) <= 1     # only live threads' contexts remain
