/* check.h - the tiny test harness of the C tests: CHECK counts, SUMMARY prints "N passed, N failed";
 * and the helpers several tests share. */
#ifndef NIN_CHECK_H
#define NIN_CHECK_H
#include <stdio.h>
#include <stdlib.h>

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

#endif
