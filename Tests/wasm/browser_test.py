#!/usr/bin/env python3
"""Tests/wasm/browser_test.py: the demo page (web/index.html) in headless Chromium, through
selenium and chromium-driver (installed by .ci/deps). It serves the checkout as `make serve`
does (on a free port of 127.0.0.1), opens the page, uploads an example PNG through the file
input, reads the top-1 label from the page and checks that it equals nin-infer's for that PNG.
It then picks the top class by name for the heatmap, waits for it to be drawn and saves a
screenshot to .build/wasm/browser.png; with --update-docs also to docs/browser-demo.png (the
README shows it: `make wasm-screenshot`), so a test run leaves the checkout as it was.
`make test-wasm` runs it (after make wasm and make cli)."""
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "examples" / "images" / "test_00008_sandal.png"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    expected = json.loads(subprocess.run([str(ROOT / ".build/release/nin-infer"), "--top", "1", "--jsonl", str(IMAGE)],
                                         check=True, capture_output=True, text=True).stdout)["top"][0]["label"]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(ROOT), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    try:
        wait = WebDriverWait(driver, 60)
        for _ in range(50):  # the server takes a moment to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                pass
        driver.get(f"http://127.0.0.1:{port}/web/index.html")
        status = lambda: driver.find_element(By.ID, "status").text
        wait.until(lambda d: status().startswith(("Model ready", "Error")))
        assert status().startswith("Model ready"), status()
        driver.find_element(By.ID, "file").send_keys(str(IMAGE))
        wait.until(lambda d: status() in ("Done.",) or status().startswith("Error"))
        assert status() == "Done.", status()
        labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#top .bar .label")]
        assert len(labels) == 5, labels
        print(f"browser: top-1 {labels[0]!r}, nin-infer: {expected!r}; {driver.find_element(By.ID, 'time').text}")
        assert labels[0] == expected, f"the page says {labels[0]!r}, nin-infer {expected!r}"
        # The heatmap of the top class picked by name, drawn after a new result.
        driver.execute_script("document.getElementById('status').textContent = ''")
        Select(driver.find_element(By.ID, "cls")).select_by_visible_text(labels[0])
        wait.until(lambda d: status() == "Done.")
        out = ROOT / ".build" / "wasm" / "browser.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        print(f"browser: screenshot {out}")
        if "--update-docs" in sys.argv[1:]:
            shutil.copyfile(out, ROOT / "docs" / "browser-demo.png")
            print("browser: copied to docs/browser-demo.png")
    finally:
        driver.quit()
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
