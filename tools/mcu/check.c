/* check.c - the check firmware's main (.build-mcu/nin-mcu-check.elf, made by tools/mcu/build.sh
 * with KernelCheck.swift): runs ninmcu_kernel_check, the random convolutions on the firmware's
 * kernel families (cortexm) against the reference kernels, both on the board. The command line
 * (qemu -append) may say `trials=N` (default NIN_MCU_CHECK_TRIALS) and `seed=S` (default 2026).
 * Prints what the check prints (Swift's print, through putchar, here) and the stack's high-water
 * mark; exit status 0 when every trial matched, 1 otherwise. tools/mcu/test.py runs it. Also
 * sqrt, which the generator's Double.squareRoot() calls (the FPU is single precision only). */
#include <stdint.h>

#include "mcu.h"

#ifndef NIN_MCU_CHECK_TRIALS
#define NIN_MCU_CHECK_TRIALS 300
#endif

int32_t ninmcu_kernel_check(int32_t trials, uint32_t seed);

/* Swift's print writes bytes with putchar: gathered into lines for mcu_write. */
int putchar(int c) {
    static char line[256];
    static unsigned used;
    line[used++] = (char)c;
    if (c == '\n' || used == sizeof line - 1) {
        line[used] = 0;
        mcu_write(line);
        used = 0;
    }
    return c;
}

/* The correctly rounded square root (IEEE 754's, so that the trials are the host's): the 53 bits
 * of sqrt(m * 2^52), m the significand made even-exponent, digit by digit (two bits of the radicand
 * a step, the remainder at most 2q), rounded up when the remainder exceeds q (no ties: the root
 * of an integer is never q + 1/2). Negative: NaN; zero, infinity, NaN: themselves. */
double sqrt(double x) {
    union { double d; uint64_t u; } v = {.d = x};
    if (x != x || x == 0 || v.u == UINT64_C(0x7ff0000000000000)) return x;
    if (v.u >> 63) return (x - x) / (x - x);
    int exponent = (int)((v.u >> 52) & 0x7ff);
    uint64_t m = v.u & ((UINT64_C(1) << 52) - 1);
    if (exponent == 0) {  /* subnormal: normalize */
        exponent = 1;
        while (!(m >> 52)) { m <<= 1; exponent--; }
    } else {
        m |= UINT64_C(1) << 52;
    }
    exponent -= 1023;  /* x = m * 2^(exponent - 52) */
    if (exponent & 1) { m <<= 1; exponent--; }
    uint64_t q = 0, r = 0;
    for (int j = 52; j >= 0; j--) {  /* bits 2j+1 and 2j of m * 2^52 */
        r = (r << 2) | (2 * j >= 52 ? (m >> (2 * j - 52)) & 3u : 0);
        uint64_t t = (q << 2) | 1u;
        if (r >= t) { r -= t; q = (q << 1) | 1u; } else { q <<= 1; }
    }
    if (r > q) q++;
    int half = exponent / 2;
    if (q >> 53) { q >>= 1; half++; }
    v.u = ((uint64_t)(half + 1023) << 52) | (q & ((UINT64_C(1) << 52) - 1));
    return v.d;
}

/* The number after `name=` on the command line, or `fallback`. */
static uint32_t option(const char *line, const char *name, uint32_t fallback) {
    for (const char *at = line; *at; at++) {
        if (at != line && at[-1] != ' ') continue;
        size_t i = 0;
        while (name[i] && at[i] == name[i]) i++;
        if (name[i] || at[i] != '=') continue;
        uint32_t value = 0;
        const char *digit = at + i + 1;
        if (*digit < '0' || *digit > '9') return fallback;
        for (; *digit >= '0' && *digit <= '9'; digit++) value = value * 10u + (uint32_t)(*digit - '0');
        return value;
    }
    return fallback;
}

static void write_unsigned(uint32_t value) {
    char text[11], *at = text + sizeof text - 1;
    *at = 0;
    do *--at = (char)('0' + value % 10u); while (value /= 10u);
    mcu_write(at);
}

int main(void) {
    const char *line = mcu_command_line();
    uint32_t trials = option(line, "trials", NIN_MCU_CHECK_TRIALS), seed = option(line, "seed", 2026);
    int32_t mismatches = ninmcu_kernel_check((int32_t)trials, seed);
    mcu_write("figure stack_high_water ");
    write_unsigned((uint32_t)mcu_stack_high_water());
    mcu_write("\n");
    return mismatches == 0 ? 0 : 1;
}
