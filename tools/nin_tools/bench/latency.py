"""Latency and throughput: every engine in each configuration (batch, threads), interleaved in
rounds, nin through nin_bench and the peers through nin_tools.bench.timing."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from nin_tools.bench.common import ENGINE_NAMES, log
from nin_tools.bench.families import SLOW_FAMILY_MS
from nin_tools.bench.nin_bench import nin_bench
from nin_tools.bench.openvino import ov_compile, ov_timer
from nin_tools.bench.peers import ort_session
from nin_tools.bench.timing import summary, time_calls

CONFIGS = [(1, 1), (1, 2), (16, 2)]          # (batch, threads)


# Each configuration is timed in ROUNDS rounds, every engine once per round (its share of the
# runs, after its own warm-up), with a short pause between engines, and each engine's median
# is taken over all its runs: a burst of load on this shared machine then lands on every engine
# instead of on whichever happened to be running.
ROUNDS = 5
PAUSE_S = 0.2


def latency_rows(args, path: Path, exe: Path, fams: dict, fp32_path: Path, int8_path: Path, ov,
                 torch_mod, test_f32: np.ndarray) -> list[dict]:
    """Medians of every engine in each of CONFIGS, the engines interleaved in ROUNDS rounds.
    nin runs its default family in every configuration and each other family this machine has
    at batch 1 (a family slower than SLOW_FAMILY_MS: one warm-up and one timed run per round)."""
    lat = []
    per_round = -(-args.runs // ROUNDS)  # at least args.runs runs per engine in all
    auto = fams["auto"]
    auto_label = f"nin int8 [{auto}]" if auto else "nin int8"
    for batch, threads in CONFIGS:
        row = {"batch": batch, "threads": threads}
        x = np.ascontiguousarray(np.resize(test_f32, (batch,) + test_f32.shape[1:]))
        # key -> (label, function: runs wanted this round -> milliseconds of the runs done)
        timers = {"nin_int8": (auto_label,
                               lambda n: nin_bench(exe, path, n, threads, batch))}
        if batch == 1:
            for fam in fams["available"]:
                name = fam["family"]
                if name == auto:
                    continue
                if (fam["profile_ms"] or 0) > SLOW_FAMILY_MS:
                    fn = (lambda n, name=name: nin_bench(exe, path, 1, threads, batch, name, 1))
                else:
                    fn = (lambda n, name=name: nin_bench(exe, path, n, threads, batch, name))
                timers[f"nin_int8_{name}"] = (f"nin int8 [{name}]", fn)
        feed = {"input": x}
        timers["ort_int8"] = (ENGINE_NAMES["ort_int8"],
                              lambda n, s=ort_session(int8_path, threads):
                              time_calls(lambda: s.run(["logits"], feed), n))
        if ov is not None:
            ov_run = ov_timer(ov_compile(ov, int8_path, threads, batch=batch), x)
            timers["openvino_int8"] = (ENGINE_NAMES["openvino_int8"], lambda n: time_calls(ov_run, n))
        timers["ort_fp32"] = (ENGINE_NAMES["ort_fp32"],
                              lambda n, s=ort_session(fp32_path, threads):
                              time_calls(lambda: s.run(["logits"], feed), n))
        if torch_mod is not None:
            import torch
            torch.set_num_threads(threads)
            xt = torch.from_numpy(x)

            def run_torch(n):
                with torch.inference_mode():
                    return time_calls(lambda: torch_mod(xt), n)
            timers["torch_fp32"] = (ENGINE_NAMES["torch_fp32"], run_torch)
        samples = {key: [] for key in timers}
        for _ in range(ROUNDS):
            for key, (_, fn) in timers.items():
                samples[key] += fn(per_round)
                time.sleep(PAUSE_S)
        del timers                                  # the sessions and compiled models
        for key, times in samples.items():
            row[key] = summary(times)
            row[key]["images_per_s"] = batch * 1e3 / row[key]["median_ms"]
            row[key]["label"] = (f"nin int8 [{key[len('nin_int8_'):]}]" if key.startswith("nin_int8_")
                                 else auto_label if key == "nin_int8" else ENGINE_NAMES[key])
        for key in samples:
            for peer in ("ort_int8", "openvino_int8"):
                if peer in row and key != peer:
                    row[key][f"vs_{peer}"] = row[key]["median_ms"] / row[peer]["median_ms"]
        lat.append(row)
        log("  " + _latency_line(row))
    return lat


def _latency_line(row: dict) -> str:
    parts = [f"b{row['batch']} t{row['threads']}:"]
    for key, r in row.items():
        if isinstance(r, dict):
            parts.append(f"{r.get('label', ENGINE_NAMES.get(key, key))} {r['median_ms']:.3f} ms")
    return "  ".join(parts)
