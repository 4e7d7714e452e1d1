/* check.h - the tiny test harness of the C tests: CHECK counts, SUMMARY prints "N passed, N failed";
 * and the helpers several tests share: reading a file, random inputs, and the serial baseline
 * that threaded runs must equal bit for bit. */
#ifndef NIN_CHECK_H
#define NIN_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nin.h"

static int check_passed, check_failed;

#define CHECK(cond) do { \
    if (cond) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STATUS(call, expected) do { \
    nin_status check_s_ = (call); \
    if (check_s_ == (expected)) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "FAIL %s:%d: %s returned %s (%s), expected %s\n", __FILE__, __LINE__, \
        #call, nin_status_string(check_s_), nin_last_error(), #expected); } \
} while (0)

#define SUMMARY(name) (printf("%s: %d passed, %d failed\n", name, check_passed, check_failed), check_failed == 0 ? 0 : 1)

/* Reads a whole file into 64-byte aligned memory (release with free()); NULL if it cannot be
 * read. *size is its length. */
static inline unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = n >= 0 ? aligned_alloc(64, ((size_t)n + 64) / 64 * 64) : NULL;
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) { free(data); data = NULL; }
    fclose(f);
    *size = n > 0 ? (size_t)n : 0;
    return data;
}

/* The most classes a test keeps logits for (every shipped and golden model has fewer). */
enum { CHECK_MAX_CLASSES = 4096 };

/* Fills `bytes` bytes of `out` with the tests' pseudo-random input bytes: a linear congruential
 * sequence continued from *state (each test its own seed, so its inputs are the same every run). */
static inline void fill_random_input(uint8_t *out, size_t bytes, unsigned *state) {
    for (size_t j = 0; j < bytes; j++) {
        *state = *state * 1103515245u + 12345u;
        out[j] = (uint8_t)(*state >> 16);
    }
}

/* Makes `count` random inputs of the model's input size from `seed` (inputs[i], malloc'd: the
 * caller frees them) and runs each alone on a fresh one-thread context: serial[i] gets its
 * logits and, when `top` is not NULL, top[i] its best class. That is the baseline every
 * threaded or shared run is compared with, bit for bit. Returns the input size in bytes. */
static inline size_t serial_baseline(nin_model *model, int count, unsigned seed, uint8_t **inputs,
                                     float (*serial)[CHECK_MAX_CLASSES], int *top) {
    int c = 0, h = 0, w = 0;
    CHECK_STATUS(nin_model_input_shape(model, &c, &h, &w), NIN_OK);
    size_t input_bytes = (size_t)c * (size_t)h * (size_t)w;
    unsigned state = seed;
    nin_context *ctx = NULL;
    CHECK_STATUS(nin_context_create(model, NULL, &ctx), NIN_OK);
    for (int i = 0; i < count; i++) {
        inputs[i] = malloc(input_bytes);
        fill_random_input(inputs[i], input_bytes, &state);
        CHECK_STATUS(nin_run_prepared_u8(ctx, inputs[i], input_bytes, 1), NIN_OK);
        CHECK_STATUS(nin_context_logits(ctx, 0, serial[i], CHECK_MAX_CLASSES), NIN_OK);
        if (top) CHECK_STATUS(nin_context_top_k(ctx, 0, 1, &top[i], NULL), NIN_OK);
    }
    nin_context_free(ctx);
    return input_bytes;
}

#endif
