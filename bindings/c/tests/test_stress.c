/* test_stress.c - load on one shared model, and memory over a long life.
 * 1. 8 threads x 2,000 runs: every run creates a context (1 or 2 threads), runs one of 16
 *    prepared inputs, compares its logits (bytes) and top class with a serial run's, and frees
 *    the context. Every status is checked. Afterwards the process has one thread again: every
 *    freed context has stopped its workers.
 * 2. RSS_RUNS runs in one process (default 100,000): prepared and image input in turn, a new
 *    context every 1,000 runs, the model reloaded every 10,000; VmRSS (from /proc/self/status) after
 *    the first tenth of the runs and at the end must differ by less than RSS_SLACK_KB.
 * Usage: test_stress MODEL.nin [RSS_RUNS [RUNS_PER_THREAD]]  (RSS_RUNS 0 skips part 2; the
 * sanitizer build runs fewer runs per thread, as it is about 20 times slower) */
#define _POSIX_C_SOURCE 200809L  /* nanosleep */
#include "nin.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { INPUTS = 16, THREADS = 8, MAX_CLASSES = CHECK_MAX_CLASSES, RSS_SLACK_KB = 1024 };

static int runs_per_thread = 2000;

static const char *model_path;
static nin_model *model;
static size_t input_bytes;
static int classes;
static uint8_t *inputs[INPUTS];
static float serial_logits[INPUTS][MAX_CLASSES];
static int serial_top[INPUTS];

typedef struct { int index; int runs; int mismatches; int failures; } worker;

static void *work(void *arg) {
    worker *self = arg;
    float logits[MAX_CLASSES];
    for (int run = 0; run < runs_per_thread; run++) {
        int k = (run * 7 + self->index * 3) % INPUTS;
        nin_context_params params = nin_context_default_params();
        params.threads = 1 + (run + self->index) % 2;
        nin_context *ctx = NULL;
        if (nin_context_create(model, &params, &ctx) != NIN_OK) { self->failures++; continue; }
        int top = -1;
        if (nin_run_prepared_u8(ctx, inputs[k], input_bytes, 1) != NIN_OK
            || nin_context_logits(ctx, 0, logits, MAX_CLASSES) != NIN_OK
            || nin_context_top_k(ctx, 0, 1, &top, NULL) != NIN_OK) {
            self->failures++;
        } else {
            self->runs++;
            if (memcmp(logits, serial_logits[k], (size_t)classes * sizeof(float)) != 0 || top != serial_top[k])
                self->mismatches++;
        }
        nin_context_free(ctx);
    }
    return NULL;
}

/* Resident set size of this process in KiB, from /proc/self/status (-1 if unreadable). */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) { kb = strtol(line + 6, NULL, 10); break; }
    }
    fclose(f);
    return kb;
}

/* Threads of this process (from /proc/self/status), once no more are exiting: a thread that
 * pthread_join has returned for may still be counted for a moment, so wait up to a second. */
static long thread_count(void) {
    long threads = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        FILE *f = fopen("/proc/self/status", "r");
        if (!f) return -1;
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "Threads:", 8) == 0) { threads = strtol(line + 8, NULL, 10); break; }
        }
        fclose(f);
        if (threads == 1) break;
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    return threads;
}

static void shared_model_threads(void) {
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){ .index = t };
        CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    int runs = 0, mismatches = 0, failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        runs += workers[t].runs;
        mismatches += workers[t].mismatches;
        failures += workers[t].failures;
    }
    printf("threads: %d x %d runs, %d ran, %d differ from the serial run, %d failed\n",
           THREADS, runs_per_thread, runs, mismatches, failures);
    CHECK(runs == THREADS * runs_per_thread);
    CHECK(mismatches == 0);
    CHECK(failures == 0);
    long threads_left = thread_count();
    printf("threads: %ld left after every context was freed, VmRSS %ld KiB\n", threads_left, rss_kb());
    CHECK(threads_left == 1);
}

static void long_life(long total) {
    int c = 0, h = 0, w = 0;
    nin_model_input_shape(model, &c, &h, &w);
    /* A 2-channel image of another size than the input: resize and channel conversion run too. */
    nin_image image = { .width = w + 5, .height = h + 3, .channels = 2, .stride = 0 };
    image.pixels = malloc((size_t)image.width * (size_t)image.height * 2);
    for (size_t i = 0; i < (size_t)image.width * (size_t)image.height * 2; i++) image.pixels[i] = (uint8_t)(i * 13);
    nin_model *own = NULL;
    nin_context *ctx = NULL;
    /* The baseline is taken after two model reloads: the first frees of the packed weights raise
     * glibc's mmap threshold once, and the heap settles at its working size then; a leak per
     * model, context or run still shows between the baseline and the end (reloads at 15k, ...). */
    long failures = 0, baseline = -1, warm_at = total / 10 > 11000 ? total / 10 : 11000;
    if (warm_at >= total) warm_at = total / 2;
    for (long run = 0; run < total; run++) {
        if (run % 5000 == 0) {
            nin_context_free(ctx);
            ctx = NULL;
            nin_model_free(own);
            own = NULL;
            if (nin_model_load_file(model_path, &own) != NIN_OK) { failures++; break; }
        }
        if (run % 1000 == 0) {
            nin_context_free(ctx);
            ctx = NULL;
            nin_context_params params = nin_context_default_params();
            params.threads = 1 + (int)(run / 1000) % 2;
            if (nin_context_create(own, &params, &ctx) != NIN_OK) { failures++; break; }
        }
        nin_status s = run % 2 ? nin_run_images(ctx, &image, 1)
                               : nin_run_prepared_u8(ctx, inputs[run % INPUTS], input_bytes, 1);
        int top = -1;
        if (s != NIN_OK || nin_context_top_k(ctx, 0, 1, &top, NULL) != NIN_OK) failures++;
        if (run + 1 == warm_at) baseline = rss_kb();
    }
    long end = rss_kb();
    nin_context_free(ctx);
    nin_model_free(own);
    free(image.pixels);
    printf("rss: %ld runs, VmRSS %ld KiB after %ld runs, %ld KiB at the end (growth %ld KiB, limit %d), %ld failed\n",
           total, baseline, warm_at, end, end - baseline, RSS_SLACK_KB, failures);
    CHECK(failures == 0);
    CHECK(thread_count() == 1);
    CHECK(baseline > 0 && end > 0);
    CHECK(end - baseline < RSS_SLACK_KB);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.nin [RSS_RUNS [RUNS_PER_THREAD]]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    long rss_runs = argc >= 3 ? strtol(argv[2], NULL, 10) : 100000;
    if (argc == 4) runs_per_thread = (int)strtol(argv[3], NULL, 10);
    CHECK_STATUS(nin_model_load_file(model_path, &model), NIN_OK);
    if (!model) return SUMMARY("test_stress");
    classes = nin_model_class_count(model);
    CHECK(classes >= 1 && classes <= MAX_CLASSES);
    input_bytes = serial_baseline(model, INPUTS, 2026, inputs, serial_logits, serial_top);

    shared_model_threads();
    if (rss_runs > 0) long_life(rss_runs);

    nin_model_free(model);
    for (int i = 0; i < INPUTS; i++) free(inputs[i]);
    return SUMMARY("test_stress");
}
