/* cpu.c - CPU feature detection for run-time kernel dispatch. __builtin_cpu_supports checks
 * both the CPUID bits and that the OS saves YMM state (XCR0), so a true answer is safe to act on. */
#include "ninpriv_cpu.h"

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

const void *ninpriv_opaque_pointer(const void *pointer) { return pointer; }
