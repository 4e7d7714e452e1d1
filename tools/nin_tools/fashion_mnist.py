"""Fashion-MNIST loading helpers (numpy only, no torch).

The Debian package ``dataset-fashion-mnist`` installs the four IDX files
(gzipped) under /usr/share/datasets/fashion-mnist/.  Another directory can be
chosen with the ``root`` argument or the ``NIN_FASHION_MNIST`` environment
variable.  Both gzipped (``*.gz``) and raw IDX files are accepted.
"""

from __future__ import annotations

import gzip
import os
import struct
from typing import Optional, Tuple

import numpy as np

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "NIN_FASHION_MNIST"

LABELS = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# IDX type codes -> numpy dtypes (multi-byte types are big-endian).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        data = f.read()
    if head == b"\x1f\x8b":  # gzip magic, regardless of the file name
        data = gzip.decompress(data)
    return data


def load_idx(path: str) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a numpy array.

    Fashion-MNIST files are unsigned bytes and come back as ``uint8``; other
    IDX element types are returned in native byte order.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: bad IDX magic {data[:4].hex()}")
    hdr = 4 + 4 * ndim
    if len(data) < hdr:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(">" + "I" * ndim, data[4:hdr])
    dtype = _IDX_DTYPES[type_code]
    count = int(np.prod(shape, dtype=np.int64)) if ndim else 1
    need = hdr + count * dtype.itemsize
    if len(data) != need:
        raise ValueError(f"{path}: expected {need} bytes for shape {shape}, got {len(data)}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=hdr).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _find(root: str, stem: str) -> str:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz",
                 stem.replace("-idx", ".idx")):
        p = os.path.join(root, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(
        f"Fashion-MNIST file {stem}[.gz] not found in {root} "
        f"(install dataset-fashion-mnist or set {ENV_VAR})")


def default_root() -> str:
    """The dataset folder: ``$NIN_FASHION_MNIST``, else the Debian package's."""
    return os.environ.get(ENV_VAR) or DEFAULT_ROOT


def load_split(split: str, root: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Return (images uint8 [N,28,28], labels uint8 [N]) for "train" or "test"."""
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = root or default_root()
    img_stem, lbl_stem = _SPLIT_FILES[split]
    images = load_idx(_find(root, img_stem))
    labels = load_idx(_find(root, lbl_stem))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"inconsistent shapes: images {images.shape}, labels {labels.shape}")
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError("Fashion-MNIST IDX files must hold unsigned bytes")
    return images, labels


if __name__ == "__main__":  # quick self-check
    for s in ("train", "test"):
        x, y = load_split(s)
        print(s, x.shape, x.dtype, y.shape, np.bincount(y, minlength=10).tolist())
