#!/usr/bin/env python3
"""ONNX Runtime int8's top-1 agreement with PyTorch's fp32 logits on the Fashion-MNIST test set:
the figure models/MODEL_CARD.md sets beside nin's (tools/nin_eval.py --fp32-logits).

    python3 tools/ort_agreement.py QDQ.onnx FP32_LOGITS.npy [--count N]

QDQ.onnx is `make bench`'s int8 model of the classic NiN (.build/bench/peers/*fashion_classic*/
int8_qdq.onnx); FP32_LOGITS.npy is `tools/make_fp32_logits.py --count 10000 --out ...`. The
images are prepared as the runtime prepares them (nin_tools.preprocess), as pixel/255 in NCHW.
Needs onnxruntime.
"""
import argparse
import sys

import numpy as np

from nin_tools import fashion_mnist, preprocess


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("qdq", help="int8 QDQ ONNX model with a 1x227x227 input")
    ap.add_argument("fp32_logits", help="float32 [N, classes] logits of the same test images")
    ap.add_argument("--count", type=int, help="first N test images (default: as many as the logits)")
    args = ap.parse_args(argv)
    import onnxruntime as ort

    reference = np.load(args.fp32_logits)
    count = args.count or reference.shape[0]
    images, labels = fashion_mnist.load_split("test")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(args.qdq, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    shape = tuple(session.get_inputs()[0].shape[1:])
    top = []
    for i in range(0, count, 250):
        u8 = preprocess.prepare_batch(images[i:min(i + 250, count)], shape)
        x = np.ascontiguousarray(u8.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)
        top.append(session.run(None, {name: x})[0].argmax(1))
    top = np.concatenate(top)
    agree = top == reference[:count].argmax(1)
    print(f"ONNX Runtime {ort.__version__} int8: accuracy {(top == labels[:count]).mean():.2%}, "
          f"agreement with fp32 {agree.mean():.2%} ({int((~agree).sum())} of {count} differ)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
