/* cpu.c - CPU feature detection for run-time kernel dispatch. __builtin_cpu_supports checks
 * both the CPUID bits and that the OS saves YMM state (XCR0), so a true answer is safe to act on. */
#include "ninpriv_cpu.h"

#include <pthread.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int ninpriv_cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int ninpriv_cpu_has_avx512vnni(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return ninpriv_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

int ninpriv_cpu_has_avxvnni(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return ninpriv_cpu_has_avx2() && __builtin_cpu_supports("avxvnni");
#else
    return 0;
#endif
}

/* arm64: Linux reports what the CPU (and the kernel) supports in the auxiliary vector's
 * AT_HWCAP and AT_HWCAP2 words (the bits of the kernel's uapi asm/hwcap.h, spelled here). */
#if defined(__aarch64__) && defined(__linux__)
static int aarch64_hwcap(unsigned long type, unsigned long bit) { return (getauxval(type) & bit) != 0; }
#define NINPRIV_HWCAP(type, bit) aarch64_hwcap(type, bit)
#else
#define NINPRIV_HWCAP(type, bit) 0 /* not arm64 Linux: none of them */
#endif

int ninpriv_cpu_has_asimd(void) { return NINPRIV_HWCAP(AT_HWCAP, 1ul << 1); /* HWCAP_ASIMD */ }

int ninpriv_cpu_has_asimddp(void) {
    return ninpriv_cpu_has_asimd() && NINPRIV_HWCAP(AT_HWCAP, 1ul << 20); /* HWCAP_ASIMDDP */
}

int ninpriv_cpu_has_i8mm(void) {
    return ninpriv_cpu_has_asimddp() && NINPRIV_HWCAP(AT_HWCAP2, 1ul << 13); /* HWCAP2_I8MM */
}

const void *ninpriv_opaque_pointer(const void *pointer) { return pointer; }

/* AMX: why not (NULL: it can run), decided once per process by amx_probe. */
static const char *amx_reason;
#if defined(__x86_64__) && defined(__linux__)
static char amx_reason_text[160];
#endif
static pthread_once_t amx_probed = PTHREAD_ONCE_INIT;

/* CPUID amx_tile and amx_int8, XCR0 tile state enabled by the OS, then the permission: Linux
 * (5.16+) hands out the 8 KiB tile data state per process on request (ARCH_REQ_XCOMP_PERM for
 * XFEATURE_XTILEDATA); without it a tile instruction raises SIGILL. Once per process. A forked
 * child inherits both the permission and this answer, and asks again for nothing (exec clears
 * the permission, and a new process probes again). */
static void amx_probe(void) {
#if defined(__x86_64__) && defined(__linux__)
    unsigned eax, ebx, ecx, edx;
    if (!ninpriv_cpu_has_avx512vnni()) { amx_reason = "CPU lacks avx512f/avx512bw/avx512vl/avx512_vnni"; return; }
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 24)) || !(edx & (1u << 25))) {
        amx_reason = "CPU lacks amx_tile/amx_int8";
        return;
    }
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & (3u << 17)) != (3u << 17)) { amx_reason = "the OS does not enable the AMX tile state (XCR0)"; return; }
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) != 0) {
        snprintf(amx_reason_text, sizeof amx_reason_text,
                 "the kernel refused the AMX tile data state (arch_prctl ARCH_REQ_XCOMP_PERM: %s)", strerror(errno));
        amx_reason = amx_reason_text;
        return;
    }
    amx_reason = NULL;
#else
    amx_reason = "not an x86-64 Linux host";
#endif
}

const char *ninpriv_cpu_amx_unavailable(void) {
    pthread_once(&amx_probed, amx_probe);
    return amx_reason;
}

int ninpriv_cpu_has_amx(void) { return ninpriv_cpu_amx_unavailable() == NULL; }
