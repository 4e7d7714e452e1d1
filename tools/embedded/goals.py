#!/usr/bin/env python3
"""tools/embedded/goals.py [--runs N]: issue 23's goals for the Embedded build against the hosted
one, as a table: libnin.so's size (stripped file, and its text as `size` counts it: code,
read-only data, symbol tables), static nin-infer's size, its peak RSS classifying one example
image with the classic model, and its cold start (exec to exit, top-5 printed) for that image.
RSS and cold start (wall, and the CPU time it used, which a busy machine inflates less) are
medians of N runs (default 21), the two builds interleaved run by run, so drift hits both alike;
all three come from tools/embedded/cold_run.c (fork, exec, wait4). `--threads N` runs nin-infer
with N threads (default 1). A last row splits the cold start: `nin-infer --plan` alone (exec, the
C library's start, the model's load and packing, the arena plan; no image, no inference), whose
median is what any first image pays before its inference starts. And a floor: the peak RSS of
tools/embedded/rss_floor.c, a C program linked as nin-infer is (static PIE, glibc, libpng, zlib)
that holds the same packed weights and arena (`nin-infer --plan --json`) and has none of nin's code.
Latency (nin_bench) is
tools/embedded/bench.sh; `make bench-embedded` runs both. Needs `make lib cli` and `make embedded`."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "fashion_classic.nin"
IMAGE = ROOT / "examples" / "images" / "test_00000_ankle_boot.png"
BUILDS = {"hosted": ROOT / ".build" / "release", "embedded": ROOT / ".build-embedded" / "release"}
# The goals of issue 23 (bytes, bytes, seconds): Embedded libnin.so text, nin-infer RSS, cold start.
TEXT_GOAL, RSS_GOAL, START_GOAL = 400_000, 3_000_000, 0.008


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def stripped(path: Path, into: Path) -> Path:
    """A stripped copy of `path` in folder `into`."""
    out = into / (path.parent.parent.name + "-" + path.name)
    subprocess.run(["strip", "-o", str(out), str(path)], check=True)
    return out


def text_bytes(path: Path) -> int:
    """`size`'s text column (Berkeley format): every allocated read-only section."""
    line = subprocess.run(["size", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()[1]
    return int(line.split()[0])


def nin_environment() -> dict:
    """This process's environment with NIN_MODEL set to MODEL and no NIN_ISA (each build runs
    the family it picks)."""
    env = dict(os.environ, NIN_MODEL=str(MODEL))
    env.pop("NIN_ISA", None)
    return env


def run_once(probe: Path, binary: Path, arguments: list[str]) -> tuple[float, float, int]:
    """One cold run of nin-infer with `arguments` through cold_run: (seconds from fork to exit,
    CPU seconds, peak RSS in bytes)."""
    out = subprocess.run([str(probe), str(binary)] + arguments, env=nin_environment(), check=True, capture_output=True,
                         text=True)
    seconds, cpu, rss = out.stdout.split()
    return float(seconds), float(cpu), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of nin-infer per build (default 21)")
    parser.add_argument("--threads", type=int, default=1, help="nin-infer --threads (default 1)")
    args = parser.parse_args()
    for build, folder in BUILDS.items():
        for name in ("libnin.so", "nin-infer"):
            if not (folder / name).exists():
                sys.exit(f"{folder / name} missing: run `make lib cli` and `make embedded` first")
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for build, folder in BUILDS.items():
            lib = stripped(folder / "libnin.so", Path(tmp))
            cli = stripped(folder / "nin-infer", Path(tmp))
            sizes[build] = (lib.stat().st_size, text_bytes(lib), cli.stat().st_size)
        probe = Path(tmp) / "cold_run"
        subprocess.run(["cc", "-O2", "-o", str(probe), str(ROOT / "tools" / "embedded" / "cold_run.c")], check=True)
        floor = Path(tmp) / "rss_floor"
        libpng = subprocess.run(["pkg-config", "--cflags", "libpng"], check=True, capture_output=True, text=True).stdout.split()
        subprocess.run(["cc", "-O2", "-static-pie", "-o", str(floor), str(ROOT / "tools" / "embedded" / "rss_floor.c")] + libpng
                       + ["-lpng16", "-lz", "-lm", "-lpthread"], check=True)
        measure(probe, args.runs, args.threads, sizes, floor)


def floor_arguments(threads: int) -> list[str]:
    """rss_floor's arguments: the packed weight bytes and arena bytes of the Embedded nin-infer's
    context for IMAGE, from its --plan --json."""
    out = subprocess.run([str(BUILDS["embedded"] / "nin-infer"), "--plan", "--json", "--threads", str(threads)],
                         env=nin_environment(), check=True, capture_output=True, text=True).stdout
    plan = json.loads(out)
    return [str(plan["packed_bytes"]), str(plan["arena_bytes"])]


def measure(probe: Path, runs: int, threads: int, sizes: dict, floor: Path) -> None:
    """Runs both nin-infer builds `runs` times each, interleaved, and prints the table."""
    classify = ["--threads", str(threads), str(IMAGE)]
    held = floor_arguments(threads)
    floor_rss: list[int] = []
    for build, folder in BUILDS.items():  # (page cache warm, as for any cold start after the first)
        run_once(probe, folder / "nin-infer", classify)
    times: dict[str, list[float]] = {b: [] for b in BUILDS}
    cpu: dict[str, list[float]] = {b: [] for b in BUILDS}
    rss: dict[str, list[int]] = {b: [] for b in BUILDS}
    load: dict[str, list[float]] = {b: [] for b in BUILDS}
    for _ in range(runs):
        for build, folder in BUILDS.items():
            t, c, r = run_once(probe, folder / "nin-infer", classify)
            times[build].append(t)
            cpu[build].append(c)
            rss[build].append(r)
            load[build].append(run_once(probe, folder / "nin-infer", ["--threads", str(threads), "--plan"])[0])
        floor_rss.append(run_once(probe, floor, held)[2])
    print(f"Embedded vs hosted nin, {cpu_name()}, {os.cpu_count()} CPUs; nin-infer --threads {threads}; "
          f"{runs} interleaved runs, medians")
    print(f"{'':34} {'hosted':>12} {'embedded':>12} {'goal':>12}")
    rows = [
        ("libnin.so stripped (bytes)", 0, None),
        ("libnin.so text (bytes)", 1, TEXT_GOAL),
        ("nin-infer stripped, static (bytes)", 2, None),
    ]
    verdicts = []
    for label, index, goal in rows:
        h, e = sizes["hosted"][index], sizes["embedded"][index]
        print(f"{label:34} {h:12,} {e:12,} {('<= %s' % format(goal, ',')) if goal else '':>12}")
        if goal:
            verdicts.append(("text", e <= goal))
    h, e = statistics.median(rss["hosted"]), statistics.median(rss["embedded"])
    print(f"{'nin-infer peak RSS, 1 image (MB)':34} {h / 1e6:12.2f} {e / 1e6:12.2f} {'<= %.1f' % (RSS_GOAL / 1e6):>12}")
    verdicts.append(("RSS", e <= RSS_GOAL))
    print(f"{'  floor: rss_floor.c, same data (MB)':34} {'':12} {statistics.median(floor_rss) / 1e6:12.2f}"
          f"   ({held[0]} B weights + {held[1]} B arena, no nin code)")
    h, e = statistics.median(times["hosted"]), statistics.median(times["embedded"])
    print(f"{'nin-infer cold start, 1 image (ms)':34} {h * 1e3:12.2f} {e * 1e3:12.2f} {'<= %.0f' % (START_GOAL * 1e3):>12}")
    verdicts.append(("cold start", e <= START_GOAL))
    h, e = statistics.median(cpu["hosted"]), statistics.median(cpu["embedded"])
    print(f"{'  its CPU time, user + system (ms)':34} {h * 1e3:12.2f} {e * 1e3:12.2f}")
    h, e = statistics.median(load["hosted"]), statistics.median(load["embedded"])
    print(f"{'  exec + model load (--plan) (ms)':34} {h * 1e3:12.2f} {e * 1e3:12.2f}")
    print("goals met: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in verdicts))


if __name__ == "__main__":
    main()
