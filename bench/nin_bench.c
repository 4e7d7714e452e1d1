/* nin_bench.c - times nin through its C API: median and best of N runs after warm-up.
 * Usage: nin_bench MODEL.nin [runs=50] [threads=1] [batch=1] [warmup=5]
 * (the kernel family is the library's choice, or NIN_ISA's: see nin-infer --profile)
 * Prints one line: "model threads batch median_ms best_ms images_per_s times_ms=t1,t2,..."
 * (every run's milliseconds, in run order, for callers that pool several calls).
 * The timed runs lie between two calls of bench_mark() (bench_mark.h), where an instruction
 * counter under qemu reads its count (tools/arm64/bench.py). */
#include "bench_mark.h"
#include <nin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.nin [runs] [threads] [batch] [warmup]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 50, threads = argc > 3 ? atoi(argv[3]) : 1;
    int batch = argc > 4 ? atoi(argv[4]) : 1, warmup = argc > 5 ? atoi(argv[5]) : 5;
    if (runs < 1 || threads < 1 || batch < 1 || warmup < 0) {
        fprintf(stderr, "nin_bench: runs, threads and batch must be at least 1, warmup at least 0\n");
        return 2;
    }
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
        double t0 = now_ms();
        nin_run_prepared_u8(ctx, input, bytes, batch);
        times[i] = now_ms() - t0;
    }
    bench_mark();
    double *sorted = malloc(sizeof(double) * (size_t)runs);
    memcpy(sorted, times, sizeof(double) * (size_t)runs);
    qsort(sorted, (size_t)runs, sizeof(double), compare);
    double median = sorted[runs / 2];
    printf("%s threads=%d batch=%d median_ms=%.3f best_ms=%.3f images_per_s=%.1f times_ms=", argv[1], threads,
           batch, median, sorted[0], batch * 1000.0 / median);
    for (int i = 0; i < runs; i++) printf("%s%.4f", i ? "," : "", times[i]);
    printf("\n");
    free(sorted);
    free(times);
    free(input);
    nin_context_free(ctx);
    nin_model_free(model);
    return 0;
}
