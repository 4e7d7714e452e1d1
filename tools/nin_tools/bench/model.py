"""One model benchmarked: its header (shape, MACs, the peers' work folder), then the whole run
(peers, sanity checks, families, agreement, latency, OpenVINO's profile, cold start,
instructions) or, for --callgrind-only, the instruction counts alone."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

from nin_tools import layer_profile
from nin_tools import model_format as F
from nin_tools import preprocess as P
from nin_tools import reference as R
from nin_tools.bench.agreement import agreement_figures, agreement_line, top1
from nin_tools.bench.callgrind import instruction_counts
from nin_tools.bench.coldstart import cold_start, mib
from nin_tools.bench.common import BENCH_BUILD, RELEASE, ROOT, log
from nin_tools.bench.families import families_line, probe_families
from nin_tools.bench.latency import latency_rows
from nin_tools.bench.libnin import Nin
from nin_tools.bench.openvino import (nin_profile, openvino_module, ov_compile, ov_logits_u8,
                                      ov_precision, ov_profile, ov_profile_lines)
from nin_tools.bench.peers import (build_peers, build_torch, ort_logits, ort_logits_u8,
                                   ort_session, to_nchw_f32)


def conv_macs(model: F.Model) -> int:
    total = 0
    shapes = model.output_shapes()
    for L, (c, h, w) in zip(model.layers, shapes):
        if L.op == "conv":
            total += c * h * w * int(L.kernel[0]) * int(L.kernel[1]) * int(L.in_channels)
    return total


def model_header(path: Path) -> tuple[F.Model, tuple, Path, dict]:
    """(model, input shape, work folder for its peers, the result dict's first fields)."""
    model = F.read(path)
    shape = tuple(int(v) for v in model.input_shape)
    work = BENCH_BUILD / "peers" / re.sub(r"[^A-Za-z0-9_.-]+", "_", str(path.with_suffix("")))
    work.mkdir(parents=True, exist_ok=True)
    res = {"path": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
           "input_shape": list(shape), "classes": len(model.labels),
           "macs_per_image": conv_macs(model), "metadata": dict(model.metadata)}
    log(f"\n== {res['path']}  input {shape}  {res['macs_per_image'] / 1e6:.1f} M MACs/image")
    return model, shape, work, res


def bench_model(path: Path, args, nin: Nin, exe: Path, data: dict) -> dict:
    import onnxruntime  # noqa: F401  (fail early with a clear ImportError)

    model, shape, work, res = model_header(path)

    # 1. peers -----------------------------------------------------------------------------
    fp32_path, int8_path = build_peers(model, shape, work, data)
    sess_fp32 = ort_session(fp32_path, 2)
    sess_int8 = ort_session(int8_path, 2)
    ov = None if args.no_openvino else openvino_module()
    if ov is None and not args.no_openvino:
        log("  openvino not importable (pip install openvino): its rows are skipped")

    test_u8 = P.prepare_batch(data["test_images"], shape)
    test_f32 = to_nchw_f32(test_u8[:16])  # the peers' sanity and timing inputs (batch <= 16)
    labels = data["test_labels"]

    # sanity: fp32 graph vs nin on a few images, and nin vs the numpy reference bit for bit
    few = min(16, test_u8.shape[0])
    l_nin_few = nin.logits(path, test_u8[:few])
    l_fp_few = ort_logits(sess_fp32, test_f32[:few])
    agree_few = int((top1(l_nin_few) == top1(l_fp_few)).sum())
    span = float(np.abs(l_fp_few).max()) or 1.0
    rel = float(np.abs(l_nin_few - l_fp_few).max()) / span
    log(f"  sanity: fp32 ONNX vs nin top-1 on {few} test images: {agree_few}/{few} agree; "
        f"max |logit diff| = {rel:.3f} of max |logit|")
    ref = R.run(model, test_u8[:2])["logits"]
    bit_exact = bool(np.array_equal(ref.view(np.uint32), l_nin_few[:2].view(np.uint32)))
    log(f"  sanity: nin logits {'==' if bit_exact else '!='} numpy reference (nin_tools.reference) "
        f"bit for bit on 2 images")
    sanity = {"images": few, "top1_agree": agree_few, "max_logit_diff_rel": rel,
              "nin_equals_numpy_reference": bit_exact}
    if agree_few < few // 2:
        log("  WARNING: the fp32 ONNX graph and nin disagree on most images: the graph is "
            "probably not the same network")
    torch_mod = None
    if not args.no_torch:
        try:
            import torch
            torch_mod = build_torch(model)
            with torch.inference_mode():
                l_t = torch_mod(torch.from_numpy(test_f32[:few])).numpy()
            sanity["torch_vs_onnx_fp32_max_abs"] = float(np.abs(l_t - l_fp_few).max())
            log(f"  sanity: PyTorch fp32 vs ONNX fp32 max |logit diff| "
                f"{sanity['torch_vs_onnx_fp32_max_abs']:.2e}")
        except ImportError:
            log("  PyTorch not importable: its column is skipped")
    res["sanity"] = sanity

    # nin's kernel families on this machine ---------------------------------------------------
    fams = probe_families(RELEASE / "nin-infer", path, data["image"], data["cpu"])
    res["kernel_families"] = fams
    log("  " + families_line(fams))

    # 3. agreement: on the first 1,000 test images (the figure the issue asks for) and, when
    # more are given (default: all 10,000), on all of them, where one image is 0.01% -------------
    t0 = time.perf_counter()
    l_fp = ort_logits_u8(sess_fp32, test_u8)
    l_q = ort_logits_u8(sess_int8, test_u8)
    l_nin = nin.logits(path, test_u8)
    l_ov = None
    if ov is not None:
        compiled = ov_compile(ov, int8_path, 2)
        res["openvino_precision"] = ov_precision(compiled)
        log(f"  OpenVINO {ov.__version__.split('-')[0]}: int8 QDQ model compiled for CPU; its precision for "
            f"the non-quantized parts: {res['openvino_precision']}")
        l_ov = ov_logits_u8(compiled, test_u8)
        del compiled
    first = min(1000, test_u8.shape[0])
    res["agreement"] = agreement_figures(l_fp[:first], l_q[:first], l_nin[:first], labels[:first],
                                         None if l_ov is None else l_ov[:first])
    log(f"  {agreement_line(res['agreement'])}")
    if test_u8.shape[0] > first:
        res["agreement_all"] = agreement_figures(l_fp, l_q, l_nin, labels, l_ov)
        log(f"  {agreement_line(res['agreement_all'])}")
    log(f"  [agreement: {time.perf_counter() - t0:.0f} s]")
    del sess_fp32, sess_int8

    # 2. latency -----------------------------------------------------------------------------
    res["latency"] = latency_rows(args, path, exe, fams, fp32_path, int8_path, ov, torch_mod,
                                  test_f32)
    if ov is not None and args.openvino_profile:
        res["openvino_profile"] = ov_profile(ov, int8_path, test_f32, 1, max(20, args.runs))
        res["nin_profile"] = nin_profile(path, data["image"], 1, max(20, args.runs))
        for line in ov_profile_lines(res["openvino_profile"]) + layer_profile.side_by_side_lines(
                res["nin_profile"], res["openvino_profile"]["nodes"]):
            log("  " + line)

    # 4. cold start and instruction count ----------------------------------------------------
    if not args.no_cold:
        cli = RELEASE / "nin-infer"
        image = data["image"]
        res["cold_start"] = cold_start([str(cli), "--model", str(path), str(image)],
                                       args.cold_runs)
        cs = res["cold_start"]
        log(f"  cold start nin-infer (fresh process, {cs['runs']} runs): median "
            f"{cs['median_ms']:.1f} ms, best {cs['best_ms']:.1f} ms, peak RSS "
            f"{mib(cs['peak_rss_kib'])}")
        probe = work / "ort_cold.py"
        probe.write_text(
            "import sys, numpy as np, onnxruntime as ort\n"
            "so = ort.SessionOptions(); so.intra_op_num_threads = 1\n"
            "s = ort.InferenceSession(sys.argv[1], so, providers=['CPUExecutionProvider'])\n"
            f"x = np.zeros((1, {shape[0]}, {shape[1]}, {shape[2]}), np.float32)\n"
            "print(int(s.run(None, {'input': x})[0].argmax()))\n")
        res["cold_start_ort_int8_python"] = cold_start(
            [sys.executable, str(probe), str(int8_path)], max(3, args.cold_runs // 2))
        cs = res["cold_start_ort_int8_python"]
        log(f"  (peer) cold start python + onnxruntime int8, one inference: median "
            f"{cs['median_ms']:.1f} ms, peak RSS {mib(cs['peak_rss_kib'])}")
    if not args.no_callgrind:
        instruction_counts(res, path, exe, int8_path, data)
    return res


def callgrind_model(path: Path, exe: Path, data: dict) -> dict:
    """--callgrind-only: the instruction counts of one model (nin's families and ORT int8)."""
    model, shape, work, res = model_header(path)
    _, int8_path = build_peers(model, shape, work, data)
    res["kernel_families"] = probe_families(RELEASE / "nin-infer", path, data["image"], data["cpu"])
    instruction_counts(res, path, exe, int8_path, data)
    return res
