/* bench_driver.h - what the benchmark drivers nin_bench.c and ort_bench.c share: their command
 * line (MODEL [runs] [threads] [batch] [warmup]), the clock, the one-line report
 * ("MODEL threads=T batch=B median_ms=M best_ms=B images_per_s=R times_ms=t1,t2,..."), and
 * bench_mark(), the point an instruction counter records: the drivers call it just before and
 * just after their timed runs, and tools/qemu/insn_count.c (a qemu plugin, mark=ADDRESS of this
 * function) prints the running instruction count each time it executes, so tools/arm64/bench.py
 * counts those runs alone, not loading or packing; outside qemu it costs a call. Include it in
 * one file of a program (it defines the functions). */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/** Does nothing, and is never inlined or dropped: its address is the mark. */
__attribute__((noinline, used, visibility("default"))) void bench_mark(void) { __asm__ volatile("" ::: "memory"); }

/** A driver's run settings: timed runs, threads, images per run, warm-up runs. */
struct bench_settings {
    int runs, threads, batch, warmup;
};

/** The settings from the command line after MODEL: runs (50), threads (1), then batch (1) where
 *  the driver takes one (`takes_batch`), then warm-up runs (5). Exits with status 2 and a usage
 *  line naming `driver` when MODEL is missing or a value is out of range. */
static struct bench_settings bench_parse(int argc, char **argv, const char *driver, const char *model_kind,
                                         int takes_batch) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s %s [runs] [threads]%s [warmup]\n", driver, model_kind, takes_batch ? " [batch]" : "");
        exit(2);
    }
    int next = 2;
    struct bench_settings s;
    s.runs = argc > next ? atoi(argv[next]) : 50; next++;
    s.threads = argc > next ? atoi(argv[next]) : 1; next++;
    s.batch = 1;
    if (takes_batch) { s.batch = argc > next ? atoi(argv[next]) : 1; next++; }
    s.warmup = argc > next ? atoi(argv[next]) : 5;
    if (s.runs < 1 || s.threads < 1 || s.batch < 1 || s.warmup < 0) {
        fprintf(stderr, "%s: runs, threads and batch must be at least 1, warmup at least 0\n", driver);
        exit(2);
    }
    return s;
}

/** CLOCK_MONOTONIC in milliseconds. */
static double bench_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int bench_compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/** Prints the report line of `runs` timed runs of `batch` images (`times`: each run's
 *  milliseconds, in run order), without the final newline. */
static void bench_report(const char *model, int threads, int batch, const double *times, int runs) {
    double *sorted = malloc(sizeof(double) * (size_t)runs);
    memcpy(sorted, times, sizeof(double) * (size_t)runs);
    qsort(sorted, (size_t)runs, sizeof(double), bench_compare);
    double median = sorted[runs / 2];
    printf("%s threads=%d batch=%d median_ms=%.3f best_ms=%.3f images_per_s=%.1f times_ms=", model, threads, batch,
           median, sorted[0], batch * 1000.0 / median);
    for (int i = 0; i < runs; i++) printf("%s%.4f", i ? "," : "", times[i]);
    free(sorted);
}

#endif
