"""Where the time goes, layer by layer: nin's ``nin-infer --profile`` beside OpenVINO's
PERF_COUNT profile of the same model (make bench's QDQ model, whose nodes are named after nin's
layers: ``l4_relu/WithoutBiases`` is the convolution of nin's layer 4), with each convolution's
share of the kernel family's measured single-thread peak (the ``peak:`` line of the profile:
its multiply instruction from registers, e.g. ``vpdpbusd zmm`` or ``tdpbusd``).

Both engines' shares use nin's peak and nin's MAC count (kh x kw x C per output, padding taps
included), so the shares of one layer compare directly.  Used by ``tools/bench.py
--openvino-profile`` and by the bench kit (``bench/kit/engines.py``, which has a copy of this
file beside it); standard library only."""

from __future__ import annotations

import re
import statistics
import time

_HEADER = re.compile(r"^profile: (\d+) run\(s\), kernels (\w+), (\d+) thread\(s\)")
_PEAK = re.compile(r"^peak: ([0-9.]+) GMAC/s per thread \((.+), from registers\)")
_LAYER = re.compile(r"^  (\d+) (\w+) (\S+) -> (\S+): ([0-9.]+) ms(?:  ([0-9.]+) GMAC/s)?")
_OPENVINO_LAYER = re.compile(r"^l(\d+)(?:_|/|$)")


def parse_nin_profile(text: str) -> dict:
    """The figures of one ``nin-infer --profile N`` report: {"family", "threads", "peak_gmacs"
    (None without a peak loop), "instruction", "layers": [{"index", "kind", "input", "output",
    "ms", "macs"}]}, macs from the printed GMAC/s x ms (0 for a pool)."""
    lines = text.splitlines()
    header = next((m for m in map(_HEADER.match, lines) if m), None)
    if header is None:
        raise ValueError("no 'profile:' line in the nin-infer output")
    peak = next((m for m in map(_PEAK.match, lines) if m), None)
    layers = []
    for m in map(_LAYER.match, lines):
        if m is None:
            continue
        ms = float(m.group(5))
        gmacs = float(m.group(6)) if m.group(6) else 0.0
        layers.append({"index": int(m.group(1)), "kind": m.group(2), "input": m.group(3),
                       "output": m.group(4), "ms": ms, "macs": gmacs * 1e9 * ms * 1e-3})
    return {"family": header.group(2), "threads": int(header.group(3)),
            "peak_gmacs": float(peak.group(1)) if peak else None,
            "instruction": peak.group(2) if peak else None, "layers": layers}


def openvino_node_times(ov, request, inputs, runs: int, warmup: int = 5,
                        share_inputs: bool = False) -> tuple[list[dict], list[float]]:
    """Runs OpenVINO's infer `request` (compiled with PERF_COUNT) on `inputs` `warmup` + `runs`
    times; returns each executed node's median real time over the runs ([{"name", "type",
    "exec_type", "ms"}], in execution order) and the runs' wall times (ms). `ov` is the
    openvino module, passed in so that this file needs none; `share_inputs` is infer's."""
    for _ in range(warmup):
        request.infer(inputs, share_inputs=share_inputs)
    times: dict[tuple, list[float]] = {}
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        request.infer(inputs, share_inputs=share_inputs)
        walls.append((time.perf_counter() - t0) * 1e3)
        for p in request.profiling_info:
            if p.status == ov.ProfilingInfo.Status.EXECUTED:
                times.setdefault((p.node_name, p.node_type, p.exec_type), []).append(p.real_time.total_seconds() * 1e3)
    nodes = [{"name": name, "type": kind, "exec_type": impl, "ms": statistics.median(ms)}
             for (name, kind, impl), ms in times.items()]
    return nodes, walls


def match_openvino(nodes: list[dict]) -> tuple[dict[int, dict], float]:
    """OpenVINO's executed nodes ([{"name", "exec_type", "ms"}]) by nin layer index (the nodes
    named l<index>..., their times summed), and the time of the other nodes (the input's
    quantization, the output's conversion)."""
    by_layer: dict[int, dict] = {}
    other = 0.0
    for node in nodes:
        m = _OPENVINO_LAYER.match(node["name"])
        if m is None:
            other += node["ms"]
            continue
        entry = by_layer.setdefault(int(m.group(1)), {"ms": 0.0, "exec_type": node["exec_type"]})
        entry["ms"] += node["ms"]
    return by_layer, other


def _share(macs: float, ms: float, peak_gmacs: float | None, threads: int) -> str:
    if not macs or not ms or not peak_gmacs:
        return ""
    return f"{100 * macs / (ms * 1e-3) / (peak_gmacs * 1e9 * threads):5.1f}%"


def side_by_side_lines(nin: dict, openvino_nodes: list[dict] | None, openvino_threads: int = 1) -> list[str]:
    """The per-layer table: nin's time and share of the peak, OpenVINO's time, implementation
    and share, and nin / OpenVINO; then the totals."""
    peak = nin["peak_gmacs"]
    ov, ov_other = match_openvino(openvino_nodes) if openvino_nodes is not None else ({}, 0.0)
    head = (f"per layer, 1 image, {nin['threads']} thread(s): nin ({nin['family']}) "
            + (f"and OpenVINO ({openvino_threads} thread(s)) " if openvino_nodes is not None else "")
            + (f"with % of {nin['threads']} x nin's measured peak ({peak:.1f} GMAC/s per thread, "
               f"{nin['instruction']} from registers)" if peak else "(no peak loop for this family)"))
    lines = [head, f"  {'layer':<42} {'nin ms':>8} {'share':>6}"
             + (f" {'OpenVINO ms':>11} {'share':>6} {'nin/OV':>6}  implementation" if ov or openvino_nodes else "")]
    nin_total = ov_total = 0.0
    for layer in nin["layers"]:
        name = f"{layer['index']} {layer['kind']} {layer['input']} -> {layer['output']}"
        row = f"  {name:<42} {layer['ms']:8.4f} {_share(layer['macs'], layer['ms'], peak, nin['threads']):>6}"
        nin_total += layer["ms"]
        theirs = ov.get(layer["index"])
        if theirs is not None:
            ov_total += theirs["ms"]
            ratio = f"{layer['ms'] / theirs['ms']:6.2f}" if theirs["ms"] > 0 else "     -"
            row += (f" {theirs['ms']:11.4f} {_share(layer['macs'], theirs['ms'], peak, nin['threads']):>6} {ratio}"
                    f"  {theirs['exec_type']}")
        elif openvino_nodes is not None:
            row += f" {'(fused)':>11}"
        lines.append(row)
    total = f"  {'total':<42} {nin_total:8.4f} {'':>6}"
    if openvino_nodes is not None:
        ov_total += ov_other
        total += (f" {ov_total:11.4f} {'':>6} {nin_total / ov_total:6.2f}  "
                  f"(OpenVINO's includes {ov_other:.4f} ms of input/output conversion nodes)")
    lines.append(total)
    return lines
