"""A Model keeps working in child processes, with every multiprocessing start method.

Before contexts were fork-safe, a ``Model(threads=2)`` used in a process and then used again in
a forked child hung the child forever at 100% CPU (its wait spun for worker threads that do not
exist after fork). These tests run the model in the parent first (so its worker threads exist),
then in a child, and expect the parent's exact logits within a timeout, at 1 and 2 threads.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import time

import numpy as np
import pytest

from conftest import DEFAULT_MODEL

import nin

#: The model a forked child inherits (the case that used to hang); set by the parent.
_inherited = None
#: Seconds a child may take before the test calls it hung.
TIMEOUT = 60


def _input(model: "nin.Model") -> np.ndarray:
    c, h, w = model.input_shape
    return np.random.default_rng(5).integers(0, 256, (1, h, w, c), dtype=np.uint8)


def _child_logits(path: str, threads: int) -> bytes:
    """In the child: the inherited model when there is one (fork), else a new one."""
    model = _inherited if _inherited is not None else nin.Model(path, threads=threads)
    return model.logits(_input(model)).tobytes()


@pytest.fixture(params=[1, 2], ids=["threads1", "threads2"])
def used_model(request):
    """The default model with 1 or 2 threads, already run in this process."""
    global _inherited
    if not DEFAULT_MODEL.is_file():
        pytest.skip(f"{DEFAULT_MODEL} missing")
    with nin.Model(DEFAULT_MODEL, threads=request.param) as model:
        expected = model.logits(_input(model)).tobytes()
        _inherited = model
        try:
            yield model, request.param, expected
        finally:
            _inherited = None


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_multiprocessing_child_gets_parent_bits(used_model, method):
    model, threads, expected = used_model
    context = multiprocessing.get_context(method)
    pool = context.Pool(1)
    try:
        got = pool.apply_async(_child_logits, (str(DEFAULT_MODEL), threads)).get(timeout=TIMEOUT)
    except multiprocessing.TimeoutError:
        pytest.fail(f"child ({method}, threads={threads}) did not answer in {TIMEOUT} s: hung")
    finally:
        pool.terminate()
        pool.join()
    assert got == expected
    # The parent's model is unaffected by the child.
    assert model.logits(_input(model)).tobytes() == expected


def _wait(pid: int, deadline: float) -> "int | None":
    """The child's exit code, or None (after killing it) when it is still running at `deadline`."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


def test_os_fork_child_gets_parent_bits(used_model):
    model, threads, expected = used_model
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run on the inherited model, report, free it, exit without cleanup
        code = 1
        try:
            os.close(read_end)
            os.write(write_end, model.logits(_input(model)).tobytes())
            os.close(write_end)
            model.close()  # freeing the inherited contexts must not wait for the parent's threads
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + TIMEOUT
    got = b""
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_end, 65536) if ready else b""
            if not chunk:
                break
            got += chunk
    finally:
        os.close(read_end)
    code = _wait(pid, deadline)
    assert code is not None, f"forked child (threads={threads}) did not finish in {TIMEOUT} s: hung"
    assert code == 0
    assert got == expected
