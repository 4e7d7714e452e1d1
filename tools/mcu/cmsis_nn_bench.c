/* cmsis_nn_bench.c - the anchor of make bench-mcu's instruction counts: the small NiN of
 * models/fashion_small.nin (the same layer shapes, int8 weights of a fixed pattern: the cost does
 * not depend on their values) run with CMSIS-NN's int8 kernels, as TensorFlow Lite Micro calls
 * them on a Cortex-M: arm_convolve_wrapper_s8 (which picks the 1x1 fast path for the pointwise
 * layers and arm_convolve_s8 for the others), arm_max_pool_s8 and arm_avgpool_s8 for the global
 * average pool. Built by tools/mcu/bench_cmsis_nn.sh against a CMSIS-NN checkout (not part of
 * this repository) with this directory's startup file; mcu_mark() before and after each of two
 * inferences, so the qemu plugin insn_count.c counts one. CMSIS-NN requantizes differently from
 * nin, so only the cost is compared, never the outputs. */
#include <stdint.h>

#include "arm_nnfunctions.h"
#include "mcu.h"

enum { CONV, MAXPOOL, AVGPOOL };

/* One layer: kind, input height/width/channels, kernel, stride, padding, output channels. */
typedef struct { int kind, h, w, c, k, stride, pad, out_c; } Layer;

/* models/fashion_small.nin, as tools/nin-info prints it. */
static const Layer layers[] = {
    {CONV, 28, 28, 1, 5, 1, 2, 32},   {CONV, 28, 28, 32, 1, 1, 0, 32},  {CONV, 28, 28, 32, 1, 1, 0, 32},
    {MAXPOOL, 28, 28, 32, 3, 2, 0, 32},
    {CONV, 13, 13, 32, 3, 1, 1, 96},  {CONV, 13, 13, 96, 1, 1, 0, 96},  {CONV, 13, 13, 96, 1, 1, 0, 96},
    {MAXPOOL, 13, 13, 96, 3, 2, 0, 96},
    {CONV, 6, 6, 96, 3, 1, 1, 192},   {CONV, 6, 6, 192, 1, 1, 0, 192}, {CONV, 6, 6, 192, 1, 1, 0, 192},
    {CONV, 6, 6, 192, 3, 1, 1, 10},   {CONV, 6, 6, 10, 1, 1, 0, 10},   {CONV, 6, 6, 10, 1, 1, 0, 10},
    {AVGPOOL, 6, 6, 10, 6, 1, 0, 10},
};
#define LAYERS (int)(sizeof layers / sizeof layers[0])

static int8_t activations[2][28 * 28 * 32];
static int8_t weights[192 * 3 * 3 * 96];
static int32_t bias[192], multiplier[192], shift[192];
static int8_t scratch[16 * 1024];

#ifndef LAYER_MARK
#define LAYER_MARK() ((void)0)
#endif

static int out_size(const Layer *l) { return (l->h + 2 * l->pad - l->k) / l->stride + 1; }

/* One inference; 0, or the index + 1 of the layer CMSIS-NN refused. */
static int run_network(void) {
    int from = 0;
    for (int i = 0; i < LAYERS; i++) {
        const Layer *l = &layers[i];
        int o = out_size(l);
        cmsis_nn_context ctx = {scratch, sizeof scratch};
        cmsis_nn_dims input = {1, l->h, l->w, l->c}, output = {1, o, o, l->out_c};
        arm_cmsis_nn_status status;
        if (l->kind == CONV) {
            cmsis_nn_conv_params params = {128, 0, {l->stride, l->stride}, {l->pad, l->pad}, {1, 1}, {0, 127}};
            cmsis_nn_per_channel_quant_params quant = {multiplier, shift};
            cmsis_nn_dims filter = {l->out_c, l->k, l->k, l->c}, bias_dims = {1, 1, 1, l->out_c};
            if (arm_convolve_wrapper_s8_get_buffer_size(&params, &input, &filter, &output) > (int32_t)sizeof scratch) return i + 1;
            status = arm_convolve_wrapper_s8(&ctx, &params, &quant, &input, activations[from], &filter, weights,
                                             &bias_dims, bias, &output, activations[1 - from]);
        } else {
            cmsis_nn_pool_params params = {{l->stride, l->stride}, {l->pad, l->pad}, {-128, 127}};
            cmsis_nn_dims filter = {1, l->k, l->k, 1};
            status = l->kind == MAXPOOL
                ? arm_max_pool_s8(&ctx, &params, &input, activations[from], &filter, &output, activations[1 - from])
                : arm_avgpool_s8(&ctx, &params, &input, activations[from], &filter, &output, activations[1 - from]);
        }
        if (status != ARM_CMSIS_NN_SUCCESS) return i + 1;
        from = 1 - from;
        LAYER_MARK();
    }
    return 0;
}

int main(void) {
    for (unsigned i = 0; i < sizeof weights; i++) weights[i] = (int8_t)((i * 37u + 11u) % 255u - 127);
    for (int i = 0; i < 28 * 28; i++) activations[0][i] = (int8_t)((i * 13) % 256 - 128);
    for (int i = 0; i < 192; i++) { bias[i] = 100 * i - 9000; multiplier[i] = 1100000000 + i * 4000000; shift[i] = -9; }
    for (int round = 0; round < 2; round++) {
        mcu_mark();
        int failed = run_network();
        mcu_mark();
        if (failed) {
            mcu_write("cmsis-nn: a layer was refused\n");
            return 1;
        }
    }
    mcu_write("cmsis-nn: done\n");
    return 0;
}
