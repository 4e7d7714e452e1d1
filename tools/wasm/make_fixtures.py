#!/usr/bin/env python3
"""tools/wasm/make_fixtures.py OUT.json: what the WebAssembly tests (Tests/wasm) compare nin.wasm
with, from the native build through the Python binding: for each example image, its pixels as
nin's own PNG decoder gives them (nin.load_png) widened to RGBA, and the native logits (as float32
bit patterns, compared for equality), top-5 classes and heatmap (SHA-256 of its RGB pixels) of
those RGBA pixels, for each shipped model. `make test-wasm` runs it against the checkout's
libnin.so (make lib), so the native side is always the current build."""
import base64
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import nin

ROOT = Path(__file__).resolve().parents[2]


def rgba(pixels: np.ndarray) -> np.ndarray:
    """H x W x 4 uint8: gray repeated into R, G and B, alpha 255 where the PNG has none."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    h, w, c = pixels.shape
    color = pixels[:, :, :1].repeat(3, axis=2) if c in (1, 2) else pixels[:, :, :3]
    alpha = pixels[:, :, c - 1:c] if c in (2, 4) else np.full((h, w, 1), 255, np.uint8)
    return np.ascontiguousarray(np.concatenate([color, alpha], axis=2))


def main() -> None:
    out = Path(sys.argv[1])
    images = []
    for path in sorted((ROOT / "examples" / "images").glob("*.png")):
        pixels = rgba(nin.load_png(str(path)))
        images.append({"name": path.name, "width": int(pixels.shape[1]), "height": int(pixels.shape[0]),
                       "rgba": base64.b64encode(pixels.tobytes()).decode()})
    models = []
    for name in ("fashion_classic.nin", "fashion_small.nin"):
        model = nin.Model(str(ROOT / "models" / name))
        results = []
        for image in images:
            pixels = np.frombuffer(base64.b64decode(image["rgba"]), np.uint8).reshape(image["height"], image["width"], 4)
            logits = np.asarray(model.logits(pixels), np.float32).reshape(-1)
            heatmap = model.heatmap(pixels)
            results.append({"logitBits": [int(b) for b in logits.view(np.uint32)],
                            "top5": [int(c) for c, _ in model.top_k(pixels, 5)],
                            "heatmap": {"width": int(heatmap.shape[1]), "height": int(heatmap.shape[0]),
                                        "sha256": hashlib.sha256(heatmap.tobytes()).hexdigest()}})
        models.append({"file": name, "labels": list(model.labels), "results": results})
        model.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"images": images, "models": models}))
    print(f"make_fixtures: {len(images)} images x {len(models)} models -> {out}")


if __name__ == "__main__":
    main()
