/* crc32.c - the model checksum's fast path (ninpriv_crc32.h): CRC-32 (reflected, polynomial
 * 0x04C11DB7) by folding 512 bits at a time with carry-less multiplication, then 128, then a
 * Barrett reduction to 32 bits, as described in Gopal et al., "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction" (Intel, 2009). x86-64 with PCLMULQDQ and SSE4.1 (every
 * x86-64 CPU since 2010; the probe below checks); elsewhere it does nothing and the table loop
 * does all the work. Tests/NiNTests compare it with the table loop over lengths and offsets. */
#include "ninpriv_crc32.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* x^n mod P(x) for the folding distances, bit-reflected and shifted as the reflected algorithm
 * uses them (the constants of the paper for the CRC-32 polynomial). */
#define NINPRIV_CRC_K1 0x154442bd4ull /* x^(4*128+32) mod P: fold 512 bits */
#define NINPRIV_CRC_K2 0x1c6e41596ull /* x^(4*128-32) mod P */
#define NINPRIV_CRC_K3 0x1751997d0ull /* x^(128+32) mod P: fold 128 bits */
#define NINPRIV_CRC_K4 0x0ccaa009eull /* x^(128-32) mod P */
#define NINPRIV_CRC_K5 0x163cd6124ull /* x^64 mod P: 64 -> 32 bits */
#define NINPRIV_CRC_P  0x1db710641ull /* P, reflected */
#define NINPRIV_CRC_MU 0x1f7011641ull /* floor(x^64 / P), reflected: Barrett's constant */

static int ninpriv_cpu_has_clmul(void) {
    static int known = -1; /* a benign race: every thread computes the same value */
    if (known < 0) {
        unsigned a, b, c, d;
        known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_PCLMUL) && (c & bit_SSE4_1);
    }
    return known;
}

/* a's 128 bits folded forward by the distance whose constants k holds, plus b. */
__attribute__((target("pclmul,sse4.1")))
static inline __m128i ninpriv_fold(__m128i a, __m128i k, __m128i b) {
    __m128i low = _mm_clmulepi64_si128(a, k, 0x00), high = _mm_clmulepi64_si128(a, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), b);
}

__attribute__((target("pclmul,sse4.1")))
static uint32_t ninpriv_crc32_clmul(uint32_t state, const uint8_t *p, size_t length) {
    /* length >= 64, a multiple of 16 */
    __m128i x0 = _mm_loadu_si128((const __m128i *)p), x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32)), x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)state));
    p += 64; length -= 64;
    const __m128i k12 = _mm_set_epi64x((long long)NINPRIV_CRC_K2, (long long)NINPRIV_CRC_K1);
    while (length >= 64) {
        x0 = ninpriv_fold(x0, k12, _mm_loadu_si128((const __m128i *)p));
        x1 = ninpriv_fold(x1, k12, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = ninpriv_fold(x2, k12, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = ninpriv_fold(x3, k12, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64; length -= 64;
    }
    const __m128i k34 = _mm_set_epi64x((long long)NINPRIV_CRC_K4, (long long)NINPRIV_CRC_K3);
    x0 = ninpriv_fold(x0, k34, x1);
    x0 = ninpriv_fold(x0, k34, x2);
    x0 = ninpriv_fold(x0, k34, x3);
    while (length >= 16) {
        x0 = ninpriv_fold(x0, k34, _mm_loadu_si128((const __m128i *)p));
        p += 16; length -= 16;
    }
    /* 128 -> 64 bits (appending 32 zero bits), then 64 -> 32. */
    x0 = _mm_xor_si128(_mm_clmulepi64_si128(k34, x0, 0x01), _mm_srli_si128(x0, 8));
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    const __m128i k5 = _mm_set_epi64x(0, (long long)NINPRIV_CRC_K5);
    x0 = _mm_xor_si128(_mm_srli_si128(x0, 4), _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), k5, 0x00));
    /* Barrett reduction to the 32-bit remainder. */
    const __m128i poly = _mm_set_epi64x((long long)NINPRIV_CRC_MU, (long long)NINPRIV_CRC_P);
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x0, t), 1);
}

size_t ninpriv_crc32_fold(uint32_t *state, const uint8_t *data, size_t length) {
    if (length < 64 || !ninpriv_cpu_has_clmul()) return 0;
    size_t whole = length & ~(size_t)15;
    *state = ninpriv_crc32_clmul(*state, data, whole);
    return whole;
}

#else

size_t ninpriv_crc32_fold(uint32_t *state, const uint8_t *data, size_t length) {
    (void)state; (void)data; (void)length;
    return 0;
}

#endif
