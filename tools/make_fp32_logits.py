#!/usr/bin/env python3
"""Golden fp32 logits from PyTorch for a fixed set of Fashion-MNIST test images.

    python tools/make_fp32_logits.py models/fashion_small.pt [--arch models/fashion_small.arch.json] [--count 1000]

Loads the trained state_dict into the training script's NiN module (tools/nin_train.py), runs
the first COUNT test images (prepared exactly as the runtime prepares them) in eval mode, and
writes Tests/golden/fp32/<model>.logits.npy (float32 [COUNT, classes]).
bindings/python/tests/test_fp32_golden.py checks nin's dequantized logits against them. Needs
torch; the test that reads the file does not.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from nin_tools import fashion_mnist


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path, help="state_dict saved by tools/nin_train.py")
    ap.add_argument("--arch", type=Path, help="topology JSON (default: <checkpoint stem>.arch.json)")
    ap.add_argument("--count", type=int, default=1000, help="first N test images (default 1000)")
    ap.add_argument("--out", type=Path, help="output .npy (default Tests/golden/fp32/<stem>.logits.npy)")
    args = ap.parse_args(argv)

    import torch
    import nin_train

    stem = args.checkpoint.name.removesuffix(".pt")
    arch = json.loads((args.arch or args.checkpoint.with_name(stem + ".arch.json")).read_text())
    model = nin_train.NiN(arch)
    try:
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    except Exception:  # a full training checkpoint (optimizer, scheduler): only load files you trust
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    model.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    model.eval()
    images, _ = fashion_mnist.load_split("test")
    images = torch.from_numpy(images[: args.count])
    torch.set_num_threads(2)
    with torch.no_grad():  # resized per chunk: 10,000 images at 227x227 would take 2 GB at once
        logits = torch.cat([model(nin_train.to_input(images[i:i + 250], tuple(arch["input"])))
                            for i in range(0, images.shape[0], 250)]).numpy().astype(np.float32)
    out = args.out or ROOT / "Tests" / "golden" / "fp32" / f"{stem}.logits.npy"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, logits)
    print(f"wrote {out}: {logits.shape[0]} images x {logits.shape[1]} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
