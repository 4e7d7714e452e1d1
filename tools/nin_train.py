#!/usr/bin/env python3
"""Train a Network-in-Network (NiN) CNN on Fashion-MNIST with PyTorch (CPU).

Two topologies (``--arch``):

* ``small``   – 1x28x28 input, four mlpconv blocks (32, 96, 192, 10 channels)
  + global average pooling: 19.3 MMAC per image, 0.31 M parameters.
* ``classic`` – 1x227x227 input, the d2l/Lin et al. NiN (four mlpconv blocks);
  28x28 images are resized with the runtime's ``nin_tools.preprocess.resize_u8``.

The model is ``NiN`` with ``self.network = nn.Sequential(...)`` so the
state_dict keys are ``network.<i>.<j>.<param>``: blocks are ``network.0``,
``network.3``, ``network.6``, ... (block, Dropout, MaxPool repeated), and inside
a block with BN the layout is conv(0) bn(1) relu(2) conv(3) bn(4) relu(5)
conv(6) bn(7) relu(8); without BN it is conv(0) relu(1) conv(2) relu(3)
conv(4) relu(5).

Outputs for ``--out models/x.pt``:

* ``models/x.pt``             the final state_dict alone (fp32, BN unfolded)
* ``models/x.arch.json``      the topology (see ``arch_json``)
* ``models/x.train.log``      one line per epoch
* ``models/x.pt.last.pt``     full checkpoint after every epoch (for --resume)

Inputs are pixel/255 in [0,1]; no mean/std normalisation.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from nin_tools.fashion_mnist import load_split
from nin_tools.preprocess import resize_u8

BN_EPS = 1e-5
BN_MOMENTUM = 0.1

# ---------------------------------------------------------------------------
# Architectures.  Each spec is the JSON "layers" list; the torch model is built
# from it, so model and JSON cannot disagree.
# ---------------------------------------------------------------------------

ARCHS: Dict[str, dict] = {
    "small": {
        "name": "nin_small",
        "input": [1, 28, 28],
        "layers": [
            {"type": "nin_block", "out": 32, "kernel": 5, "stride": 1, "padding": 2},
            {"type": "dropout", "p": 0.05},
            {"type": "maxpool", "kernel": 3, "stride": 2},            # 28 -> 13
            {"type": "nin_block", "out": 96, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "dropout", "p": 0.1},
            {"type": "maxpool", "kernel": 3, "stride": 2},            # 13 -> 6
            {"type": "nin_block", "out": 192, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "dropout", "p": 0.2},
            {"type": "nin_block", "out": 10, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "gap"},
        ],
    },
    "classic": {
        "name": "nin_classic",
        "input": [1, 227, 227],
        "layers": [
            {"type": "nin_block", "out": 96, "kernel": 11, "stride": 4, "padding": 0},
            {"type": "dropout", "p": 0.5},
            {"type": "maxpool", "kernel": 3, "stride": 2},
            {"type": "nin_block", "out": 256, "kernel": 5, "stride": 1, "padding": 2},
            {"type": "dropout", "p": 0.5},
            {"type": "maxpool", "kernel": 3, "stride": 2},
            {"type": "nin_block", "out": 384, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "dropout", "p": 0.5},
            {"type": "maxpool", "kernel": 3, "stride": 2},
            {"type": "nin_block", "out": 10, "kernel": 3, "stride": 1, "padding": 1},
            {"type": "gap"},
        ],
    },
}


def nin_block(in_c: int, out_c: int, k: int, s: int, p: int, bn: bool = True) -> nn.Sequential:
    """mlpconv block: conv kxk, 1x1, 1x1, each followed by [BN] and ReLU."""
    layers: List[nn.Module] = []
    for i in range(3):
        if i == 0:
            layers.append(nn.Conv2d(in_c, out_c, kernel_size=k, stride=s, padding=p))
        else:
            layers.append(nn.Conv2d(out_c, out_c, kernel_size=1))
        if bn:
            layers.append(nn.BatchNorm2d(out_c, eps=BN_EPS, momentum=BN_MOMENTUM))
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def arch_json(arch: str, bn: bool = True, num_classes: int = 10,
              dropout: Optional[float] = None) -> dict:
    """The topology description written next to the checkpoint.

    ``dropout`` replaces every Dropout probability of the arch when given.
    """
    spec = ARCHS[arch]
    layers = []
    for l in spec["layers"]:
        l = dict(l)
        if l["type"] == "dropout" and dropout is not None:
            l["p"] = dropout
        if l["type"] == "nin_block":
            l["bn"] = bn
            if bn:
                l["bn_eps"] = BN_EPS
        elif l["type"] == "maxpool":
            l.setdefault("padding", 0)
            l.setdefault("ceil_mode", False)
        layers.append(l)
    return {
        "name": spec["name"],
        "input": list(spec["input"]),
        "num_classes": num_classes,
        "input_scale": "pixel/255 (range [0,1], no mean/std normalisation)",
        "layers": layers,
    }


class NiN(nn.Module):
    def __init__(self, spec: dict):
        super().__init__()
        c = spec["input"][0]
        mods: List[nn.Module] = []
        for l in spec["layers"]:
            t = l["type"]
            if t == "nin_block":
                mods.append(nin_block(c, l["out"], l["kernel"], l["stride"], l["padding"],
                                      l.get("bn", True)))
                c = l["out"]
            elif t == "dropout":
                mods.append(nn.Dropout(l.get("p", 0.5)))
            elif t == "maxpool":
                mods.append(nn.MaxPool2d(l["kernel"], l["stride"], padding=l.get("padding", 0),
                                         ceil_mode=l.get("ceil_mode", False)))
            elif t == "gap":
                mods.append(nn.AdaptiveAvgPool2d(1))
            else:
                raise ValueError(f"unknown layer type {t!r}")
        self.num_classes = c
        self.network = nn.Sequential(*mods)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.network(x), 1)


def build_model(arch: str, bn: bool = True) -> NiN:
    return NiN(arch_json(arch, bn))


def count_macs(model: NiN, input_chw) -> int:
    """Multiply-accumulates of the conv layers for one image."""
    total = 0

    def hook(m, inp, out):
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += out.shape[1] * out.shape[2] * out.shape[3] * k

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_chw))
    model.train(was_training)
    for h in hs:
        h.remove()
    return total


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def augment_u8(x: torch.Tensor, gen: torch.Generator, pad: int, flip: bool) -> torch.Tensor:
    """Random translate (zero-pad by `pad`, random crop) and horizontal flip.

    x: uint8 [B,H,W]. Returns uint8 [B,H,W].
    """
    b, h, w = x.shape
    if pad > 0:
        xp = F.pad(x, (pad, pad, pad, pad))
        oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        iy = oy[:, None] + torch.arange(h)[None, :]
        ix = ox[:, None] + torch.arange(w)[None, :]
        x = xp[torch.arange(b)[:, None, None], iy[:, :, None], ix[:, None, :]]
    if flip:
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None], x.flip(-1), x)
    return x


def to_input(x_u8: torch.Tensor, input_chw) -> torch.Tensor:
    """uint8 [B,28,28] -> float [B,C,H,W] in [0,1] at the arch's input size."""
    c, h, w = input_chw
    if x_u8.shape[-2:] != (h, w):
        arr = x_u8.numpy()
        try:  # the batched form of the same resize, when the runtime's tool has it
            from nin_tools.preprocess import resize_batch_u8
            arr = np.asarray(resize_batch_u8(arr, h, w), dtype=np.uint8).reshape(-1, h, w)
        except ImportError:
            arr = np.stack([np.asarray(resize_u8(a, h, w), dtype=np.uint8).reshape(h, w) for a in arr])
        x_u8 = torch.from_numpy(np.ascontiguousarray(arr))
    x = x_u8.to(torch.float32).div_(255.0).unsqueeze(1)
    if c != 1:
        x = x.expand(-1, c, -1, -1)
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, input_chw,
             batch: int = 500, bf16: bool = False) -> float:
    """Top-1 accuracy in eval mode (fp32 unless ``bf16``)."""
    model.eval()
    correct = 0
    for i in range(0, images.shape[0], batch):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(to_input(images[i:i + batch], input_chw))
        correct += int((out.float().argmax(1) == labels[i:i + batch]).sum())
    return correct / images.shape[0]


@torch.no_grad()
def recalibrate_bn(model: nn.Module, images: torch.Tensor, input_chw, batch: int = 128) -> None:
    """Re-estimate every BatchNorm's running statistics with Dropout off.

    In training, Dropout (active) feeds the next block's BN: the BN running
    variance is then the variance of dropped-out activations, which is not
    what that BN sees in eval mode (the "variance shift" of Li et al. 2019,
    "Understanding the Disharmony between Dropout and Batch Normalization").
    On the classic 227 NiN with p=0.5 it is fatal: after one epoch the net
    scores 89.6% with recalibrated statistics and 20.6% with the running ones.
    So the statistics are recomputed here, in fp32, as an exact average over
    ``images`` (un-augmented training images) with BN in train mode and
    Dropout in eval mode. Weights are untouched.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    for i in range(0, images.shape[0], batch):
        model(to_input(images[i:i + batch], input_chw))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def strip_pt(path: str) -> str:
    return path[:-3] if path.endswith(".pt") else path


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(ARCHS), default="small")
    ap.add_argument("--no-bn", action="store_true", help="plain NiN blocks without BatchNorm")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3, help="peak learning rate (OneCycle)")
    ap.add_argument("--weight-decay", type=float, default=0.05, help="AdamW weight decay")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--pad", type=int, default=2, help="random-translate padding (0 = off)")
    ap.add_argument("--no-flip", action="store_true", help="disable random horizontal flip")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training images")
    ap.add_argument("--compile", action="store_true", help="use torch.compile (off by default)")
    ap.add_argument("--bf16", action="store_true",
                    help="train (and evaluate per epoch) under bfloat16 autocast: about 2x faster on "
                         "CPUs with AVX512_BF16; the final accuracy is measured in fp32")
    ap.add_argument("--dropout", type=float, default=None,
                    help="probability of every Dropout layer (default: the arch's own)")
    ap.add_argument("--recal-images", type=int, default=4096,
                    help="training images used to re-estimate BN statistics with Dropout off "
                         "after every epoch (0 = keep the running statistics)")
    ap.add_argument("--data-root", default=None, help="Fashion-MNIST directory (default: $NIN_FASHION_MNIST or system path)")
    ap.add_argument("--out", default=None, help="deliverable state_dict path, e.g. models/fashion_small.pt")
    ap.add_argument("--arch-json", default=None, help="also write the architecture JSON here")
    ap.add_argument("--resume", action="store_true", help="continue from <out>.last.pt")
    ap.add_argument("--log", default=None, help="epoch log (default: <out without .pt>.train.log)")
    args = ap.parse_args(argv)

    torch.set_num_threads(max(1, args.threads))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    seed_all(args.seed)

    spec = arch_json(args.arch, bn=not args.no_bn, dropout=args.dropout)
    input_chw = tuple(spec["input"])
    if args.arch_json:
        with open(args.arch_json, "w") as f:
            json.dump(spec, f, indent=2)
            f.write("\n")
    if args.out is None:
        if args.arch_json:
            return 0
        ap.error("--out is required for training")

    base = strip_pt(args.out)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(base + ".arch.json", "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    last_path = args.out + ".last.pt"
    log_path = args.log or base + ".train.log"

    model = NiN(spec).to(memory_format=torch.channels_last)
    n_params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model, input_chw)

    tr_x, tr_y = load_split("train", args.data_root)
    te_x, te_y = load_split("test", args.data_root)
    if args.train_limit:
        tr_x, tr_y = tr_x[:args.train_limit], tr_y[:args.train_limit]
    tr_x = torch.from_numpy(tr_x)
    tr_y = torch.from_numpy(tr_y.astype(np.int64))
    te_x = torch.from_numpy(te_x)
    te_y = torch.from_numpy(te_y.astype(np.int64))
    n = tr_x.shape[0]
    steps_per_epoch = n // args.batch_size  # drop the last partial batch (BN)

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.2, div_factor=20.0, final_div_factor=200.0)
    gen = torch.Generator().manual_seed(args.seed + 1)

    start_epoch = 0
    test_acc = float("nan")
    if args.resume and os.path.exists(last_path):
        ck = torch.load(last_path, map_location="cpu", weights_only=False)
        if ck.get("arch") != spec:
            raise SystemExit(f"{last_path}: architecture differs from --arch {args.arch}")
        for key in ("epochs", "batch_size", "train_n"):
            want = {"epochs": args.epochs, "batch_size": args.batch_size, "train_n": n}[key]
            if ck.get("run", {}).get(key, want) != want:
                raise SystemExit(f"{last_path}: was made with {key}={ck['run'][key]}, not {want}; "
                                 "the OneCycle schedule cannot be resumed with a different one")
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        start_epoch = ck["epoch"]
        test_acc = ck.get("test_acc", float("nan"))
        if "rng" in ck:
            gen.set_state(ck["rng"]["gen"])
            torch.set_rng_state(ck["rng"]["torch"])
        print(f"resumed from {last_path} at epoch {start_epoch} (test_acc {test_acc:.4f})", flush=True)

    run_model: nn.Module = model
    if args.compile:
        run_model = torch.compile(model)

    header = (f"# arch={args.arch} bn={not args.no_bn} params={n_params} macs/img={macs} "
              f"train_n={n} epochs={args.epochs} batch={args.batch_size} lr={args.lr} "
              f"wd={args.weight_decay} ls={args.label_smoothing} pad={args.pad} "
              f"flip={not args.no_flip} threads={args.threads} seed={args.seed} "
              f"bf16={args.bf16} dropout={args.dropout} recal={args.recal_images} "
              f"torch={torch.__version__}")
    print(header, flush=True)
    with open(log_path, "a") as lf:
        lf.write(header + "\n")
        if start_epoch == 0:
            lf.write("# cmd: " + " ".join([os.path.basename(sys.executable)] + sys.argv) + "\n")
            lf.write("epoch train_loss train_acc test_acc lr seconds\n")

    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        run_model.train()
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            xb = augment_u8(tr_x[idx], gen, args.pad, not args.no_flip)
            xb = to_input(xb, input_chw)
            yb = tr_y[idx]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                out = run_model(xb)
            out = out.float()
            loss = F.cross_entropy(out, yb, label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * yb.shape[0]
            correct += int((out.argmax(1) == yb).sum())
            seen += yb.shape[0]
        if args.recal_images:
            recalibrate_bn(model, tr_x[:args.recal_images], input_chw)
        test_acc = evaluate(run_model, te_x, te_y, input_chw, bf16=args.bf16)
        secs = time.time() - t0
        lr_now = sched.get_last_lr()[0]
        line = (f"{epoch + 1} {loss_sum / seen:.4f} {correct / seen:.4f} {test_acc:.4f} "
                f"{lr_now:.2e} {secs:.1f}")
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss_sum / seen:.4f} train_acc "
              f"{correct / seen:.4f} test_acc {test_acc:.4f} lr {lr_now:.2e} {secs:.1f}s", flush=True)
        with open(log_path, "a") as lf:
            lf.write(line + "\n")
        ck = {
            "state_dict": model.state_dict(),
            "arch": spec,
            "epoch": epoch + 1,
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "test_acc": test_acc,
            "rng": {"gen": gen.get_state(), "torch": torch.get_rng_state()},
            "run": {"epochs": args.epochs, "batch_size": args.batch_size, "train_n": n},
        }
        torch.save(ck, last_path + ".tmp")
        os.replace(last_path + ".tmp", last_path)

    if args.bf16 and start_epoch < args.epochs:
        test_acc = evaluate(model, te_x, te_y, input_chw)
        print(f"fp32 test accuracy {test_acc:.4f}", flush=True)
        with open(log_path, "a") as lf:
            lf.write(f"# fp32 test accuracy (10,000 images, eval mode): {test_acc:.4f}\n")
    # Deliverable: the final state_dict alone (fp32, BN parameters unfolded).
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    torch.save(sd, args.out)
    print(f"saved {args.out} (test_acc {test_acc:.4f}), arch {base}.arch.json, log {log_path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
