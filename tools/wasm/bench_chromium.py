#!/usr/bin/env python3
"""tools/wasm/bench_chromium.py MODEL RUNS [WARMUP]: times web/nin.wasm in headless Chromium
(tools/wasm/bench.html, served from the checkout on a free port of 127.0.0.1, through selenium
and chromium-driver) and prints bench.html's line: "median_ms=... best_ms=...". MODEL is a name
under models/ without .nin; NIN_WASM names another module under web/ (nin-relaxed.wasm). For
tools/wasm/bench.sh."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]


def page_result(path: str) -> str:
    """The text of #result of the page at `path` (relative to the checkout's root, with its query)
    once it is no longer "running", in headless Chromium; the checkout is served on a free port of
    127.0.0.1 meanwhile. Also used by tools/wasm/peak_chromium.py."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(ROOT), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    try:
        for _ in range(50):  # the server takes a moment to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        driver.get(f"http://127.0.0.1:{port}/{path}")
        return WebDriverWait(driver, 600).until(
            lambda d: (t := d.find_element(By.ID, "result").text) != "running" and t)
    finally:
        driver.quit()
        server.terminate()
        server.wait()


def main() -> int:
    model, runs = sys.argv[1], sys.argv[2]
    warmup = sys.argv[3] if len(sys.argv) > 3 else "5"
    result = page_result(f"tools/wasm/bench.html?model={model}&runs={runs}&warmup={warmup}"
                         f"&wasm={os.environ.get('NIN_WASM', 'nin.wasm')}")
    print(result)
    return 0 if result.startswith("median_ms=") else 1


if __name__ == "__main__":
    sys.exit(main())
