"""Where the nin-infer tests find what they run: the checkout, the built nin-infer, the golden
models and the example images (the tests skip, saying why, when nin-infer is not built)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN_NET = REPO / "Tests" / "golden" / "net"
#: The default model (nin-infer loads it without --model).
DEFAULT_MODEL = REPO / "models" / "fashion_classic.nin"
EXAMPLE_IMAGES = REPO / "examples" / "images"
#: `make cli` builds it.
NIN_INFER = REPO / ".build" / "release" / "nin-infer"
