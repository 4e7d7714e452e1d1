/* test_shared_context.c - misuse that nin.h forbids must be refused, not fatal: several pthreads
 * hammer ONE context (runs and result reads interleaved). Every call returns NIN_OK or
 * NIN_ERROR_STATE with "context is in use by another thread"; every result read is the whole
 * result of one serial run (never torn); afterwards the context still gives the serial bits.
 * Before the in-use flag this crashed within a few hundred runs, at 1 and at 2 worker threads.
 * Usage: test_shared_context MODEL.nin */
#include "nin.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { INPUTS = 4, CALLERS = 4, ROUNDS = 600, MAX_CLASSES = CHECK_MAX_CLASSES };

static nin_model *model;
static nin_context *shared;
static size_t input_bytes;
static int classes;
static uint8_t *inputs[INPUTS];
static float serial[INPUTS][MAX_CLASSES];

typedef struct { int index, ok, refused, torn, unexpected; } caller;

static int is_refusal(nin_status s) {
    return s == NIN_ERROR_STATE && strstr(nin_last_error(), "in use by another thread") != NULL;
}

static void *hammer(void *arg) {
    caller *self = arg;
    float out[MAX_CLASSES];
    int top[1];
    for (int round = 0; round < ROUNDS; round++) {
        int k = (round + self->index) % INPUTS;
        nin_status s = nin_run_prepared_u8(shared, inputs[k], input_bytes, 1);
        if (s == NIN_OK) self->ok++; else if (is_refusal(s)) self->refused++; else self->unexpected++;
        s = nin_context_logits(shared, 0, out, MAX_CLASSES);
        if (s == NIN_OK) {
            self->ok++;
            int matches = 0;
            for (int i = 0; i < INPUTS; i++)
                matches += memcmp(out, serial[i], (size_t)classes * sizeof(float)) == 0;
            if (matches == 0) self->torn++;
        } else if (is_refusal(s)) {
            self->refused++;
        } else {
            self->unexpected++;
        }
        s = nin_context_top_k(shared, 0, 1, top, NULL);
        if (s == NIN_OK) self->ok++; else if (is_refusal(s)) self->refused++; else self->unexpected++;
    }
    return NULL;
}

static void hammer_at(int threads) {
    nin_context_params params = nin_context_default_params();
    params.threads = threads;
    CHECK_STATUS(nin_context_create(model, &params, &shared), NIN_OK);
    if (!shared) return;
    CHECK_STATUS(nin_run_prepared_u8(shared, inputs[0], input_bytes, 1), NIN_OK);  /* results exist from here on */
    pthread_t ids[CALLERS];
    caller callers[CALLERS];
    for (int t = 0; t < CALLERS; t++) {
        callers[t] = (caller){ .index = t };
        CHECK(pthread_create(&ids[t], NULL, hammer, &callers[t]) == 0);
    }
    int ok = 0, refused = 0, torn = 0, unexpected = 0;
    for (int t = 0; t < CALLERS; t++) {
        pthread_join(ids[t], NULL);
        ok += callers[t].ok; refused += callers[t].refused; torn += callers[t].torn; unexpected += callers[t].unexpected;
    }
    printf("threads=%d: %d calls succeeded, %d refused as in use, %d torn, %d other failures\n",
           threads, ok, refused, torn, unexpected);
    CHECK(unexpected == 0);
    CHECK(torn == 0);
    CHECK(ok > 0);
    for (int i = 0; i < INPUTS; i++) {
        float out[MAX_CLASSES];
        CHECK_STATUS(nin_run_prepared_u8(shared, inputs[i], input_bytes, 1), NIN_OK);
        CHECK_STATUS(nin_context_logits(shared, 0, out, MAX_CLASSES), NIN_OK);
        CHECK(memcmp(out, serial[i], (size_t)classes * sizeof(float)) == 0);
    }
    nin_context_free(shared);
    shared = NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.nin\n", argv[0]);
        return 2;
    }
    CHECK_STATUS(nin_model_load_file(argv[1], &model), NIN_OK);
    if (!model) return SUMMARY("test_shared_context");
    classes = nin_model_class_count(model);
    CHECK(classes >= 1 && classes <= MAX_CLASSES);
    input_bytes = serial_baseline(model, INPUTS, 4242, inputs, serial, NULL);
    /* The inputs must give different results, or a torn read could not be told apart. */
    for (int i = 1; i < INPUTS; i++) CHECK(memcmp(serial[0], serial[i], (size_t)classes * sizeof(float)) != 0);
    hammer_at(1);
    hammer_at(2);
    for (int i = 0; i < INPUTS; i++) free(inputs[i]);
    nin_model_free(model);
    return SUMMARY("test_shared_context");
}
