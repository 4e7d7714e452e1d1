"""``nin.Model``: a loaded model plus one lazily made inference context per thread."""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from ctypes import POINTER, byref, c_float, c_int, c_size_t, c_uint8, c_void_p
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._errors import InvalidArgumentError, NinError, NinIOError, StateError
from ._image import PathLike, PNGSource, encode_path, is_png_source, load_png
from ._lib import NinImage, check, get_lib, last_error

__all__ = ["Model", "default_model_path", "DEFAULT_MAX_BATCH", "ImageInput"]

#: Largest batch one context runs at once by default; bigger inputs are split into runs of this size.
DEFAULT_MAX_BATCH = 256
#: Most threads a context may use (NIN_MAX_THREADS of nin.h; tests/test_constants.py checks).
MAX_THREADS = 256
#: Most images one run may take (NIN_MAX_BATCH of nin.h).
MAX_BATCH = 65536

#: What predict/logits/classify accept: an array, a PNG (path or bytes), or a list of them.
ImageInput = Union[np.ndarray, PNGSource, Sequence[Union[np.ndarray, PNGSource]]]



def default_model_path() -> Path:
    """The shipped default model: ``$NIN_MODEL`` when set, else the first readable
    ``fashion_classic.nin`` among the places the library looks (``nin_default_model_path``:
    ``models/`` beside the bundled libnin.so, an install's ``share/nin/models/``, the checkout's
    ``models/``, ``./models/``), the same list nin-infer uses.

    Raises:
        NinIOError: none exists (the message lists every place looked at).
    """
    buffer = ctypes.create_string_buffer(4096)
    check(get_lib().nin_default_model_path(buffer, len(buffer)))
    return Path(os.fsdecode(os.path.normpath(buffer.value)))


# ---- Per-thread contexts -------------------------------------------------------------------

def _free_context(lib: ctypes.CDLL, handle: Optional[int], keepalive: Any) -> None:
    lib.nin_context_free(handle)


def _free_model(lib: ctypes.CDLL, handle: Optional[int], keepalive: Any) -> None:
    lib.nin_model_free(handle)


class _ThreadContext:
    """One nin_context owned by one thread (via the model's threading.local)."""

    __slots__ = ("handle", "batch_size", "last_chunked", "_finalizer", "__weakref__")

    def __init__(self, lib: ctypes.CDLL, model_handle: Optional[int], threads: int, batch_size: int,
                 keepalive: Any) -> None:
        params = lib.nin_context_default_params()
        params.threads = threads
        params.batch_size = batch_size
        handle = c_void_p()
        check(lib.nin_context_create(model_handle, byref(params), byref(handle)))
        self.handle: Optional[int] = handle.value
        self.batch_size = batch_size
        self.last_chunked = False
        # keepalive: the borrowed model bytes of Model.from_bytes; a context keeps the C model
        # (which reads those bytes in place) alive, so the bytes must outlive every context.
        self._finalizer = weakref.finalize(self, _free_context, lib, handle.value, keepalive)

    def free(self) -> None:
        self.handle = None
        self._finalizer()


def _reload(kind: str, source: Union[str, bytes], threads: int, max_batch: int) -> "Model":
    """Unpickles a Model (see ``Model.__reduce__``)."""
    if kind == "path":
        return Model(source, threads=threads, max_batch=max_batch)
    return Model.from_bytes(source, threads=threads, max_batch=max_batch)


# ---- Input normalization -------------------------------------------------------------------

class _Job:
    """Validated input, ready to cross the boundary.

    kind "images": ``images`` holds contiguous uint8 H x W x C arrays (one per image) or one
    contiguous N x H x W x C array in ``data``; kind "u8": ``data`` is N x H x W x C prepared
    input; kind "f32": ``data`` is N x C x H x W float32.
    """

    __slots__ = ("kind", "count", "data", "images")

    def __init__(self, kind: str, count: int, data: Optional[np.ndarray] = None,
                 images: Optional[List[np.ndarray]] = None) -> None:
        self.kind = kind
        self.count = count
        self.data = data
        self.images = images


def _is_png(x: Any) -> bool:
    return is_png_source(x)


def _nin_image(job: "_Job", i: int) -> NinImage:
    """Image ``i`` of an "images" job as a ``nin_image`` borrowing the job's pixels."""
    if job.images is not None:
        img = job.images[i]
        address = img.ctypes.data
        h, w, c = img.shape
    else:
        assert job.data is not None
        _, h, w, c = job.data.shape
        address = job.data.ctypes.data + i * h * w * c
    entry = NinImage()
    entry.pixels = ctypes.cast(address, POINTER(c_uint8))
    entry.width, entry.height, entry.channels, entry.stride = w, h, c, 0
    return entry


def _describe(a: np.ndarray) -> str:
    return f"shape {tuple(a.shape)} dtype {a.dtype}"


def _as_u8(a: np.ndarray) -> np.ndarray:
    return np.require(a, dtype=np.uint8, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _check_image_dims(shape: Tuple[int, ...], what: str) -> None:
    h, w, c = shape[-3], shape[-2], shape[-1]
    if h < 1 or w < 1:
        raise InvalidArgumentError(f"{what} has size {h}x{w} (height x width); it must be at least 1x1")
    if not 1 <= c <= 4:
        raise InvalidArgumentError(
            f"{what} has {c} channels in its last axis; uint8 images are H x W or H x W x C "
            f"with C 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)")


class Model:
    """A loaded, validated ``.nin`` model and the contexts that run it.

    ``Model(path)`` loads the model file at ``path``; ``Model()`` loads the default model
    (``$NIN_MODEL``, else ``<repo>/models/fashion_classic.nin``, else the copy bundled in the
    package). The model is immutable and one ``Model`` may be used from any number of threads:
    each thread gets its own inference context (created on first use, its batch size grown as
    needed up to ``max_batch``), so calls from different threads run in parallel.

    Inputs accepted by :meth:`predict`, :meth:`logits`, :meth:`classify` and
    :meth:`confidence_maps`:

    - ``uint8`` pixels of any size, converted and resized by the runtime
      (docs/PREPROCESSING.md): ``H x W`` (gray), ``H x W x C`` with ``C`` in 1..4, ``N x H x W``,
      ``N x H x W x C``. A 3-D array whose last axis is 1..4 is one ``H x W x C`` image;
      otherwise it is ``N`` gray images.
    - a PNG: the path of a PNG file (``str`` or ``os.PathLike``) or its bytes (``bytes``,
      ``bytearray``, ``memoryview``), decoded by :func:`load_png`; or a list of PNGs and/or
      uint8 images (each its own size).
    - ``float32`` tensors already prepared in PyTorch's layout, ``N x C x H x W`` or
      ``C x H x W`` equal to :attr:`input_shape`, values in [0, 1] (quantized by the runtime
      as ``clamp(floor(x * 255 + 0.5), 0, 255)``).
    - with ``prepared=True``: ``uint8`` input already in the model's layout,
      ``N x H x W x C`` or ``H x W x C`` (``H x W`` / ``N x H x W`` for one channel), run
      without preprocessing (``nin_run_prepared_u8``).

    Non-contiguous arrays are copied; other dtypes (float64, int16, ...), other ranks and
    shapes raise :class:`InvalidArgumentError` before anything reaches the library.

    Use as a context manager or call :meth:`close` to release the model and its contexts
    deterministically; otherwise they are released when the object is garbage collected.
    """

    def __init__(self, path: Optional[PathLike] = None, *, threads: int = 1,
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        """Loads the model file at ``path`` (None: :func:`default_model_path`).

        Args:
            path: a ``.nin`` file, or None for the default model.
            threads: worker threads per run of each context (1..MAX_THREADS); results are identical
                for any count.
            max_batch: most images per run (1..MAX_BATCH); larger inputs are run in pieces.

        Raises:
            NinIOError: the file cannot be opened or mapped (or no default model exists).
            BadModelError: the file is not a valid model (truncated, corrupt, wrong magic...).
            InvalidArgumentError: a bad argument.
        """
        self._setup(threads, max_batch)
        if path is None:
            path = default_model_path()
        raw = encode_path(path, "model path")
        lib = get_lib()
        handle = c_void_p()
        check(lib.nin_model_load_file(raw, byref(handle)))
        self._adopt(lib, handle.value, os.fsdecode(raw), None)
        self._source: Tuple[str, Any] = ("path", os.path.abspath(raw))

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview, np.ndarray], *,
                   threads: int = 1, max_batch: int = DEFAULT_MAX_BATCH) -> "Model":
        """Loads a model from the bytes of a ``.nin`` file (``nin_model_load_memory``).

        The bytes are copied once into a 64-byte-aligned buffer that the model reads in place
        and that this object keeps alive as long as the model or any of its contexts lives.
        """
        self = cls.__new__(cls)
        self._setup(threads, max_batch)
        try:
            view = memoryview(data).cast("B")  # type: ignore[arg-type]
        except TypeError:
            raise InvalidArgumentError(
                f"model data must be bytes-like, not {type(data).__name__}") from None
        size = view.nbytes
        if size == 0:
            raise InvalidArgumentError("model data is empty")
        storage = np.empty(size + 64, dtype=np.uint8)
        offset = (-storage.ctypes.data) % 64
        buffer = storage[offset:offset + size]
        buffer[:] = np.frombuffer(view, dtype=np.uint8)
        lib = get_lib()
        handle = c_void_p()
        check(lib.nin_model_load_memory(buffer.ctypes.data, size, byref(handle)))
        self._adopt(lib, handle.value, None, storage)
        self._source = ("bytes", buffer)
        return self

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickles as the recipe to load the model again: from its file (by absolute path) or,
        for :meth:`from_bytes` models, from a copy of its bytes, with the same ``threads`` and
        ``max_batch``. So a Model can be sent to worker processes (multiprocessing, Dask, Ray,
        Spark); each process that unpickles it loads its own model and contexts."""
        self._check_open()
        kind, source = self._source
        data = os.fsdecode(source) if kind == "path" else bytes(source)
        return (_reload, (kind, data, self._threads, self._max_batch))

    # -- construction helpers --------------------------------------------------------------

    def _setup(self, threads: int, max_batch: int) -> None:
        self._handle: Optional[int] = None
        self._closed = True
        if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
            raise InvalidArgumentError(f"threads is {threads!r}, expected an int from 1 to {MAX_THREADS}")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or not 1 <= max_batch <= MAX_BATCH:
            raise InvalidArgumentError(f"max_batch is {max_batch!r}, expected an int from 1 to {MAX_BATCH}")
        self._threads = threads
        self._max_batch = max_batch

    def _adopt(self, lib: ctypes.CDLL, handle: Optional[int], path: Optional[str], keepalive: Any) -> None:
        self._lib = lib
        self._handle = handle
        self._path = path
        self._keepalive = keepalive
        self._finalizer = weakref.finalize(self, _free_model, lib, handle, keepalive)
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._closed = False
        self._local = threading.local()
        self._contexts: "weakref.WeakSet[_ThreadContext]" = weakref.WeakSet()

        c, h, w = c_int(), c_int(), c_int()
        check(lib.nin_model_input_shape(handle, byref(c), byref(h), byref(w)))
        self._input_shape = (c.value, h.value, w.value)
        check(lib.nin_model_map_shape(handle, byref(c), byref(h), byref(w)))
        self._map_shape = (c.value, h.value, w.value)
        self._class_count = int(lib.nin_model_class_count(handle))
        labels = []
        for i in range(self._class_count):
            raw = lib.nin_model_label(handle, i)
            if raw is None:
                raise StateError(f"model has no label for class {i}: {last_error()}")
            labels.append(raw.decode("utf-8", "replace"))
        self._labels = tuple(labels)
        raw = lib.nin_model_kernels(handle)
        if raw is None:
            raise StateError(f"model names no kernel family: {last_error()}")
        self._kernels = raw.decode("ascii")

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the model and every thread's context. Waits for calls in flight on other
        threads to finish; later calls raise :class:`StateError`. Idempotent."""
        if self._handle is None:
            return
        with self._cond:
            if self._closed:
                return
            self._closed = True
            while self._active:
                self._cond.wait()
            contexts = list(self._contexts)
        for context in contexts:
            context.free()
        self._finalizer()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def __enter__(self) -> "Model":
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._closed:
            return "<nin.Model (closed)>"
        name = self.metadata("name") or "?"
        return (f"<nin.Model {name!r} path={self._path!r} input={self._input_shape} "
                f"classes={self._class_count}>")

    def _check_open(self) -> None:
        if self._closed:
            raise StateError("the model is closed")

    def _enter(self) -> None:
        with self._cond:
            if self._closed:
                raise StateError("the model is closed")
            self._active += 1

    def _leave(self) -> None:
        with self._cond:
            self._active -= 1
            if self._active == 0:
                self._cond.notify_all()

    # -- properties ------------------------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        """The file the model was loaded from (None for :meth:`from_bytes`)."""
        return self._path

    @property
    def threads(self) -> int:
        """Worker threads per run of each context."""
        return self._threads

    @property
    def max_batch(self) -> int:
        """Most images per run; larger inputs are split."""
        return self._max_batch

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """The model's input tensor shape (channels, height, width)."""
        self._check_open()
        return self._input_shape

    @property
    def class_count(self) -> int:
        """Number of classes (length of the logits)."""
        self._check_open()
        return self._class_count

    @property
    def labels(self) -> Tuple[str, ...]:
        """Class labels, index order."""
        self._check_open()
        return self._labels

    @property
    def kernels(self) -> str:
        """The kernel family this model runs, chosen at load: one of :func:`nin.kernel_families`
        (the best the CPU has, unless the NIN_ISA environment variable named another); every
        family gives the same results."""
        self._check_open()
        return self._kernels

    @property
    def weight_memory(self) -> Tuple[int, int]:
        """``(packed_bytes, weights_in_place)``: bytes the kernel family allocated at load
        (repacked weights, folded biases, requantization tables), and bytes of the model file
        it reads as weights in place (shared by every process mapping the file). A file with
        quad weights (``nin-convert --quad-weights``) needs no repacked weights on the quad
        families (nin_model_weight_memory in nin.h)."""
        self._check_open()
        packed, in_place = c_size_t(0), c_size_t(0)
        check(self._lib.nin_model_weight_memory(self._handle, byref(packed), byref(in_place)))
        return int(packed.value), int(in_place.value)

    @property
    def map_shape(self) -> Tuple[int, int, int]:
        """Shape of one image's confidence maps: (classes, height, width)."""
        self._check_open()
        return self._map_shape

    def metadata(self, key: str) -> Optional[str]:
        """The model's metadata value for ``key`` ("name", "dataset", "accuracy_int8", ...),
        or None if the model has no such key."""
        if not isinstance(key, str):
            raise InvalidArgumentError(f"metadata key must be a str, not {type(key).__name__}")
        raw_key = key.encode("utf-8")
        if b"\0" in raw_key:
            raise InvalidArgumentError(f"metadata key {key!r} contains a NUL character")
        self._enter()
        try:
            raw = self._lib.nin_model_metadata(self._handle, raw_key)
        finally:
            self._leave()
        return None if raw is None else raw.decode("utf-8", "replace")

    def arena_bytes(self, batch_size: int = 1) -> int:
        """Bytes of arena one context of this model needs for ``batch_size`` images per run
        (with this model's ``threads``)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
            raise InvalidArgumentError(f"batch_size is {batch_size!r}, expected an int from 1 to {MAX_BATCH}")
        params = self._lib.nin_context_default_params()
        params.threads = self._threads
        params.batch_size = batch_size
        self._enter()
        try:
            size = int(self._lib.nin_model_arena_bytes(self._handle, byref(params)))
            if size == 0:
                raise InvalidArgumentError(last_error() or "nin_model_arena_bytes returned 0")
        finally:
            self._leave()
        return size

    # -- inputs ----------------------------------------------------------------------------

    def _job(self, batch: Any, prepared: bool) -> _Job:
        if _is_png(batch):
            return _Job("images", 1, images=[load_png(batch)])
        if isinstance(batch, (list, tuple)):
            return self._list_job(batch)
        if not isinstance(batch, np.ndarray):
            if hasattr(batch, "__array__") or hasattr(batch, "__array_interface__"):
                batch = np.asarray(batch)
            else:
                raise InvalidArgumentError(
                    f"expected a numpy array, a PNG (path or bytes) or a list of them, not {type(batch).__name__}")
        a: np.ndarray = batch
        if a.dtype == np.uint8:
            return self._u8_job(a) if prepared else self._image_job(a)
        if a.dtype.kind == "f" and a.dtype.itemsize == 4:
            return self._f32_job(a)
        if a.dtype.kind == "f":
            hint = "; convert with .astype(np.float32)"
        elif a.dtype.kind in "iub":
            hint = "; convert pixels in 0..255 with .astype(np.uint8)"
        else:
            hint = ""
        raise InvalidArgumentError(
            f"unsupported dtype {a.dtype} (shape {tuple(a.shape)}): pass uint8 pixels (any size, "
            f"preprocessed by the runtime) or float32 prepared tensors N x C x H x W in [0, 1]" + hint)

    def _list_job(self, items: Sequence[Any], failures: Optional[dict] = None) -> _Job:
        """The images of a list. With ``failures`` (a dict), an item that cannot be used is
        recorded there as ``index -> NinError`` and left out, instead of failing the list."""
        images: List[np.ndarray] = []
        for i, item in enumerate(items):
            try:
                images.append(self._list_item(i, item))
            except NinError as error:
                if failures is None:
                    raise
                failures[i] = error
        return _Job("images", len(images), images=images)

    def _list_item(self, i: int, item: Any) -> np.ndarray:
        if _is_png(item):
            return load_png(item)
        if not isinstance(item, np.ndarray):
            raise InvalidArgumentError(
                f"item {i} of the list is a {type(item).__name__}; a list may hold PNGs (paths or bytes) and "
                f"uint8 images (H x W or H x W x C)")
        if item.dtype != np.uint8:
            raise InvalidArgumentError(
                f"item {i} of the list has dtype {item.dtype}; a list may hold PNGs (paths or bytes) and uint8 "
                f"images only (stack float32 tensors into one N x C x H x W array)")
        if item.ndim == 2:
            item = item[:, :, None]
        if item.ndim != 3:
            raise InvalidArgumentError(
                f"item {i} of the list has {item.ndim} dimensions ({_describe(item)}); an image is "
                f"H x W or H x W x C")
        _check_image_dims(item.shape, f"item {i} of the list")
        return _as_u8(item)

    def _image_job(self, a: np.ndarray) -> _Job:
        if a.ndim == 2:
            a = a[None, :, :, None]
        elif a.ndim == 3:
            a = a[None] if 1 <= a.shape[2] <= 4 else a[:, :, :, None]
        elif a.ndim != 4:
            raise InvalidArgumentError(
                f"uint8 input has {a.ndim} dimensions ({_describe(a)}); expected H x W, H x W x C, "
                f"N x H x W or N x H x W x C")
        _check_image_dims(a.shape, f"uint8 input of shape {tuple(a.shape)}")
        return _Job("images", int(a.shape[0]), data=_as_u8(a))

    def _u8_job(self, a: np.ndarray) -> _Job:
        c, h, w = self._input_shape
        shape = tuple(a.shape)
        if shape == (h, w, c) or (c == 1 and shape == (h, w)):
            a = a.reshape(1, h, w, c)
        elif a.ndim == 4 and shape[1:] == (h, w, c):
            pass
        elif c == 1 and a.ndim == 3 and shape[1:] == (h, w):
            a = a.reshape(shape[0], h, w, 1)
        else:
            raise InvalidArgumentError(
                f"prepared uint8 input has shape {shape}; this model's prepared input is N x H x W x C "
                f"= (N, {h}, {w}, {c}) or one image ({h}, {w}, {c}) (run without prepared=True to "
                f"have the runtime convert and resize)")
        return _Job("u8", int(a.shape[0]), data=_as_u8(a))

    def _f32_job(self, a: np.ndarray) -> _Job:
        chw = self._input_shape
        shape = tuple(a.shape)
        if shape == chw:
            a = a.reshape((1,) + chw)
        elif not (a.ndim == 4 and shape[1:] == chw):
            raise InvalidArgumentError(
                f"float32 input has shape {shape}; float32 input must be already prepared as "
                f"N x C x H x W or C x H x W with C x H x W = {chw} (values in [0, 1]); "
                f"pass uint8 pixels to have the runtime convert and resize")
        return _Job("f32", int(a.shape[0]),
                    data=np.require(a, dtype=np.float32, requirements=["C_CONTIGUOUS", "ALIGNED"]))

    # -- running ---------------------------------------------------------------------------

    def _context(self, count: int) -> _ThreadContext:
        state: Optional[_ThreadContext] = getattr(self._local, "context", None)
        if state is not None and state.handle is not None and state.batch_size >= count:
            return state
        batch = count
        if state is not None:
            batch = min(self._max_batch, max(count, 2 * state.batch_size))
            state.free()
            self._local.context = None
        state = _ThreadContext(self._lib, self._handle, self._threads, batch, self._keepalive)
        self._local.context = state
        with self._cond:
            self._contexts.add(state)
        return state

    def _run_one(self, ctx: _ThreadContext, job: _Job, start: int, count: int) -> None:
        lib = self._lib
        if job.kind == "images":
            images = (NinImage * count)()
            for i in range(count):
                images[i] = _nin_image(job, start + i)
            check(lib.nin_run_images(ctx.handle, images, count))   # job keeps the pixels alive
        elif job.kind == "u8":
            assert job.data is not None
            per = int(np.prod(job.data.shape[1:]))
            address = job.data.ctypes.data + start * per
            check(lib.nin_run_prepared_u8(ctx.handle, ctypes.cast(address, POINTER(c_uint8)),
                                          count * per, count))
        else:
            assert job.data is not None
            per = int(np.prod(job.data.shape[1:]))
            address = job.data.ctypes.data + start * per * 4
            check(lib.nin_run_prepared_f32(ctx.handle, ctypes.cast(address, POINTER(c_float)),
                                           count * per, count))

    def _execute(self, job: _Job,
                 fetch: Callable[[_ThreadContext, int, int], None]) -> None:
        """Runs ``job`` in pieces of at most max_batch images; after each piece,
        ``fetch(context, start, count)`` reads its results."""
        self._enter()
        try:
            chunked = job.count > self._max_batch
            for start in range(0, job.count, self._max_batch):
                count = min(self._max_batch, job.count - start)
                ctx = self._context(count)
                ctx.last_chunked = chunked
                self._run_one(ctx, job, start, count)
                fetch(ctx, start, count)
        finally:
            self._leave()

    def _rows(self, batch: Any, prepared: bool, getter_name: str, errors: str = "raise") -> Any:
        if errors not in ("raise", "return"):
            raise InvalidArgumentError(f"errors is {errors!r}, expected 'raise' or 'return'")
        if errors == "return":
            if not isinstance(batch, (list, tuple)):
                raise InvalidArgumentError("errors='return' takes a list of images (PNG paths or bytes, uint8 arrays)")
            failures: dict = {}
            job = self._list_job(batch, failures)
            good = self._job_rows(job, getter_name)
            out = np.full((len(batch), self._class_count), np.nan, dtype=np.float32)
            out[[i for i in range(len(batch)) if i not in failures]] = good
            return out, failures
        return self._job_rows(self._job(batch, prepared), getter_name)

    def _job_rows(self, job: _Job, getter_name: str) -> np.ndarray:
        classes = self._class_count
        out = np.empty((job.count, classes), dtype=np.float32)
        if job.count == 0:
            return out
        getter = getattr(self._lib, getter_name)
        row_type = c_float * classes
        base = out.ctypes.data
        row_bytes = classes * 4

        def fetch(ctx: _ThreadContext, start: int, count: int) -> None:
            for i in range(count):
                check(getter(ctx.handle, i, row_type.from_address(base + (start + i) * row_bytes), classes))

        self._execute(job, fetch)
        return out

    def predict(self, batch: ImageInput, *, prepared: bool = False, errors: str = "raise") -> Any:
        """Softmax probabilities, ``float32`` array ``[N, class_count]`` (N = 1 for one image).

        See the class docstring for the accepted inputs. With ``errors="return"`` and a list,
        an item that cannot be used (a corrupt PNG, a missing file, a wrong shape) does not
        fail the call: the result is ``(rows, failures)``, its row is NaN and ``failures`` maps
        its index to the :class:`NinError` that says why; the other rows are exactly what a
        call without the bad items gives.
        """
        return self._rows(batch, prepared, "nin_context_probabilities", errors)

    def logits(self, batch: ImageInput, *, prepared: bool = False, errors: str = "raise") -> Any:
        """Logits (dequantized global-average-pool outputs, bit-exact), ``float32``
        ``[N, class_count]``; ``errors`` as for :meth:`predict`."""
        return self._rows(batch, prepared, "nin_context_logits", errors)

    def classify(self, image: Union[np.ndarray, PNGSource], top: Optional[int] = None,
                 *, prepared: bool = False) -> List[Tuple[str, float]]:
        """The ``top`` most probable classes of ONE image as ``[(label, probability), ...]``,
        best first (ties: lower class index first), exactly as ``nin-infer`` ranks them.

        Args:
            image: a PNG (path or bytes), one uint8 image (H x W or H x W x C, any size) or one float32
                C x H x W prepared tensor.
            top: how many classes, 1..class_count (None: 5, or every class if fewer);
                a value outside 1..class_count raises InvalidArgumentError.
        """
        return [(self._labels[c], p) for c, p in self.top_k(image, top, prepared=prepared)]

    def top_k(self, image: Union[np.ndarray, PNGSource], k: Optional[int] = None,
              *, prepared: bool = False) -> List[Tuple[int, float]]:
        """As :meth:`classify`, but ``[(class_index, probability), ...]``
        (``nin_context_top_k``)."""
        self._check_open()
        classes = self._class_count
        if k is None:
            k = min(5, classes)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= int(k) <= classes:
            raise InvalidArgumentError(f"top is {k!r}, expected an int from 1 to {classes}")
        k = int(k)
        job = self._job(image, prepared)
        if job.count != 1:
            raise InvalidArgumentError(
                f"classify takes one image but got {job.count}; use predict() for batches")
        indices = (c_int * k)()
        probabilities = (c_float * k)()

        def fetch(ctx: _ThreadContext, start: int, count: int) -> None:
            check(self._lib.nin_context_top_k(ctx.handle, 0, k, indices, probabilities))

        self._execute(job, fetch)
        return [(int(indices[i]), float(probabilities[i])) for i in range(k)]

    def confidence_maps(self, batch: Optional[ImageInput] = None, *,
                        prepared: bool = False) -> np.ndarray:
        """Dequantized confidence maps (the last block's output before global average
        pooling), ``float32 [N, classes, h, w]`` (see :attr:`map_shape`).

        With ``batch`` None: the maps of the calling thread's last run (the images of its last
        ``predict``/``logits``/``classify``/``confidence_maps`` call). Raises StateError if the
        thread has not run anything yet, its last run failed, or its last call was larger than
        ``max_batch`` (only the last piece's maps survive; pass the batch here instead).
        With ``batch``: runs it and returns its maps (any size; pieces are collected).
        """
        mc, mh, mw = self.map_shape
        per = mc * mh * mw
        if batch is not None:
            job = self._job(batch, prepared)
            out = np.empty((job.count, mc, mh, mw), dtype=np.float32)
            if job.count == 0:
                return out
            base = out.ctypes.data

            def fetch(ctx: _ThreadContext, start: int, count: int) -> None:
                self._copy_maps(ctx, out, base, start, count, per)

            self._execute(job, fetch)
            return out
        self._enter()
        try:
            ctx: Optional[_ThreadContext] = getattr(self._local, "context", None)
            if ctx is None or ctx.handle is None:
                raise StateError("no results yet: this thread has not run the model")
            if ctx.last_chunked:
                raise StateError(
                    f"the last call on this thread ran more than max_batch={self._max_batch} images "
                    f"in pieces and only the last piece's maps are kept; pass the batch to "
                    f"confidence_maps(batch) instead")
            count = int(self._lib.nin_context_result_count(ctx.handle))
            out = np.empty((max(count, 1), mc, mh, mw), dtype=np.float32)
            # count == 0 (no successful run): the runtime's own NIN_ERROR_STATE is raised.
            self._copy_maps(ctx, out, out.ctypes.data, 0, max(count, 1), per)
            return out
        finally:
            self._leave()

    def _copy_maps(self, ctx: _ThreadContext, out: np.ndarray, base: int, start: int, count: int,
                   per: int) -> None:
        block = c_float * per
        for i in range(count):
            check(self._lib.nin_context_confidence_maps(
                ctx.handle, i, block.from_address(base + (start + i) * per * 4), per))

    def heatmap(self, image: Union[np.ndarray, PathLike], cls: Union[None, int, str] = None) -> np.ndarray:
        """The class heatmap of ONE image as uint8 ``H x W x 3`` RGB: the image (in gray, as the
        model sees it, at least 256 pixels on the short side) with the confidence map of class
        ``cls`` (an index or a label; None: the most probable class) upsampled over it in the
        viridis colormap, under a strip with the label and probability. The same pixels as
        ``nin-infer --heatmap`` (``nin_context_heatmap``).

        Args:
            image: a PNG path or one uint8 image (H x W or H x W x C, any size).
            cls: the class to show, as an index or a label; None for the top class.
        """
        self._check_open()
        if isinstance(cls, str):
            if cls not in self._labels:
                raise InvalidArgumentError(f"class {cls!r} is not a label of this model ({', '.join(self._labels)})")
            index = self._labels.index(cls)
        elif cls is None:
            index = -1
        elif isinstance(cls, bool) or not isinstance(cls, (int, np.integer)) or not 0 <= int(cls) < self._class_count:
            raise InvalidArgumentError(f"cls is {cls!r}, expected a label or an index from 0 to {self._class_count - 1}")
        else:
            index = int(cls)
        job = self._job(image, False)
        if job.kind != "images" or job.count != 1:
            raise InvalidArgumentError("heatmap takes one image: a PNG path or uint8 pixels (H x W or H x W x C)")
        result: List[np.ndarray] = []

        def fetch(ctx: _ThreadContext, start: int, count: int) -> None:
            given = _nin_image(job, 0)
            out = NinImage()
            check(self._lib.nin_context_heatmap(ctx.handle, 0, index, byref(given), byref(out)))
            try:
                size = out.height * out.width * out.channels
                pixels = np.ctypeslib.as_array(out.pixels, shape=(size,)).copy()
                result.append(pixels.reshape(out.height, out.width, out.channels))
            finally:
                self._lib.nin_image_free(byref(out))

        self._execute(job, fetch)
        return result[0]

    def result_count(self) -> int:
        """Number of images in the calling thread's last successful run (0 before any)."""
        self._enter()
        try:
            ctx: Optional[_ThreadContext] = getattr(self._local, "context", None)
            if ctx is None or ctx.handle is None:
                return 0
            return int(self._lib.nin_context_result_count(ctx.handle))
        finally:
            self._leave()
