#!/usr/bin/env python3
"""Packs OpenVINO for the bench kit: downloads the openvino wheel for another machine's CPython
(e.g. 3.12 on a server whose Python cannot reach PyPI), keeps only what CPU inference of an ONNX
model needs (no GPU or NPU plugin, no frontends but ONNX and IR, no compiled-kernel cache, no
tools), and writes it as OUT.tar.xz (about 21 MB for OpenVINO 2026.4, of the wheel's 50 MB
unpacked). bench/kit/run.sh unpacks it and puts it on PYTHONPATH when openvino does not import.
Called by `make bench-kit OPENVINO=3.12`; usage: openvino_slim.py PYTHON_VERSION OUT.tar.xz"""
import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

DROP_LIBS = ["libopenvino_intel_gpu_plugin.so", "libopenvino_intel_npu_plugin.so", "cache.json",
             "libopenvino_tensorflow_frontend*", "libopenvino_pytorch_frontend*", "libopenvino_paddle_frontend*",
             "libopenvino_gguf_frontend*", "libopenvino_tensorflow_lite_frontend*", "libopenvino_jax_frontend*"]


def ignored(directory, names):
    """The names under `directory` that CPU inference of an ONNX model does not need."""
    out = [n for n in names if n == "__pycache__"]
    if directory.endswith("/libs"):
        out += [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in DROP_LIBS)]
    if directory.endswith("/frontend"):
        out += [n for n in names if n in ("pytorch", "tensorflow", "paddle", "jax")]
    if directory.endswith("/openvino"):
        out += [n for n in names if n == "tools"]
    return out


def main():
    version, out = sys.argv[1], sys.argv[2]
    tag = version.replace(".", "")
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--python-version", version, "--platform", "manylinux_2_28_x86_64", "--dest", work,
                        "openvino"], check=True)
        wheels = [f for f in os.listdir(work) if f.endswith(".whl") and f"cp{tag}" in f]
        if not wheels:
            sys.exit(f"openvino_slim.py: no openvino wheel for CPython {version} in {os.listdir(work)}")
        unpacked, slim = os.path.join(work, "unpacked"), os.path.join(work, "site")
        zipfile.ZipFile(os.path.join(work, wheels[0])).extractall(unpacked)
        os.makedirs(slim)
        for name in os.listdir(unpacked):
            if name == "openvino" or name.startswith("openvino-"):
                shutil.copytree(os.path.join(unpacked, name), os.path.join(slim, name), ignore=ignored, symlinks=True)
        with tarfile.open(out, "w:xz") as tar:
            tar.add(slim, arcname="site")
        print(f"{wheels[0]} -> {out} ({os.path.getsize(out) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
