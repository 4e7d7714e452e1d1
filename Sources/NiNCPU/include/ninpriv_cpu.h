/* ninpriv_cpu.h - CPU feature detection for run-time kernel dispatch (internal; not exported,
 * the ninpriv_ prefix keeps it out of libnin.so's nin_* export list). */
#ifndef NINPRIV_CPU_H
#define NINPRIV_CPU_H

/** 1 when the CPU and the OS support AVX2 and FMA (YMM state enabled), else 0. */
int ninpriv_cpu_has_avx2(void);

/** 1 when the CPU and the OS support AVX-512 F, BW, VL and VNNI (ZMM state enabled), else 0. */
int ninpriv_cpu_has_avx512vnni(void);

/** Tells the CPU this thread is spin-waiting (x86 `pause`); inlined into Swift callers. */
static inline void ninpriv_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
