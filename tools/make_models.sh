#!/usr/bin/env bash
# Rebuild the shipped model files from the trained checkpoints, evaluate them, and write the
# demo images.  Run from anywhere; needs numpy and torch (to read the .pt) and the
# Fashion-MNIST IDX files (Debian package dataset-fashion-mnist, or $NIN_FASHION_MNIST).
#
#   tools/make_models.sh [small]    the 28x28 model: convert + evaluate + labels + example images
#   tools/make_models.sh classic    the 227x227 default model: convert + evaluate (below)
#   SKIP_EVAL=1 tools/make_models.sh  skip the 10,000-image evaluation (a few minutes)
#
# The classic model is too large for the numpy int8 reference over 10,000 images (hours), so
# its figures come from PyTorch (fp32 logits, tools/make_fp32_logits.py) and from the runtime
# itself (int8, tools/nin_eval.py; the runtime equals nin_ref bit for bit, which the golden
# tests check): models/fashion_classic.eval.json and models/fashion_classic.confusion.png.
# It also rewrites the fp32 goldens of the first 1,000 test images (Tests/golden/fp32/).
#
# Outputs:
#   models/fashion_small.nin            the int8 model (metadata: accuracy_fp32/accuracy_int8
#                                       on the test set are added after the evaluation)
#   models/fashion_small.eval.json      the evaluation figures quoted in models/MODEL_CARD.md
#   models/labels/fashion_mnist.txt     the class labels, one per line
#   examples/images/test_NNNNN_<label>.png   the first test image of each class (28x28 gray)
set -euo pipefail
cd "$(dirname "$0")/.."
# The tools' package (tools/nin_tools) and the runtime binding (bindings/python, for nin_eval.py).
export PYTHONPATH="$PWD/tools:$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}"

if [ "${1:-small}" = classic ]; then
    M=models/fashion_classic
    # 7-bit activations and weights (QUANTIZATION.md): every layer runs exact on AVX2's vpmaddubsw kernels
    tools/nin-convert $M.pt --arch $M.arch.json --calibrate fashion-mnist --calibration-count 5000 \
        --activation-bits 7 --weight-bits 7 -o $M.nin
    python tools/make_fp32_logits.py $M.pt                        # goldens: first 1,000 images
    if [ "${SKIP_EVAL:-0}" != 1 ]; then
        mkdir -p .build/eval
        python tools/make_fp32_logits.py $M.pt --count 10000 --out .build/eval/fashion_classic.fp32.npy
        make lib
        python tools/nin_eval.py --model $M.nin --batch 100 --threads 2 \
            --fp32-logits .build/eval/fashion_classic.fp32.npy --json $M.eval.json --plot $M.confusion.png
        # the test-set figures into the model file's metadata (FORMAT.md keys), as for the small model
        python - <<'PY'
import json
from nin_tools import model_format as nin_format
figures = json.load(open("models/fashion_classic.eval.json"))
model = nin_format.read("models/fashion_classic.nin")
model.metadata["accuracy_fp32"] = f"{figures['fp32']['accuracy']:.4f} (Fashion-MNIST test, 10000 images, PyTorch fp32)"
model.metadata["accuracy_int8"] = f"{figures['accuracy']:.4f} (Fashion-MNIST test, 10000 images, nin runtime)"
nin_format.write(model, "models/fashion_classic.nin")
PY
    fi
    exit 0
fi

# 1. Conversion: calibrated on the first 2000 Fashion-MNIST training images.
tools/nin-convert models/fashion_small.pt --arch models/fashion_small.arch.json --calibrate fashion-mnist -o models/fashion_small.nin

# 2. Labels, example images, evaluation on the test set (numpy fp32 forward and nin_ref int8).
SKIP_EVAL="${SKIP_EVAL:-0}" python - <<'PY'
import json
import os
import re
import time

import numpy as np

from nin_tools import fashion_mnist
from nin_tools import float_graph as nin_float
from nin_tools import model_format as nin_format
from nin_tools import preprocess as nin_preprocess
from nin_tools import reference as nin_ref
from nin_tools.convert import pytorch as nin_convert
from nin_tools.png_write import write_png

MODEL = "models/fashion_small"


def slug(label):
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def write_labels(path="models/labels/fashion_mnist.txt"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(label + "\n" for label in fashion_mnist.LABELS))
    print(f"wrote {path}")


def write_example_images(out_dir="examples/images"):
    """The first test image of each class, as 28x28 gray PNGs named by index and label."""
    images, labels = fashion_mnist.load_split("test")
    os.makedirs(out_dir, exist_ok=True)
    for c, label in enumerate(fashion_mnist.LABELS):
        i = int(np.flatnonzero(labels == c)[0])
        path = os.path.join(out_dir, f"test_{i:05d}_{slug(label)}.png")
        write_png(path, images[i])
        print(f"wrote {path}")


def evaluate():
    """fp32 (numpy forward of the folded float graph) and int8 (nin_ref) accuracy on the
    10,000 test images, their top-1 agreement, and the model's size figures."""
    with open(MODEL + ".arch.json") as f:
        arch = json.load(f)
    sd, _ = nin_convert.load_torch_source(MODEL + ".pt")
    graph = nin_float.fold(nin_convert.graph_from_state_dict(sd, arch))
    model = nin_format.read(MODEL + ".nin")
    images, labels = fashion_mnist.load_split("test")
    x = nin_preprocess.prepare_batch(images, model.input_shape)
    t0 = time.time()
    fp = nin_float.forward_logits(graph, x, batch=500)
    t_fp = time.time() - t0
    t0 = time.time()
    q = np.concatenate([nin_ref.run(model, x[a:a + 500])["logits"] for a in range(0, len(x), 500)])
    t_q = time.time() - t0
    fp_top, q_top = fp.argmax(1), q.argmax(1)
    res = {
        "test_images": int(len(x)),
        "accuracy_fp32": float(np.mean(fp_top == labels)),
        "accuracy_int8": float(np.mean(q_top == labels)),
        "agreement_top1": float(np.mean(fp_top == q_top)),
        "disagreements": int(np.sum(fp_top != q_top)),
        "parameters_folded": nin_float.parameter_count(graph),
        "parameters_trained": int(sum(np.asarray(v).size for k, v in sd.items()
                                      if not k.endswith(("num_batches_tracked", "running_mean", "running_var")))),
        "macs_per_image": nin_float.conv_macs(graph),
        "file_bytes": os.path.getsize(MODEL + ".nin"),
        "seconds_fp32_numpy": round(t_fp, 1),
        "seconds_int8_nin_ref": round(t_q, 1),
        "per_class_int8": {fashion_mnist.LABELS[c]: float(np.mean(q_top[labels == c] == c))
                           for c in range(10)},
    }
    # record the test-set figures in the model file's metadata (FORMAT.md keys)
    model.metadata["accuracy_fp32"] = f"{res['accuracy_fp32']:.4f} (Fashion-MNIST test, 10000 images, numpy fp32)"
    model.metadata["accuracy_int8"] = f"{res['accuracy_int8']:.4f} (Fashion-MNIST test, 10000 images, numpy int8 reference)"
    nin_format.write(model, MODEL + ".nin")
    res["file_bytes"] = os.path.getsize(MODEL + ".nin")
    with open(MODEL + ".eval.json", "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(json.dumps(res, indent=2))


write_labels()
write_example_images()
if os.environ.get("SKIP_EVAL", "0") != "1":
    evaluate()
PY
