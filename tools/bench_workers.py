"""``make bench-workers``: the memory of worker processes that each load the classic model,
with the shipped file (format 1.1: the kernel family repacks the weights into private memory)
against a copy carrying quad weights (format 1.2, ``tools/nin-repack --quad-weights``: the quad
kernels read them in place from the shared file mapping).  ``bench/nin_workers.c`` forks the
workers, each loads the file and classifies one image, and measures all of them while they
are alive: RSS, PSS (shared pages divided among the processes mapping them) and private dirty
memory.  Rounds alternate between the two files; before each, the file's pages are dropped from
the page cache (POSIX_FADV_DONTNEED), as for a file read from disk: a file just written sits
in the cache in large folios, and a page fault maps a whole folio, so its OHWI pages beside the
quad copy are mapped too (RSS, not PSS or private memory, grows by up to their size).

    python3 tools/bench_workers.py DRIVER PLAIN.nin QUAD.nin [--workers 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys


def drop_cache(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def measure(driver: str, model: str, workers: int) -> dict:
    drop_cache(model)
    out = subprocess.run([driver, model, str(workers)], capture_output=True, text=True, check=True).stdout
    first = re.search(r"family=(\S+) packed_bytes=(\d+) weights_in_place_bytes=(\d+)", out)
    mean = re.search(r"mean rss_kib=(\d+) pss_kib=(\d+) private_dirty_kib=(\d+)", out)
    if not (first and mean):
        sys.exit(f"bench_workers: unexpected output of {driver}:\n{out}")
    return {"family": first[1], "packed": int(first[2]), "in_place": int(first[3]),
            "rss": int(mean[1]), "pss": int(mean[2]), "dirty": int(mean[3])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("driver")
    ap.add_argument("plain")
    ap.add_argument("quad")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    runs = {"plain": [], "quad": []}
    for _ in range(args.rounds):
        for name in runs:
            runs[name].append(measure(args.driver, getattr(args, name), args.workers))
    print(f"{args.workers} workers, each: load the classic model, classify one image; all alive while measured")
    print(f"CPU: {cpu}; kernel {os.uname().release}; medians of {args.rounds} interleaved rounds, per worker")
    print(f"{'file':<34}{'family':>8}{'packed':>11}{'in place':>11}{'RSS':>11}{'PSS':>11}{'priv dirty':>12}")
    for name, path in (("plain", args.plain), ("quad", args.quad)):
        r = runs[name]
        med = {k: statistics.median(x[k] for x in r) for k in ("packed", "in_place", "rss", "pss", "dirty")}
        print(f"{os.path.basename(path):<34}{r[0]['family']:>8}{med['packed'] / 1024:>9.0f} K{med['in_place'] / 1024:>9.0f} K"
              f"{med['rss']:>9.0f} K{med['pss']:>9.0f} K{med['dirty']:>10.0f} K")
    plain = statistics.median(x["pss"] for x in runs["plain"])
    quad = statistics.median(x["pss"] for x in runs["quad"])
    print(f"PSS per worker: {quad:.0f} KiB with quad weights, {plain:.0f} KiB without ({quad / plain:.2f}x); "
          f"all {args.workers}: {args.workers * quad / 1024:.1f} MiB against {args.workers * plain / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
