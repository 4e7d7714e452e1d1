"""`make install PREFIX=...` at the root gives a working, self-contained install: the versioned,
stripped library with its SONAME and symlinks, the header and pkg-config file, nin-infer, and
the models, which the installed nin-infer finds from any working directory; `make uninstall`
removes every file again."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from cli_paths import EXAMPLE_IMAGES, NIN_INFER, REPO


def test_install_and_uninstall(tmp_path):
    if not NIN_INFER.is_file():
        pytest.skip(f"{NIN_INFER} not built (make cli)")
    prefix = tmp_path / "prefix"
    subprocess.run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=REPO, check=True,
                   capture_output=True, timeout=900)
    header = (REPO / "include" / "nin.h").read_text()
    version = re.search(r'#define NIN_VERSION_STRING "([^"]+)"', header).group(1)
    major = re.search(r"#define NIN_VERSION_MAJOR (\d+)", header).group(1)
    lib = prefix / "lib"
    assert (lib / f"libnin.so.{version}").is_file() and not (lib / f"libnin.so.{version}").is_symlink()
    assert os.readlink(lib / f"libnin.so.{major}") == f"libnin.so.{version}"
    assert os.readlink(lib / "libnin.so") == f"libnin.so.{major}"
    dynamic = subprocess.run(["readelf", "-d", lib / f"libnin.so.{version}"], capture_output=True,
                             text=True, check=True).stdout
    assert f"Library soname: [libnin.so.{major}]" in dynamic
    sections = subprocess.run(["readelf", "-S", lib / f"libnin.so.{version}"], capture_output=True,
                              text=True, check=True).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections      # stripped
    assert (prefix / "include" / "nin.h").read_text() == header
    assert f"Version: {version}" in (lib / "pkgconfig" / "nin.pc").read_text()
    models = sorted(p.name for p in (prefix / "share" / "nin" / "models").glob("*.nin"))
    assert models == sorted(p.name for p in (REPO / "models").glob("*.nin"))

    # The installed nin-infer, run from outside the checkout with no NIN_MODEL, finds its model.
    image = EXAMPLE_IMAGES / "test_00000_ankle_boot.png"
    environment = {k: v for k, v in os.environ.items() if k != "NIN_MODEL"}
    installed = subprocess.run([prefix / "bin" / "nin-infer", "--top", "3", image], cwd="/",
                               env=environment, capture_output=True, text=True, timeout=120)
    checkout = subprocess.run([NIN_INFER, "--top", "3", image], capture_output=True, text=True,
                              env=environment, timeout=120)
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout == checkout.stdout

    subprocess.run(["make", "-s", "uninstall", f"PREFIX={prefix}"], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    left = [p for p in prefix.rglob("*") if not p.is_dir()]
    assert left == []
