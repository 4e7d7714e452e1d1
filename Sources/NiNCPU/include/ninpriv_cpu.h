/* ninpriv_cpu.h - CPU feature detection for run-time kernel dispatch (internal; not exported,
 * the ninpriv_ prefix keeps it out of libnin.so's nin_* export list). Its sibling ninpriv_fork.h
 * counts fork()s for the worker pools; ninpriv_binary.h names the file nin was loaded from. */
#ifndef NINPRIV_CPU_H
#define NINPRIV_CPU_H

/* Bare-metal 32-bit Arm (a Cortex-M firmware, tools/mcu): the FPSCR directly, no C library. */
#if defined(__arm__) && !defined(__linux__)
#define NINPRIV_BARE_ARM 1
#endif

#if !defined(__x86_64__) && !defined(__i386__) && !defined(__wasm__) && !defined(NINPRIV_BARE_ARM)
#include <fenv.h>
#endif

/** 1 when the CPU and the OS support AVX2 and FMA (YMM state enabled), else 0. */
int ninpriv_cpu_has_avx2(void);

/** 1 when the CPU and the OS support AVX-512 F, BW, VL and VNNI (ZMM state enabled), else 0. */
int ninpriv_cpu_has_avx512vnni(void);

/** 1 when the CPU and the OS support AVX2, FMA and AVX-VNNI (VEX vpdpbusd on ymm), else 0. */
int ninpriv_cpu_has_avxvnni(void);

/** arm64 Linux: 1 when the CPU has Advanced SIMD (NEON; HWCAP asimd), else 0 (0 on other hosts). */
int ninpriv_cpu_has_asimd(void);

/** arm64 Linux: 1 when the CPU has NEON and the dot product instructions SDOT/UDOT (ARMv8.2
 *  asimddp), else 0. */
int ninpriv_cpu_has_asimddp(void);

/** arm64 Linux: 1 when the CPU has the dot product and the int8 matrix multiply instructions
 *  USDOT/SMMLA (HWCAP2 i8mm), else 0. */
int ninpriv_cpu_has_i8mm(void);

/** Returns `pointer`, from a separate translation unit, so that the Swift optimizer cannot see
 * that the result equals the argument: kernels use it to keep loads of the same address through
 * different copies apart (each then folds into the instruction that uses it, instead of being
 * merged into one register the tile has no room for). */
const void *ninpriv_opaque_pointer(const void *pointer);
/** 1 when the AMX family can run: AVX-512 VNNI, CPUID amx_tile and amx_int8, the OS enables the
 *  tile state, and the kernel granted this process the tile data (requested on the first call,
 *  once per process, inherited by fork()); else 0. */
int ninpriv_cpu_has_amx(void);

/** NULL when ninpriv_cpu_has_amx() is 1, else a one-line reason (static text). */
const char *ninpriv_cpu_amx_unavailable(void);

/** Tells the CPU this thread is spin-waiting (x86 `pause`, arm64 `yield`); inlined into Swift callers. */
static inline void ninpriv_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/** Makes this thread's floating-point arithmetic round to nearest even, the mode the
 * quantization contract is written in (docs/QUANTIZATION.md), in case the host changed it;
 * returns the previous state for ninpriv_fp_restore. On x86 the vector code follows MXCSR. */
static inline unsigned ninpriv_fp_round_to_nearest(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned csr = __builtin_ia32_stmxcsr();
    if (csr & 0x6000u) __builtin_ia32_ldmxcsr(csr & ~0x6000u);
    return csr;
#elif defined(__wasm__)
    return 0; /* WebAssembly has one rounding mode: to nearest even */
#elif defined(NINPRIV_BARE_ARM)
#if defined(__ARM_FP)
    unsigned fpscr = __builtin_arm_get_fpscr(); /* RMode (bits 23:22) 0: to nearest; FZ (24) 0 */
    if (fpscr & 0x01C00000u) __builtin_arm_set_fpscr(fpscr & ~0x01C00000u);
    return fpscr;
#else
    return 0; /* software floating point: to nearest even */
#endif
#else
    int mode = fegetround();
    if (mode != FE_TONEAREST) fesetround(FE_TONEAREST);
    return (unsigned)mode;
#endif
}

/** Restores what ninpriv_fp_round_to_nearest returned. */
static inline void ninpriv_fp_restore(unsigned saved) {
#if defined(__x86_64__) || defined(__i386__)
    if (saved & 0x6000u) __builtin_ia32_ldmxcsr(saved);
#elif defined(__wasm__)
    (void)saved;
#elif defined(NINPRIV_BARE_ARM)
#if defined(__ARM_FP)
    if (saved & 0x01C00000u) __builtin_arm_set_fpscr(saved);
#else
    (void)saved;
#endif
#else
    if ((int)saved != FE_TONEAREST) fesetround((int)saved);
#endif
}

#endif
