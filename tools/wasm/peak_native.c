/* tools/wasm/peak_native.c - the step of tools/wasm/peak_wasm.c on the host CPU with AVX2, for
 * comparison: two quads' vpmaddubsw, vpaddw, vpmaddwd with ones, vpaddd; 2 pixels x 8 channels
 * (as the wasm tile) and weights-in-registers x 4 pixels, each at 128 bits (what wasm's SIMD128
 * becomes in V8) and at 256 bits (the AVX2 family's width). Prints GMAC/s, best of 7 timed calls.
 * Built and run by tools/wasm/peak.sh. */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint8_t buffer[65536] __attribute__((aligned(32)));
enum { PAIRS = 64 };

/* One step of the 128-bit kind, as peak_wasm.c's STEP (u8 inputs first for vpmaddubsw). */
#define STEP128(acc, w0, w1, x0, x1) \
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_add_epi16(_mm_maddubs_epi16(x0, w0), _mm_maddubs_epi16(x1, w1)), ones))
#define STEP256(acc, w0, w1, x0, x1) \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(x0, w0), _mm256_maddubs_epi16(x1, w1)), ones))
#define SPLAT128(p) _mm_set1_epi32(*(const int32_t *)(const void *)(p))
#define SPLAT256(p) _mm256_set1_epi32(*(const int32_t *)(const void *)(p))

__attribute__((noinline)) static int32_t step2x8_128(const uint8_t *x0p, const uint8_t *x1p, const uint8_t *w, long reps) {
    const __m128i ones = _mm_set1_epi16(1);
    __m128i c00 = _mm_setzero_si128(), c01 = c00, c10 = c00, c11 = c00;
    for (long r = 0; r < reps; r++) {
        const __m128i *wv = (const __m128i *)(const void *)w;
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < PAIRS; g++) {
            __m128i w0a = _mm_load_si128(wv), w1a = _mm_load_si128(wv + 1), w0b = _mm_load_si128(wv + 2), w1b = _mm_load_si128(wv + 3);
            __m128i x0a = SPLAT128(a), x0b = SPLAT128(a + 4), x1a = SPLAT128(b), x1b = SPLAT128(b + 4);
            STEP128(c00, w0a, w0b, x0a, x0b); STEP128(c01, w1a, w1b, x0a, x0b);
            STEP128(c10, w0a, w0b, x1a, x1b); STEP128(c11, w1a, w1b, x1a, x1b);
            wv += 4; a += 8; b += 8;
        }
        __asm__ volatile("" : "+x"(c00), "+x"(c01), "+x"(c10), "+x"(c11));
    }
    __m128i s = _mm_add_epi32(_mm_add_epi32(c00, c01), _mm_add_epi32(c10, c11));
    return _mm_cvtsi128_si32(s);
}

__attribute__((noinline)) static int32_t regs_128(const uint8_t *x0p, const uint8_t *x1p, const uint8_t *w, long reps) {
    const __m128i ones = _mm_set1_epi16(1);
    const __m128i *wv = (const __m128i *)(const void *)w;
    __m128i w0a = _mm_load_si128(wv), w1a = _mm_load_si128(wv + 1), w0b = _mm_load_si128(wv + 2), w1b = _mm_load_si128(wv + 3);
    __m128i c00 = _mm_setzero_si128(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (long r = 0; r < reps; r++) {
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < PAIRS; g++) {
            __m128i xa = SPLAT128(a), xb = SPLAT128(a + 4);
            STEP128(c00, w0a, w0b, xa, xb); STEP128(c01, w1a, w1b, xa, xb);
            STEP128(c20, w1a, w0b, xa, xb); STEP128(c21, w0a, w1b, xa, xb);
            xa = SPLAT128(b); xb = SPLAT128(b + 4);
            STEP128(c10, w0a, w0b, xa, xb); STEP128(c11, w1a, w1b, xa, xb);
            STEP128(c30, w1a, w0b, xa, xb); STEP128(c31, w0a, w1b, xa, xb);
            a += 8; b += 8;
        }
        __asm__ volatile("" : "+x"(c00), "+x"(c01), "+x"(c10), "+x"(c11), "+x"(c20), "+x"(c21), "+x"(c30), "+x"(c31));
    }
    __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_add_epi32(c00, c01), _mm_add_epi32(c10, c11)),
                              _mm_add_epi32(_mm_add_epi32(c20, c21), _mm_add_epi32(c30, c31)));
    return _mm_cvtsi128_si32(s);
}

/* 256 bits: 2 pixels x 16 channels per step (each vector 8 channels). */
__attribute__((noinline)) static int32_t step2x16_256(const uint8_t *x0p, const uint8_t *x1p, const uint8_t *w, long reps) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
    for (long r = 0; r < reps; r++) {
        const __m256i *wv = (const __m256i *)(const void *)w;
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < PAIRS; g++) {
            __m256i w0a = _mm256_load_si256(wv), w1a = _mm256_load_si256(wv + 1), w0b = _mm256_load_si256(wv + 2), w1b = _mm256_load_si256(wv + 3);
            __m256i x0a = SPLAT256(a), x0b = SPLAT256(a + 4), x1a = SPLAT256(b), x1b = SPLAT256(b + 4);
            STEP256(c00, w0a, w0b, x0a, x0b); STEP256(c01, w1a, w1b, x0a, x0b);
            STEP256(c10, w0a, w0b, x1a, x1b); STEP256(c11, w1a, w1b, x1a, x1b);
            wv += 4; a += 8; b += 8;
        }
        __asm__ volatile("" : "+x"(c00), "+x"(c01), "+x"(c10), "+x"(c11));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(c00, c01), _mm256_add_epi32(c10, c11));
    return _mm256_cvtsi256_si32(s);
}

__attribute__((noinline)) static int32_t regs_256(const uint8_t *x0p, const uint8_t *x1p, const uint8_t *w, long reps) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i *wv = (const __m256i *)(const void *)w;
    __m256i w0a = _mm256_load_si256(wv), w1a = _mm256_load_si256(wv + 1), w0b = _mm256_load_si256(wv + 2), w1b = _mm256_load_si256(wv + 3);
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (long r = 0; r < reps; r++) {
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < PAIRS; g++) {
            __m256i xa = SPLAT256(a), xb = SPLAT256(a + 4);
            STEP256(c00, w0a, w0b, xa, xb); STEP256(c01, w1a, w1b, xa, xb);
            STEP256(c20, w1a, w0b, xa, xb); STEP256(c21, w0a, w1b, xa, xb);
            xa = SPLAT256(b); xb = SPLAT256(b + 4);
            STEP256(c10, w0a, w0b, xa, xb); STEP256(c11, w1a, w1b, xa, xb);
            STEP256(c30, w1a, w0b, xa, xb); STEP256(c31, w0a, w1b, xa, xb);
            a += 8; b += 8;
        }
        __asm__ volatile("" : "+x"(c00), "+x"(c01), "+x"(c10), "+x"(c11), "+x"(c20), "+x"(c21), "+x"(c30), "+x"(c31));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c00, c01), _mm256_add_epi32(c10, c11)),
                                 _mm256_add_epi32(_mm256_add_epi32(c20, c21), _mm256_add_epi32(c30, c31)));
    return _mm256_cvtsi256_si32(s);
}

typedef int32_t (*StepFunction)(const uint8_t *, const uint8_t *, const uint8_t *, long);

/* Best GMAC/s over 7 calls of about 0.1 s; `macs` per rep. */
static double rate(StepFunction f, double macs) {
    long reps = 1000;
    volatile int32_t sink = 0;
    for (;;) {
        double t0 = now();
        sink += f(buffer, buffer + 1024, buffer + 4096, reps);
        double s = now() - t0;
        if (s > 0.05) { reps = (long)(reps * 0.1 / s) + 1; break; }
        reps *= 4;
    }
    double best = 0;
    for (int t = 0; t < 7; t++) {
        double t0 = now();
        sink += f(buffer, buffer + 1024, buffer + 4096, reps);
        double g = reps * macs / (now() - t0) / 1e9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
}

int main(void) {
    for (int i = 0; i < 65536; i++) buffer[i] = (uint8_t)(i < 4096 ? (i * 37) & 127 : ((i * 11) & 127) - 64);
    double per = PAIRS * 8.0;  /* multiply-adds per pixel and channel per rep */
    printf("native_2x8_128=%.2f native_regs_128=%.2f native_2x16_256=%.2f native_regs_256=%.2f\n",
           rate(step2x8_128, per * 2 * 8), rate(regs_128, per * 4 * 8), rate(step2x16_256, per * 2 * 16),
           rate(regs_256, per * 4 * 16));
    return 0;
}
