#!/usr/bin/env python3
"""ONNX Runtime and OpenVINO int8 (make bench's QDQ model of the classic NiN) against nin
(nin_bench, its default kernel family) on this machine: interleaved rounds, medians; then each
layer of nin (nin-infer --profile) beside OpenVINO's (PERF_COUNT), with shares of nin's measured
peak, at 1 and 2 threads. Either peer is skipped when it does not import.
Part of the bench kit (bench/kit/run.sh); usage: engines.py KIT_DIR."""
import glob
import os
import statistics
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = sys.argv[1] if len(sys.argv) > 1 else HERE
sys.path.insert(0, HERE)
# In the kit, tools/nin_tools/layer_profile.py and tools/nin_tools/bench/timing.py (the timing
# loop tools/bench.py uses too) lie beside this file (make bench-kit copies them); in the
# repository they are imported from tools/.
try:
    import layer_profile  # noqa: E402
    import timing  # noqa: E402
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
    from nin_tools import layer_profile  # noqa: E402
    from nin_tools.bench import timing  # noqa: E402

QDQ = os.path.join(KIT, "int8_qdq.onnx")
NIN = os.path.join(KIT, "fashion_classic.nin")
CONFIGS = [(1, 1), (2, 1), (2, 16)] + ([(16, 1), (16, 16)] if (os.cpu_count() or 1) >= 16 else [])
RUNS, ROUNDS = 40, 3


def ort_runner(threads, batch, x):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(QDQ, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda: session.run(None, {name: x})


def openvino_compiled(threads, batch, profile=False):
    import openvino as ov
    model = ov.Core().read_model(QDQ)
    model.reshape([batch, 1, 227, 227])
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    if profile:
        config["PERF_COUNT"] = True
    return ov.Core().compile_model(model, "CPU", config).create_infer_request()


def nin_ms(threads, batch):
    out = subprocess.run([os.path.join(KIT, "nin_bench"), NIN, str(RUNS), str(threads), str(batch)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split("median_ms=")[1].split()[0])


def main():
    # Where the time goes: each layer of nin (--profile) beside OpenVINO's (PERF_COUNT), with
    # their shares of nin's measured peak, at 1 and 2 threads (layer_profile.py). nin's profiles
    # come first, before any peer has started a thread pool: ORT's and OpenVINO's threads keep
    # spinning after a run, which disturbed nin's 2-thread profile (and the peak it measures).
    profiles = {}
    for threads in (1, 2):
        profiles[threads] = layer_profile.parse_nin_profile(subprocess.run(
            [os.path.join(KIT, "nin-infer"), "--profile", str(RUNS * 2), "--threads", str(threads), "--model", NIN,
             sorted(glob.glob(os.path.join(KIT, "images", "*.png")))[0]],
            capture_output=True, text=True, check=True).stdout)
    engines = {}
    for name, module in (("onnxruntime", "onnxruntime"), ("openvino", "openvino")):
        try:
            engines[name] = __import__(module).__version__
        except ImportError:
            print(f"{name} does not import: skipped")
    print("engines:", engines)
    rows = {}
    for r in range(ROUNDS):
        for threads, batch in CONFIGS:
            x = np.random.default_rng(0).random((batch, 1, 227, 227), dtype=np.float32)
            found = {"nin": nin_ms(threads, batch)}
            if "onnxruntime" in engines:
                found["ort"] = timing.median_ms(ort_runner(threads, batch, x), RUNS, warmup=3)
            if "openvino" in engines:
                request = openvino_compiled(threads, batch)
                found["openvino"] = timing.median_ms(lambda: request.infer({0: x}), RUNS, warmup=3)
            for key, ms in found.items():
                rows.setdefault((key, threads, batch), []).append(ms)
            print(f"round {r} t{threads} b{batch}: " + "  ".join(f"{k} {v:.3f} ms" for k, v in found.items()), flush=True)
    print("\nmedians over rounds: ms (images/s), nin's ratio to each peer (below 1: nin is faster)")
    for threads, batch in CONFIGS:
        nin = statistics.median(rows[("nin", threads, batch)])
        line = f"t{threads} b{batch}: nin {nin:.3f} ({batch * 1e3 / nin:.0f}/s)"
        for key in ("ort", "openvino"):
            if (key, threads, batch) in rows:
                peer = statistics.median(rows[(key, threads, batch)])
                line += f"  {key} {peer:.3f} ({batch * 1e3 / peer:.0f}/s) nin/{key} {nin / peer:.2f}"
        print(line)
    # The peak is measured when each profile starts; work on a sibling hyperthread lowers it,
    # so both tables use the higher of the two measurements.
    peaks = [p["peak_gmacs"] for p in profiles.values() if p["peak_gmacs"]]
    for threads, nin in profiles.items():
        if peaks:
            nin["peak_gmacs"] = max(peaks)
        nodes = openvino_nodes(threads) if "openvino" in engines else None
        print()
        print("\n".join(layer_profile.side_by_side_lines(nin, nodes, openvino_threads=threads)))


def openvino_nodes(threads):
    """OpenVINO's executed nodes at batch 1 on `threads` threads: each node's median real time
    (PERF_COUNT) over RUNS runs, after warm-up."""
    import openvino as ov
    request = openvino_compiled(threads, 1, profile=True)
    x = np.random.default_rng(0).random((1, 1, 227, 227), dtype=np.float32)
    return layer_profile.openvino_node_times(ov, request, {0: x}, RUNS, warmup=10)[0]

if __name__ == "__main__":
    main()
