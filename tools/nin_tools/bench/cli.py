"""tools/bench.py's command line: the options, the default models and image, and its two modes
(the whole benchmark, or --callgrind-only; --peers-only builds the peers' models and stops)."""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import nin_tools.bench
from nin_tools import fashion_mnist as FM
from nin_tools.bench.common import BENCH_BUILD, OUT_DIR, RELEASE, ROOT, log
from nin_tools.bench.families import cpu_flags_line
from nin_tools.bench.libnin import Nin
from nin_tools.bench.machine import machine_info, versions
from nin_tools.bench.model import bench_model, callgrind_model, model_header
from nin_tools.bench.nin_bench import build_nin_bench
from nin_tools.bench.peers import build_peers
from nin_tools.bench.report import plot, print_table


def default_models() -> list[Path]:
    models = []
    small = ROOT / "models" / "fashion_small.nin"
    if small.exists():
        models.append(small)
    classic = ROOT / "models" / "fashion_classic.nin"
    if classic.exists():
        models.append(classic)
    else:
        rnd = BENCH_BUILD / "classic_random.nin"
        if not rnd.exists():
            subprocess.run([sys.executable, str(ROOT / "tools" / "make_bench_model.py"),
                            str(rnd)], check=True)
        models.append(rnd)
    return models


def default_image() -> Path:
    pngs = sorted(glob.glob(str(ROOT / "examples" / "images" / "*.png")))
    return Path(pngs[0]) if pngs else ROOT / "Tests" / "fixtures" / "png" / "gray_8.png"


def finish(results: dict, t_start: float, path: Path) -> None:
    """Records the run's seconds, prints the table and writes `results` (the table among them)
    as JSON to `path`."""
    results["seconds"] = time.perf_counter() - t_start
    table = print_table(results)
    results["table"] = table
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"\nwrote {path}")


QUICK_RUNS = 20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=nin_tools.bench.__doc__.split("\n")[0],
        epilog="--quick: --runs 20, --agree-images 1000, --no-cold (a few minutes on 2 cores). "
               "--callgrind-only: only the instruction counts (default model: the classic one), "
               "written to OUT/callgrind.json.")
    ap.add_argument("--models", nargs="+", type=Path, help="the .nin models to compare")
    ap.add_argument("--runs", type=int, default=None,
                    help="timed runs per measurement (default 50, the figure this benchmark "
                         f"promises; {QUICK_RUNS} with --quick)")
    ap.add_argument("--agree-images", type=int, default=None,
                    help="Fashion-MNIST test images for the agreement: figures for the first "
                         "1000 and, if more, for all (default 10000; 1000 with --quick)")
    ap.add_argument("--calib-images", type=int, default=100,
                    help="Fashion-MNIST training images for ORT calibration (default 100)")
    ap.add_argument("--cold-runs", type=int, default=20, help="fresh processes for cold start")
    ap.add_argument("--image", type=Path,
                    help="PNG for the cold start and the kernel-family probes (default: an example)")
    ap.add_argument("--quick", action="store_true",
                    help=f"fewer runs ({QUICK_RUNS}), agreement on 1000 images, no cold start")
    ap.add_argument("--callgrind-only", action="store_true",
                    help="only the instruction counts under callgrind: nin per family valgrind "
                         "runs (AVX2, ...) and ONNX Runtime int8, with the ratio")
    ap.add_argument("--peers-only", action="store_true",
                    help="only build the peers' ONNX models (fp32 and ORT int8 QDQ) under "
                         ".build/bench/peers/ and print their paths (make bench-kit)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if importable")
    ap.add_argument("--no-openvino", action="store_true", help="skip OpenVINO even if importable")
    ap.add_argument("--openvino-profile", action="store_true",
                    help="also OpenVINO's per-layer profile (PERF_COUNT, batch 1, 1 thread)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measurement")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (bench/out)")
    args = ap.parse_args(argv)
    if args.runs is None:
        args.runs = QUICK_RUNS if args.quick else 50
    if args.agree_images is None:
        args.agree_images = 1000 if args.quick else 10000
    if args.quick:
        args.no_cold = True
    if args.runs < 1 or args.agree_images < 1 or args.calib_images < 1 or args.cold_runs < 1:
        ap.error("--runs, --agree-images, --calib-images and --cold-runs must be at least 1")
    if args.callgrind_only and args.no_callgrind:
        ap.error("--callgrind-only and --no-callgrind contradict each other")
    runs_note = None
    if args.runs < 50 and not args.callgrind_only:
        runs_note = (f"note: {args.runs} runs per measurement (--runs{' via --quick' if args.quick else ''}), "
                     "below the 50 this benchmark promises")
        log(runs_note)

    lib = RELEASE / "libnin.so"
    for need in (lib, RELEASE / "nin-infer"):
        if not need.exists():
            log(f"{need} is missing: run `make lib cli` first")
            return 1
    t_start = time.perf_counter()
    results = {"machine": machine_info(), "versions": versions(), "models": {},
               "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                           if k != "models"}}
    if runs_note:
        results["runs_note"] = runs_note
    nin = Nin(lib)
    results["versions"]["nin"] = nin.version
    exe = build_nin_bench()
    if args.models:
        models = [p.resolve() for p in args.models]
    else:
        models = [p.resolve() for p in default_models()]
        if args.callgrind_only or args.peers_only:
            models = models[-1:]                        # the classic model
    train_x, _ = FM.load_split("train")
    rng = np.random.default_rng(0)
    calib_idx = rng.choice(train_x.shape[0], size=args.calib_images, replace=False)
    data = {"calib": train_x[np.sort(calib_idx)], "cpu": results["machine"]["cpu_features"],
            "image": (args.image or default_image()).resolve()}
    del train_x
    v = results["versions"]
    log(f"machine: {results['machine']['cpu']}, {results['machine']['cpus']} CPUs, load "
        f"{results['machine']['loadavg_before']}; nin {nin.version}, onnxruntime "
        f"{v['onnxruntime']}, openvino {v['openvino']}, torch {v['torch']}")
    log(cpu_flags_line(data["cpu"]))

    if args.peers_only:
        for path in models:
            model, shape, work, _ = model_header(path)
            for built in build_peers(model, shape, work, data):
                print(built)
        return 0
    if args.callgrind_only:
        for path in models:
            res = callgrind_model(path, exe, data)
            results["models"][res["path"]] = res
        finish(results, t_start, args.out / "callgrind.json")
        log(f"total {results['seconds']:.0f} s")
        return 0

    test_x, test_y = FM.load_split("test")
    data.update({"test_images": test_x[:args.agree_images], "test_labels": test_y[:args.agree_images]})
    results["cold_start_image"] = str(data["image"])
    for path in models:
        res = bench_model(path, args, nin, exe, data)
        results["models"][res["path"]] = res

    results["machine"]["loadavg_after"] = list(os.getloadavg())
    finish(results, t_start, args.out / "results.json")
    if plot(results, args.out / "latency.png"):
        log(f"wrote {args.out / 'latency.png'}")
    log(f"total {results['seconds']:.0f} s")
    return 0
