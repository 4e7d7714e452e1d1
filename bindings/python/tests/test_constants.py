"""Each constant is written once per language, and here the languages are checked against the
header that owns them (include/nin.h, parsed independently of the library): the version, the
status codes, the thread and batch bounds."""

from __future__ import annotations

import re

from conftest import PACKAGE_ROOT, REPO

import nin
from nin import _lib, _model
from nin._errors import status_names

HEADER = (REPO / "include" / "nin.h").read_text()


def _define(name: str) -> str:
    return re.search(rf"#define {name} (\S+)", HEADER).group(1)


def test_version_is_the_headers_everywhere():
    version = _define("NIN_VERSION_STRING").strip('"')
    major, minor, patch = (_define(f"NIN_VERSION_{part}") for part in ("MAJOR", "MINOR", "PATCH"))
    assert version == f"{major}.{minor}.{patch}"
    assert _lib.HEADER_VERSION == version == nin.__version__
    assert _lib.get_lib().nin_version().decode() == version
    pyproject = (PACKAGE_ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'version = { attr = "nin._lib.HEADER_VERSION" }' in pyproject


def test_status_codes_are_the_headers():
    body = re.search(r"typedef enum nin_status \{(.*?)\} nin_status;", HEADER, re.S).group(1)
    declared = {int(value): name for name, value in re.findall(r"(NIN_\w+) = (\d+)", body)}
    assert declared == status_names()


def test_thread_and_batch_bounds_are_the_headers():
    assert _model.MAX_THREADS == int(_define("NIN_MAX_THREADS"))
    assert _model.MAX_BATCH == int(_define("NIN_MAX_BATCH"))
    ok = nin.Model(REPO / "models" / "fashion_small.nin", threads=_model.MAX_THREADS, max_batch=1)
    ok.close()
    for bad in (dict(threads=_model.MAX_THREADS + 1), dict(max_batch=_model.MAX_BATCH + 1)):
        try:
            nin.Model(REPO / "models" / "fashion_small.nin", **bad)
        except nin.InvalidArgumentError as error:
            assert str(_model.MAX_THREADS if "threads" in bad else _model.MAX_BATCH) in str(error)
        else:
            raise AssertionError(f"{bad} was accepted")
