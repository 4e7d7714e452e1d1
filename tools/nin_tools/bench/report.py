"""The report: the printed table (machine, families, latency, agreement, cold start,
instructions, OpenVINO's profile) and, with matplotlib, the latency chart."""

from __future__ import annotations

from pathlib import Path

from nin_tools import layer_profile
from nin_tools.bench.agreement import agreement_line
from nin_tools.bench.callgrind import callgrind_lines
from nin_tools.bench.coldstart import mib
from nin_tools.bench.common import ENGINE_NAMES, ENGINES
from nin_tools.bench.families import cpu_flags_line, families_line
from nin_tools.bench.openvino import ov_profile_lines


def print_table(results: dict) -> str:
    machine = results["machine"]
    lines = [f"machine: {machine['cpu']}, {machine['cpus']} CPUs; "
             f"{cpu_flags_line(machine['cpu_features'])}"]
    for res in results["models"].values():
        lines.append("")
        lines.append(f"{res['path']}  ({res['input_shape'][0]}x{res['input_shape'][1]}x"
                     f"{res['input_shape'][2]}, {res['macs_per_image'] / 1e6:.1f} M MACs/image)")
        if res.get("kernel_families"):
            lines.append(families_line(res["kernel_families"]))
        rows = res.get("latency") or []
        with_ov = any("openvino_int8" in row for row in rows)
        head = (f"{'batch':>5} {'thr':>3} | {'engine':<22} {'median ms':>10} {'best ms':>9} "
                f"{'img/s':>9} | {'/ORT int8':>9}" + (f" {'/OpenVINO':>9}" if with_ov else ""))
        if rows:
            lines.append(head)
            lines.append("-" * len(head))
        for row in rows:
            for key, r in row.items():
                if not isinstance(r, dict):
                    continue
                ratios = [f"{r['vs_ort_int8']:.2f}x" if "vs_ort_int8" in r else ""]
                if with_ov:
                    ratios.append(f"{r['vs_openvino_int8']:.2f}x" if "vs_openvino_int8" in r else "")
                lines.append(f"{row['batch']:>5} {row['threads']:>3} | "
                             f"{r.get('label', ENGINE_NAMES.get(key, key)):<22} "
                             f"{r['median_ms']:>10.3f} {r['best_ms']:>9.3f} "
                             f"{r['images_per_s']:>9.1f} | " + " ".join(f"{t:>9}" for t in ratios))
        if res.get("agreement"):
            lines.append(agreement_line(res["agreement"]))
        if res.get("agreement_all"):
            lines.append(agreement_line(res["agreement_all"]))
        if res.get("openvino_precision"):
            lines.append(f"OpenVINO's precision for the non-quantized parts: "
                         f"{res['openvino_precision']} (its default on this CPU)")
        if res.get("cold_start"):
            cs = res["cold_start"]
            lines.append(f"cold start nin-infer: {cs['median_ms']:.1f} ms median, peak RSS "
                         f"{mib(cs['peak_rss_kib'])}")
        if res.get("cold_start_ort_int8_python"):
            cs = res["cold_start_ort_int8_python"]
            lines.append(f"cold start python+ORT int8: {cs['median_ms']:.1f} ms median, peak RSS "
                         f"{mib(cs['peak_rss_kib'])}")
        lines += callgrind_lines(res)
        if res.get("openvino_profile"):
            lines += ov_profile_lines(res["openvino_profile"])
            lines += layer_profile.side_by_side_lines(res["nin_profile"], res["openvino_profile"]["nodes"])
    lines.append("")
    if any(res.get("latency") for res in results["models"].values()):
        with_ov = any("openvino_int8" in row for res in results["models"].values()
                      for row in res.get("latency") or [])
        lines.append(f"/ORT int8{', /OpenVINO' if with_ov else ''} = this row's median / that "
                     "engine's median in the same configuration (< 1: faster than it; at batch "
                     "16 the inverse of the throughput ratio).")
        if results.get("runs_note"):
            lines.append(results["runs_note"])
    load = machine["loadavg_before"]
    if any(res.get("latency") for res in results["models"].values()):
        lines.append(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
                     f"on {machine['cpus']} CPUs (timings are only as quiet as the machine)")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def plot(results: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    models = list(results["models"].values())
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.2), squeeze=False)
    colors = {"nin_int8": "#d62728", "ort_int8": "#1f77b4", "openvino_int8": "#2ca02c",
              "ort_fp32": "#7fb3e0", "torch_fp32": "#ff7f0e"}
    for ax, res in zip(axes[0], models):
        rows = res["latency"]
        keys = [k for k in ENGINES if all(k in r for r in rows)]
        width = 0.8 / len(keys)
        for j, key in enumerate(keys):
            xs = [i + j * width for i in range(len(rows))]
            ys = [r[key]["median_ms"] / r["batch"] for r in rows]
            ax.bar(xs, ys, width, label=rows[0][key].get("label", ENGINE_NAMES[key]),
                   color=colors[key])
        ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(rows))])
        ax.set_xticklabels([f"batch {r['batch']}\n{r['threads']} thr" for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel("median ms per image, log scale (lower is better)")
        ax.set_title(f"{res['path']} {res['input_shape']}", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("nin vs ONNX Runtime / OpenVINO / PyTorch, same weights (loadavg "
                 f"{results['machine']['loadavg_before'][0]:.1f})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
