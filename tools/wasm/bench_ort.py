#!/usr/bin/env python3
"""tools/wasm/bench_ort.py INT8_QDQ.onnx RUNS [WARMUP]: times ONNX Runtime native int8 (the QDQ
model `make bench` builds, tools/bench.py --peers-only) at batch 1 on one thread, the peer
tools/wasm/bench.sh sets beside nin.wasm; prints `median_ms=M best_ms=B`. The input is a fixed
random image (int8 latency does not depend on the pixels)."""

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nin_tools.bench.peers import ort_session  # noqa: E402
from nin_tools.bench.timing import time_calls  # noqa: E402


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    path, runs = Path(sys.argv[1]), int(sys.argv[2])
    warmup = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    session = ort_session(path, threads=1)
    shape = [1 if not isinstance(d, int) else d for d in session.get_inputs()[0].shape]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    name = session.get_inputs()[0].name
    times = time_calls(lambda: session.run(None, {name: x}), runs, warmup)
    print(f"median_ms={statistics.median(times):.3f} best_ms={min(times):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
