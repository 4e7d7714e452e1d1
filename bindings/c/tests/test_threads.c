/* test_threads.c - one shared model, N pthreads each with its own context, produce logits
 * identical (bit for bit) to a serial run; contexts with 1, 2, 3 and 4 worker threads agree too.
 * Usage: test_threads MODEL.nin */
#include "nin.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { INPUTS = 12, THREADS = 4, MAX_CLASSES = CHECK_MAX_CLASSES };

static nin_model *model;
static size_t input_bytes;
static int classes;
static uint8_t *inputs[INPUTS];
static float serial[INPUTS][MAX_CLASSES];

typedef struct { int index; int mismatches; int failures; } worker;

static void *work(void *arg) {
    worker *self = arg;
    nin_context *ctx = NULL;
    if (nin_context_create(model, NULL, &ctx) != NIN_OK) { self->failures++; return NULL; }
    float logits[MAX_CLASSES];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < INPUTS; i++) {
            int k = (i + self->index * 5) % INPUTS;
            if (nin_run_prepared_u8(ctx, inputs[k], input_bytes, 1) != NIN_OK) { self->failures++; continue; }
            if (nin_context_logits(ctx, 0, logits, MAX_CLASSES) != NIN_OK) { self->failures++; continue; }
            if (memcmp(logits, serial[k], (size_t)classes * sizeof(float)) != 0) self->mismatches++;
        }
    }
    nin_context_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.nin\n", argv[0]);
        return 2;
    }
    CHECK_STATUS(nin_model_load_file(argv[1], &model), NIN_OK);
    if (!model) return SUMMARY("test_threads");
    classes = nin_model_class_count(model);
    CHECK(classes >= 1 && classes <= MAX_CLASSES);
    input_bytes = serial_baseline(model, INPUTS, 12345, inputs, serial, NULL);
    /* The serial logits are real results, not the zeroed buffer they were read into. */
    int nonzero = 0;
    for (int i = 0; i < INPUTS; i++)
        for (int k = 0; k < classes; k++) nonzero |= serial[i][k] != 0.0f;
    CHECK(nonzero);

    /* Worker threads inside one context: same bits for any count, batched or not. */
    for (int threads = 2; threads <= 4; threads++) {
        nin_context_params params = nin_context_default_params();
        params.threads = threads;
        params.batch_size = INPUTS;
        nin_context *multi = NULL;
        CHECK_STATUS(nin_context_create(model, &params, &multi), NIN_OK);
        uint8_t *batch = malloc(input_bytes * INPUTS);
        for (int i = 0; i < INPUTS; i++) memcpy(batch + (size_t)i * input_bytes, inputs[i], input_bytes);
        CHECK_STATUS(nin_run_prepared_u8(multi, batch, input_bytes * INPUTS, INPUTS), NIN_OK);
        int same = 1;
        float logits[MAX_CLASSES];
        for (int i = 0; i < INPUTS; i++) {
            CHECK_STATUS(nin_context_logits(multi, i, logits, MAX_CLASSES), NIN_OK);
            same &= memcmp(logits, serial[i], (size_t)classes * sizeof(float)) == 0;
        }
        CHECK(same);
        free(batch);
        nin_context_free(multi);
    }

    pthread_t tids[THREADS];
    worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){ .index = t };
        pthread_create(&tids[t], NULL, work, &workers[t]);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tids[t], NULL);
        CHECK(workers[t].failures == 0);
        CHECK(workers[t].mismatches == 0);
    }
    for (int i = 0; i < INPUTS; i++) free(inputs[i]);
    nin_model_free(model);
    return SUMMARY("test_threads");
}
