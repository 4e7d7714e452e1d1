/* ninpriv_dsp.h - the Armv7E-M DSP extension's instructions the cortexm kernel family uses
 * (Sources/NiNCortexM), as inline functions Swift can call: SXTB16 (two bytes sign-extended to
 * two int16 halves) and SMLAD (two int16 x int16 products added to an int32 accumulator), the
 * pair CMSIS-NN's int8 kernels are built on. Empty on a target without the DSP extension. */
#ifndef NINPRIV_DSP_H
#define NINPRIV_DSP_H

#if defined(__ARM_FEATURE_DSP)
#include <stdint.h>

/** Bytes 0 and 2 of `v`, sign-extended, as the low and high int16 halves. */
static inline uint32_t ninpriv_sxtb16(uint32_t v) { return (uint32_t)__builtin_arm_sxtb16((int)v); }

/** Bytes 1 and 3 of `v`, sign-extended, as the low and high int16 halves (SXTB16 with ROR #8). */
static inline uint32_t ninpriv_sxtb16_odd(uint32_t v) { return (uint32_t)__builtin_arm_sxtb16((int)((v >> 8) | (v << 24))); }

/** acc + a.low * b.low + a.high * b.high (int16 halves; SMLAD). */
static inline int32_t ninpriv_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return __builtin_arm_smlad((int)a, (int)b, acc);
}
#endif

#endif
