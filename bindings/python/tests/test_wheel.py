"""`pip wheel ./bindings/python` gives a wheel that says what it needs and carries the rest: tag
py3-none-manylinux_2_N_<arch> (any CPython 3, no Python ABI, glibc 2.N), a stripped libnin.so,
libpng and zlib in nin/vendor/ (loaded from there, not from the system), and the models. Installed
into an empty directory and run from elsewhere, it classifies like the checkout."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import zipfile

import pytest

from conftest import EXAMPLE_IMAGES, PACKAGE_ROOT, REPO

LIBRARY = REPO / ".build" / "release" / "libnin.so"


def test_wheel_tags_contents_and_use(tmp_path):
    if not LIBRARY.is_file():
        pytest.skip(f"{LIBRARY} not built (make lib)")
    try:
        import wheel  # noqa: F401  (the build runs without isolation: no network needed)
    except ImportError:
        pytest.skip("the 'wheel' package is not installed (.ci/deps installs it)")
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    str(PACKAGE_ROOT), "-w", str(out)], check=True, capture_output=True, timeout=600)
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1
    tag = re.fullmatch(r"nin-[\d.]+-py3-none-manylinux_2_(\d+)_(\w+)\.whl", wheels[0].name)
    assert tag, wheels[0].name
    assert tag.group(2) == platform.machine()
    needed = max(int(m) for m in re.findall(r"GLIBC_2\.(\d+)", subprocess.run(
        ["objdump", "-T", str(LIBRARY)], capture_output=True, text=True, check=True).stdout))
    assert int(tag.group(1)) >= needed
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    assert {"nin/libnin.so", "nin/vendor/libpng16.so.16", "nin/vendor/libz.so.1",
            "nin/models/fashion_classic.nin", "nin/models/fashion_small.nin"} <= names

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                    str(wheels[0])], check=True, capture_output=True, timeout=300)
    sections = subprocess.run(["readelf", "-S", str(site / "nin" / "libnin.so")], capture_output=True,
                              text=True, check=True).stdout
    assert ".symtab" not in sections                          # stripped
    image = EXAMPLE_IMAGES / "test_00000_ankle_boot.png"
    script = ("import nin, sys\n"
              "print(nin.Model().classify(sys.argv[1], top=2))\n"
              "maps = open('/proc/self/maps').read()\n"
              "print([l.split()[-1] for l in maps.splitlines() if 'libpng16' in l][0])\n")
    environment = {k: v for k, v in os.environ.items() if k not in ("NIN_LIBRARY", "NIN_MODEL")}
    environment["PYTHONPATH"] = str(site)
    installed = subprocess.run([sys.executable, "-c", script, str(image)], cwd="/", env=environment,
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr
    top, png = installed.stdout.splitlines()
    assert png == str(site / "nin" / "vendor" / "libpng16.so.16")
    import nin
    assert top == str(nin.Model().classify(image, top=2))
