#!/usr/bin/env python3
"""ONNX Runtime and OpenVINO int8 (make bench's QDQ model of the classic NiN) against nin
(nin_bench, its default kernel family) on this machine: interleaved rounds, medians, and
OpenVINO's slowest layers (PERF_COUNT). Either peer is skipped when it does not import.
Part of the bench kit (bench/kit/run.sh); usage: engines.py KIT_DIR."""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

KIT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
QDQ = os.path.join(KIT, "int8_qdq.onnx")
NIN = os.path.join(KIT, "fashion_classic.nin")
CONFIGS = [(1, 1), (2, 1), (2, 16)] + ([(16, 1), (16, 16)] if (os.cpu_count() or 1) >= 16 else [])
RUNS, ROUNDS = 40, 3


def median_ms(call, runs):
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


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
                found["ort"] = median_ms(ort_runner(threads, batch, x), RUNS)
            if "openvino" in engines:
                request = openvino_compiled(threads, batch)
                found["openvino"] = median_ms(lambda: request.infer({0: x}), RUNS)
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
    if "openvino" in engines:
        request = openvino_compiled(1, 1, profile=True)
        x = np.random.default_rng(0).random((1, 1, 227, 227), dtype=np.float32)
        for _ in range(20):
            request.infer({0: x})
        nodes = sorted(request.profiling_info, key=lambda p: -p.real_time.total_seconds())
        print("\nOpenVINO PERF_COUNT, 1 thread, batch 1 (last run), slowest nodes:")
        for p in nodes[:12]:
            print(f"  {p.real_time.total_seconds() * 1e3:7.3f} ms  {p.exec_type:28s} {p.node_name}")


if __name__ == "__main__":
    main()
