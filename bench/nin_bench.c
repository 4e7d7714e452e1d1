/* nin_bench.c - times nin through its C API: median and best of N runs after warm-up.
 * Usage: nin_bench MODEL.nin [runs=50] [threads=1] [batch=1] [warmup=5]
 * (the kernel family is the library's choice, or NIN_ISA's: see nin-infer --profile)
 * Prints one line: "model threads batch median_ms best_ms images_per_s times_ms=t1,t2,..."
 * (every run's milliseconds, in run order, for callers that pool several calls).
 * The timed runs lie between two calls of bench_mark() (bench_driver.h), where an instruction
 * counter under qemu reads its count (tools/arm64/bench.py). */
#include "bench_driver.h"
#include <nin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    struct bench_settings settings = bench_parse(argc, argv, "nin_bench", "MODEL.nin", 1);
    int runs = settings.runs, threads = settings.threads, batch = settings.batch, warmup = settings.warmup;
    nin_model *model = NULL;
    nin_context *ctx = NULL;
    nin_context_params params = nin_context_default_params();
    params.threads = threads;
    params.batch_size = batch;
    if (nin_model_load_file(argv[1], &model) != NIN_OK || nin_context_create(model, &params, &ctx) != NIN_OK) {
        fprintf(stderr, "nin_bench: %s\n", nin_last_error());
        return 1;
    }
    int c, h, w;
    nin_model_input_shape(model, &c, &h, &w);
    size_t bytes = (size_t)batch * (size_t)(c * h * w);
    uint8_t *input = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) input[i] = (uint8_t)((i * 2654435761u) >> 24);
    double *times = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < warmup; i++) nin_run_prepared_u8(ctx, input, bytes, batch);
    bench_mark();
    for (int i = 0; i < runs; i++) {
        double t0 = bench_now_ms();
        nin_run_prepared_u8(ctx, input, bytes, batch);
        times[i] = bench_now_ms() - t0;
    }
    bench_mark();
    bench_report(argv[1], threads, batch, times, runs);
    printf("\n");
    free(times);
    free(input);
    nin_context_free(ctx);
    nin_model_free(model);
    return 0;
}
