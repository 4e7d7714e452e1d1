/* check.h - the tiny test harness of the C tests: CHECK counts, SUMMARY prints "N passed, N failed". */
#ifndef NIN_CHECK_H
#define NIN_CHECK_H
#include <stdio.h>

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

#endif
