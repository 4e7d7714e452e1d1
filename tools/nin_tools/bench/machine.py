"""What the results record about the machine and the software: CPU model and flags, CPU
count, load average, and the versions of nin's peers and tools."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np

from nin_tools.bench.families import cpu_features


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "loadavg_before": list(os.getloadavg()),
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu_features": cpu_features()}


def versions() -> dict:
    v = {"numpy": np.__version__}
    for mod in ("onnx", "onnxruntime", "openvino", "torch", "matplotlib"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (not installed, or an install that does not import)
            v[mod] = None
    valgrind = shutil.which("valgrind")
    v["valgrind"] = (subprocess.run([valgrind, "--version"], capture_output=True, text=True)
                     .stdout.strip() if valgrind else None)
    return v
