"""The peers built from a .nin's weights: the dequantized fp32 ONNX graph, its ONNX Runtime
int8 QDQ quantization, the same network in PyTorch, ONNX Runtime sessions and logits, and the
peers' input (float32 NCHW = pixel/255)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from nin_tools import model_format as F
from nin_tools import preprocess as P
from nin_tools import reference as R
from nin_tools.bench.common import log

OPSET = 17
IR_VERSION = 8


def _input_affine(model: F.Model):
    """(mul, add) turning the peers' input x = pixel/255 into nin's real input
    s_in * (pixel - z_in); None when that is the identity (the usual s=1/255, z=0)."""
    s = np.float32(model.input_scale)
    z = int(model.input_zero_point)
    if s == np.float32(1 / 255) and z == 0:
        return None
    return np.float32(255.0 * float(s)), np.float32(-float(s) * z)


def _float_layers(model: F.Model):
    """Yield (layer, W_oihw float32, b float32) with the bias scale of each conv's input."""
    scale = np.float32(model.input_scale)
    for L in model.layers:
        if L.op == "conv":
            w = R.dequantize_weights(L).transpose(0, 3, 1, 2)       # OHWI -> OIHW
            b = R.dequantize_bias(L, scale)
            yield L, np.ascontiguousarray(w, dtype=np.float32), b.astype(np.float32)
            scale = np.float32(L.output_scale)
        else:
            yield L, None, None


def build_onnx(model: F.Model):
    """fp32 ONNX graph (input "input" N x C x H x W = pixel/255, output "logits" N x classes)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c, h, w = (int(v) for v in model.input_shape)
    nodes, inits = [], []
    cur = "input"
    aff = _input_affine(model)
    if aff is not None:
        inits += [numpy_helper.from_array(np.array(aff[0], np.float32), "in_mul"),
                  numpy_helper.from_array(np.array(aff[1], np.float32), "in_add")]
        nodes += [helper.make_node("Mul", [cur, "in_mul"], ["in_scaled"]),
                  helper.make_node("Add", ["in_scaled", "in_add"], ["in_real"])]
        cur = "in_real"
    for i, (L, wt, b) in enumerate(_float_layers(model)):
        k = [int(v) for v in L.kernel]
        st = [int(v) for v in L.stride]
        pads = [int(v) for v in L.pads]             # (top, left, bottom, right) == ONNX order
        out = f"l{i}"
        if L.op == "conv":
            inits += [numpy_helper.from_array(wt, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("Conv", [cur, f"w{i}", f"b{i}"], [out],
                                          kernel_shape=k, strides=st, pads=pads))
            if L.relu:
                nodes.append(helper.make_node("Relu", [out], [out + "_relu"]))
                out += "_relu"
        elif L.op == "maxpool":
            nodes.append(helper.make_node("MaxPool", [cur], [out], kernel_shape=k, strides=st,
                                          pads=pads))
        elif L.op == "avgpool":
            nodes.append(helper.make_node("AveragePool", [cur], [out], kernel_shape=k,
                                          strides=st, pads=pads, count_include_pad=1))
        elif L.op == "gap":
            nodes.append(helper.make_node("GlobalAveragePool", [cur], [out]))
            nodes.append(helper.make_node("Flatten", [out], ["logits"], axis=1))
            out = "logits"
        else:
            raise ValueError(f"layer {i}: unknown op {L.op!r}")
        cur = out
    classes = len(model.labels)
    graph = helper.make_graph(
        nodes, str(model.metadata.get("name", "nin")),
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, h, w])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializer=inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="nin tools/bench.py")
    onnx_model.ir_version = IR_VERSION
    onnx.checker.check_model(onnx_model)
    return onnx_model


def build_torch(model: F.Model):
    """The same fp32 network as a torch.nn.Sequential (asymmetric pads as explicit pad ops)."""
    import torch
    from torch import nn

    mods = []
    aff = _input_affine(model)
    if aff is not None:
        class _Affine(nn.Module):
            def forward(self, x):
                return x * float(aff[0]) + float(aff[1])
        mods.append(_Affine())
    for L, wt, b in _float_layers(model):
        k = tuple(int(v) for v in L.kernel)
        st = tuple(int(v) for v in L.stride)
        t, l, bo, r = (int(v) for v in L.pads)
        padded = (t, l, bo, r) != (0, 0, 0, 0)
        if L.op == "conv":
            if padded:
                mods.append(nn.ZeroPad2d((l, r, t, bo)))
            conv = nn.Conv2d(int(L.in_channels), int(L.out_channels), k, st, 0)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(wt))
                conv.bias.copy_(torch.from_numpy(b))
            mods.append(conv)
            if L.relu:
                mods.append(nn.ReLU())
        elif L.op == "maxpool":
            if padded:
                mods.append(nn.ConstantPad2d((l, r, t, bo), float("-inf")))
            mods.append(nn.MaxPool2d(k, st))
        elif L.op == "avgpool":
            if padded:                     # count_include_pad: pads count as 0, divisor kh*kw
                mods.append(nn.ZeroPad2d((l, r, t, bo)))
            mods.append(nn.AvgPool2d(k, st))
        elif L.op == "gap":
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1)]
    return nn.Sequential(*mods).eval()


class _Calibration:
    """onnxruntime CalibrationDataReader over prepared float32 NCHW images, one at a time."""

    def __init__(self, x_nchw: np.ndarray):
        self._it = iter([{"input": x_nchw[i:i + 1]} for i in range(x_nchw.shape[0])])

    def get_next(self):
        return next(self._it, None)

    def rewind(self):  # pragma: no cover - not used by MinMax
        pass


def quantize_onnx(fp32_path: Path, int8_path: Path, calib_nchw: np.ndarray) -> None:
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    src = fp32_path
    try:  # recommended pre-processing (shape inference + graph optimization); optional
        from onnxruntime.quantization.shape_inference import quant_pre_process
        pre = fp32_path.with_suffix(".pre.onnx")
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=False)
        src = pre
    except Exception as e:  # noqa: BLE001
        log(f"  (quant_pre_process skipped: {e})")
    reader = _Calibration(calib_nchw)
    quantize_static(str(src), str(int8_path), reader, quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)


def ort_session(path: Path, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_logits(sess, x_nchw: np.ndarray, batch: int = 50) -> np.ndarray:
    outs = [sess.run(["logits"], {"input": x_nchw[s:s + batch]})[0]
            for s in range(0, x_nchw.shape[0], batch)]
    return np.concatenate(outs).astype(np.float32)


def ort_logits_u8(sess, x_nhwc_u8: np.ndarray, batch: int = 50) -> np.ndarray:
    """As ort_logits, from prepared u8 NHWC converted batch by batch (10,000 227x227 images
    would take 2 GB as float32)."""
    return np.concatenate([ort_logits(sess, to_nchw_f32(x_nhwc_u8[s:s + batch]), batch)
                           for s in range(0, x_nhwc_u8.shape[0], batch)])


def to_nchw_f32(u8: np.ndarray) -> np.ndarray:
    """float32 NCHW = pixel/255, the peers' input."""
    return np.ascontiguousarray(u8.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)


def prepared(images_u8: np.ndarray, shape_chw) -> tuple[np.ndarray, np.ndarray]:
    """(u8 NHWC for nin, float32 NCHW = pixel/255 for the peers)."""
    u8 = P.prepare_batch(images_u8, shape_chw)
    return u8, to_nchw_f32(u8)


def build_peers(model: F.Model, shape, work: Path, data: dict) -> tuple[Path, Path]:
    """The fp32 ONNX graph of `model`'s weights and its ORT int8 QDQ quantization: their paths."""
    import onnx
    t0 = time.perf_counter()
    fp32_path, int8_path = work / "fp32.onnx", work / "int8_qdq.onnx"
    onnx.save(build_onnx(model), str(fp32_path))
    _, calib = prepared(data["calib"], shape)
    quantize_onnx(fp32_path, int8_path, calib)
    log(f"  ONNX fp32 + ORT int8 (QDQ, per-channel, U8/S8, MinMax on {calib.shape[0]} train "
        f"images) built in {time.perf_counter() - t0:.1f} s")
    return fp32_path, int8_path
