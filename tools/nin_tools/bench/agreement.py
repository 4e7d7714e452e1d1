"""Top-1 agreement of the int8 engines with the fp32 ONNX model: the figures (agreement,
accuracy, logit RMSE) and their line in the report."""

from __future__ import annotations

import numpy as np

from nin_tools.bench.common import ENGINE_NAMES


def agreement_figures(l_fp: np.ndarray, l_q: np.ndarray, l_nin: np.ndarray, labels: np.ndarray,
                      l_ov: np.ndarray | None = None) -> dict:
    """Top-1 agreement of each int8 engine with fp32, accuracies and logit RMSE / fp32 std
    (OpenVINO's too when its logits `l_ov` are given)."""
    ref_top = top1(l_fp)
    engines = {"nin_int8": l_nin, "ort_int8": l_q}
    if l_ov is not None:
        engines["openvino_int8"] = l_ov
    spread = np.std(l_fp) or 1.0
    res = {"images": int(l_fp.shape[0]),
           "nin_int8_vs_ort_int8": float((top1(l_nin) == top1(l_q)).mean()),
           "disagreements": {}, "accuracy": {"fp32": float((ref_top == labels).mean())},
           "logit_rmse_rel": {}}
    for key, logits in engines.items():
        res[f"{key}_vs_fp32"] = float((top1(logits) == ref_top).mean())
        res["disagreements"][key] = int((top1(logits) != ref_top).sum())
        res["accuracy"][key] = float((top1(logits) == labels).mean())
        res["logit_rmse_rel"][key] = float(np.sqrt(((logits - l_fp) ** 2).mean()) / spread)
    return res


def agreement_line(a: dict) -> str:
    keys = [k for k in ("nin_int8", "ort_int8", "openvino_int8") if f"{k}_vs_fp32" in a]
    agree = ", ".join(f"{ENGINE_NAMES[k]} {a[k + '_vs_fp32']:.2%} ({a['disagreements'][k]} differ)"
                      for k in keys)
    acc = ", ".join(f"{ENGINE_NAMES[k]} {a['accuracy'][k]:.2%}" for k in keys)
    rmse = ", ".join(f"{ENGINE_NAMES[k]} {a['logit_rmse_rel'][k]:.4f}" for k in keys)
    return (f"top-1 agreement with fp32 ({a['images']} test images): {agree}; accuracy fp32 "
            f"{a['accuracy']['fp32']:.2%}, {acc}; logit RMSE/std {rmse}")


def top1(logits: np.ndarray) -> np.ndarray:
    return np.argmax(logits, axis=1)
