#!/usr/bin/env python3
"""tools/wasm/peak_chromium.py: tools/wasm/peak.html in headless Chromium (bench_chromium.py's
page_result): prints the peak rates of the wasmrelaxed inner step there, "peak_2x8=... ..."
(GMAC/s). For tools/wasm/peak.sh."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_chromium import page_result  # noqa: E402

if __name__ == "__main__":
    result = page_result("tools/wasm/peak.html")
    print(result)
    sys.exit(0 if result.startswith("peak_") else 1)
