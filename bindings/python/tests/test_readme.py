"""The ```python blocks of the repository's README.md run as written.

All blocks of the README run in order in one namespace (later blocks may use names from
earlier ones), with the repository root as the working directory and the nin package of this
source tree importable. A block whose info string contains ``no-test`` (```python no-test) is
skipped. The test is skipped only when the README has no python block at all.
"""

from __future__ import annotations

import re
from typing import List, Tuple

import pytest

from conftest import REPO

README = REPO / "README.md"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)$")


def python_blocks(text: str) -> List[Tuple[int, str]]:
    """(first line number, code) of every fenced block whose language is python/py."""
    blocks: List[Tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, indent = m.group("fence"), m.group("info").strip().split(), m.group("indent")
        body: List[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            j += 1
        if info and info[0].lower() in ("python", "py", "python3") and "no-test" not in info:
            blocks.append((i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def test_block_extraction():
    text = "x\n```python\na = 1\n```\n```sh\nls\n```\n  ```py\n  b = a + 1\n  ```\n```python no-test\nboom\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (9, "b = a + 1\n")]


def test_readme_python_blocks_run(monkeypatch):
    if not README.is_file():
        pytest.skip(f"{README} does not exist yet")
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{README} has no ```python block")
    monkeypatch.chdir(REPO)
    namespace: dict = {"__name__": "__readme__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{README}:{line}", "exec"), namespace)
        except Exception as exc:  # report which block failed, with the README line
            raise AssertionError(f"README.md block at line {line} failed: {exc!r}\n{code}") from exc
