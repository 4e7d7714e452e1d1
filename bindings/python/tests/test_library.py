"""Finding and declaring libnin.so: search order, error messages, declarations vs nin.h."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT, REPO

import nin
from nin import _lib
from nin._errors import error_for_status, status_names

HEADER = REPO / "include" / "nin.h"


def _header_text() -> str:
    if not HEADER.is_file():
        pytest.skip(f"{HEADER} not present (installed package)")
    return HEADER.read_text()


def test_every_header_function_is_declared():
    declared = set(re.findall(r"^[a-z_ ]*[ *](nin_[a-z0-9_]+)\(", _header_text(), flags=re.M))
    assert len(declared) >= 25
    assert declared == set(_lib.SIGNATURES), (
        f"header only: {sorted(declared - set(_lib.SIGNATURES))}, "
        f"bindings only: {sorted(set(_lib.SIGNATURES) - declared)}")
    lib = _lib.get_lib()
    for name, (restype, argtypes) in _lib.SIGNATURES.items():
        fn = getattr(lib, name)
        assert fn.restype is restype, name
        assert list(fn.argtypes) == list(argtypes), name


def test_argument_counts_match_header():
    text = _header_text()
    for name, (_, argtypes) in _lib.SIGNATURES.items():
        m = re.search(r"^[a-z_ ]*[ *]" + name + r"\(([^)]*)\)", text, flags=re.M)
        assert m, name
        params = m.group(1).strip()
        count = 0 if params in ("", "void") else params.count(",") + 1
        assert count == len(argtypes), f"{name}: header has {count} parameters, bindings {len(argtypes)}"


def test_header_version_matches():
    m = re.search(r'#define NIN_VERSION_STRING "([^"]+)"', _header_text())
    assert m and m.group(1) == _lib.HEADER_VERSION
    assert nin.library_version() == _lib.HEADER_VERSION == nin.__version__


def test_struct_layouts():
    # x86-64 / aarch64 LP64: int, int, void*, size_t and uint8_t*, int, int, int, size_t.
    assert ctypes.sizeof(_lib.NinContextParams) == 8 + 2 * ctypes.sizeof(ctypes.c_void_p)
    assert _lib.NinContextParams.arena.offset == 8
    assert ctypes.sizeof(_lib.NinImage) == ctypes.sizeof(ctypes.c_void_p) + 12 + 4 + ctypes.sizeof(ctypes.c_size_t)
    assert _lib.NinImage.stride.offset == 24
    params = _lib.get_lib().nin_context_default_params()
    assert (params.threads, params.batch_size, params.arena, params.arena_bytes) == (1, 1, None, 0)


def test_status_strings_and_mapping():
    lib = _lib.get_lib()
    assert set(status_names()) == set(range(8))
    for status, name in status_names().items():
        assert lib.nin_status_string(status).decode() == name
        if status:
            err = error_for_status(status, "boom")
            assert isinstance(err, nin.NinError) and err.status == status and err.status_name == name
            assert str(err) == "boom"
    assert lib.nin_status_string(12345) == b"unknown status"
    assert type(error_for_status(12345, "x")) is nin.NinError
    assert isinstance(error_for_status(3, "x"), nin.BadModelError)
    assert isinstance(error_for_status(4, "x"), nin.BadImageError)
    assert isinstance(error_for_status(1, "x"), nin.InvalidArgumentError)
    assert isinstance(error_for_status(2, "x"), nin.NinIOError)
    assert isinstance(error_for_status(5, "x"), nin.BufferTooSmallError)
    assert isinstance(error_for_status(6, "x"), nin.OutOfMemoryError)
    assert isinstance(error_for_status(7, "x"), nin.StateError)
    # Errors raised in Python carry their class's status, numbered as the library numbers it.
    assert nin.InvalidArgumentError("x").status == 1 and nin.StateError("x").status_name == "NIN_ERROR_STATE"


def test_library_found_in_checkout_release_build():
    if os.environ.get("NIN_LIBRARY"):
        pytest.skip("NIN_LIBRARY is set")
    path = nin.library_path()
    assert path.name == "libnin.so" and path.is_file()


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    environment.update(env)
    environment["PYTHONPATH"] = str(PACKAGE_ROOT)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment, timeout=60)


def test_library_not_found_lists_where_it_looked(tmp_path):
    missing = tmp_path / "nowhere" / "libnin.so"
    code = ("import nin\n"
            "try:\n"
            "    nin.Model('x.nin')\n"
            "except nin.NinLibraryNotFound as e:\n"
            "    assert isinstance(e, nin.NinError)\n"
            "    print('NOTFOUND', e)\n")
    result = _run_python(code, NIN_LIBRARY=str(missing))
    assert result.returncode == 0, result.stderr
    assert "NOTFOUND" in result.stdout and str(missing) in result.stdout and "NIN_LIBRARY" in result.stdout


def test_library_search_order_lists_all_places():
    code = ("import os\n"
            "os.environ.pop('NIN_LIBRARY', None)\n"
            "from nin import _lib\n"
            "for where, path in _lib.candidate_paths(): print(where, '|', path)\n")
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("bundled in the package") and lines[0].endswith("nin/libnin.so")
    assert lines[1].endswith(".build/release/libnin.so")


def test_not_a_library_is_a_clear_error(tmp_path):
    bogus = tmp_path / "libnin.so"
    bogus.write_bytes(b"not an ELF file")
    code = ("import nin\n"
            "try:\n"
            "    nin.load_png('x.png')\n"
            "except nin.NinLibraryError as e:\n"
            "    print('LIBERR', e)\n")
    result = _run_python(code, NIN_LIBRARY=str(bogus))
    assert result.returncode == 0, result.stderr
    assert "LIBERR" in result.stdout and "cannot load" in result.stdout and str(bogus) in result.stdout


def test_wrong_library_is_refused():
    candidates = [Path(p) for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
                                    "/lib/aarch64-linux-gnu/libm.so.6", "/lib64/libm.so.6")]
    libm = next((p for p in candidates if p.is_file()), None)
    if libm is None:
        pytest.skip("no libm.so.6 found to stand in for a wrong library")
    code = ("import nin\n"
            "try:\n"
            "    nin.library_path()\n"
            "except nin.NinLibraryError as e:\n"
            "    print('LIBERR', e)\n")
    result = _run_python(code, NIN_LIBRARY=str(libm))
    assert "LIBERR" in result.stdout and "does not export nin_version" in result.stdout, \
        result.stdout + result.stderr
