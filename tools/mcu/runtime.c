/* runtime.c - what a C library would give the firmware and nin_platform_bare.c does not: the Arm
 * run-time ABI's memory helpers (__aeabi_memcpy, __aeabi_memset, ...: the compiler calls them for
 * copies and clears; note __aeabi_memset's (destination, count, value) order) and the rounding
 * functions Swift's .rounded() and the engine call (trunc, floor, ceil, rint, nearbyint, for float
 * and double), which an FPv4 FPU has no instruction for. All exact: rounding by masking the
 * fraction bits (trunc) or by adding and subtracting 2^52 (2^23) in round-to-nearest-even. */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *destination, const void *source, size_t count);
void *memmove(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);

/* ---- Arm run-time ABI memory helpers ---- */

void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memset(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset4(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset8(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }

/* ---- Rounding ---- */

double trunc(double x) {
    union { double d; uint64_t u; } v = {.d = x};
    int exponent = (int)((v.u >> 52) & 0x7ff) - 1023;
    if (exponent >= 52) return x;                       /* already an integer, infinity or NaN */
    if (exponent < 0) { v.u &= 0x8000000000000000u; return v.d; }  /* |x| < 1: signed zero */
    v.u &= ~((UINT64_C(1) << (52 - exponent)) - 1);
    return v.d;
}

float truncf(float x) {
    union { float f; uint32_t u; } v = {.f = x};
    int exponent = (int)((v.u >> 23) & 0xff) - 127;
    if (exponent >= 23) return x;
    if (exponent < 0) { v.u &= 0x80000000u; return v.f; }
    v.u &= ~((1u << (23 - exponent)) - 1);
    return v.f;
}

double floor(double x) { double t = trunc(x); return t > x ? t - 1.0 : t; }
double ceil(double x) { double t = trunc(x); return t < x ? t + 1.0 : t; }
float floorf(float x) { float t = truncf(x); return t > x ? t - 1.0f : t; }
float ceilf(float x) { float t = truncf(x); return t < x ? t + 1.0f : t; }

/* The current rounding mode (the engine sets to nearest even while it runs). */
double rint(double x) {
    const double big = 0x1p52;
    double a = x < 0 ? -x : x;
    if (!(a < big)) return x;                          /* integer already, infinity or NaN */
    volatile double sum = a + big;                     /* rounds the fraction away */
    double r = sum - big;
    return x < 0 ? -r : r;                             /* keeps the sign of zero */
}
double nearbyint(double x) { return rint(x); }

float rintf(float x) {
    const float big = 0x1p23f;
    float a = x < 0 ? -x : x;
    if (!(a < big)) return x;
    volatile float sum = a + big;
    float r = sum - big;
    return x < 0 ? -r : r;
}
float nearbyintf(float x) { return rintf(x); }
