"""Small .nin models for the tools tests, built in memory with nin_tools.model_format.

:func:`small_model` exercises every layer kind (conv without and with ReLU, max and average
pooling, GAP) with META; :func:`bounded_model` is the same with the format 1.1 fields set.
"""

from __future__ import annotations

import numpy as np

from nin_tools import model_format as F


def conv_layer(rng, cin, cout, kernel, stride=(1, 1), pads=(0, 0, 0, 0), relu=True,
               zp=0, s_in=1 / 255, s_out=0.05):
    """A conv layer with random int8 weights, biases and scales, and the requantization
    multipliers those scales give."""
    kh, kw = kernel
    w = rng.integers(-127, 128, (cout, kh, kw, cin)).astype(np.int8)
    sw = rng.uniform(0.001, 0.01, cout).astype(np.float32)
    mn = [F.quantize_multiplier(float(np.float32(s_in)) * float(sw[o]) / float(np.float32(s_out)))
          for o in range(cout)]
    return F.Layer(op="conv", in_channels=cin, out_channels=cout, kernel=kernel, stride=stride,
                   pads=pads, relu=relu, output_scale=s_out, output_zero_point=zp,
                   weights=w, bias=rng.integers(-5000, 5000, cout).astype(np.int32),
                   multiplier=np.array([m for m, _ in mn], np.int32),
                   shift=np.array([n for _, n in mn], np.int32), weight_scale=sw)


def small_model() -> F.Model:
    """conv(no ReLU, zp 10) -> maxpool -> avgpool -> conv(ReLU) -> gap, with META."""
    rng = np.random.default_rng(7)
    s0 = 0.05
    layers = [
        conv_layer(rng, 3, 4, (3, 3), (1, 1), (1, 1, 1, 1), relu=False, zp=10, s_out=s0),
        F.Layer(op="maxpool", in_channels=4, out_channels=4, kernel=(2, 2), stride=(2, 2),
                output_scale=s0, output_zero_point=10),
        F.Layer(op="avgpool", in_channels=4, out_channels=4, kernel=(3, 3), stride=(1, 1),
                pads=(1, 1, 1, 1), output_scale=s0, output_zero_point=10),
        conv_layer(rng, 4, 3, (1, 1), relu=True, zp=0, s_in=s0, s_out=0.03),
        F.Layer(op="gap", in_channels=3, out_channels=3, output_scale=0.03, output_zero_point=0),
    ]
    return F.Model(input_shape=(3, 9, 8), layers=layers, labels=["a", "b", "c"],
                   metadata={"name": "t", "created": ""})


def bounded_model(out_max0=200, out_max3=127, wmax0=0, wmax3=63, pool_max=0) -> F.Model:
    """small_model with the 1.1 fields: layer 0 (conv, no ReLU, zp 10) clamps at
    ``out_max0``, layer 3 (conv + ReLU) at ``out_max3`` with weights within ``wmax3``."""
    m = small_model()
    m.layers[0].output_max, m.layers[0].weight_max = out_max0, wmax0
    m.layers[1].output_max = pool_max
    L = m.layers[3]
    L.output_max, L.weight_max = out_max3, wmax3
    if wmax3:
        L.weights = np.clip(L.weights, -wmax3, wmax3).astype(np.int8)
    return m
