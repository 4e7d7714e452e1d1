/* ninpriv_wasm_simd.h - the SIMD128 instructions the wasm families use that plain Swift SIMD
 * does not lower to (internal): i32x4.dot_i16x8_s, two int16 products summed per int32 lane
 * (wasmsimd); with -mrelaxed-simd, i32x4.relaxed_dot_i8x16_i7x16_add_s (wasmrelaxed). */
#ifndef NINPRIV_WASM_SIMD_H
#define NINPRIV_WASM_SIMD_H

#include <wasm_simd128.h>

/** Lane i: a[2i] * b[2i] + a[2i+1] * b[2i+1], the int16 lanes of a and b (i32x4.dot_i16x8_s). */
static inline __attribute__((always_inline)) v128_t ninpriv_dot_i16x8(v128_t a, v128_t b) {
    return wasm_i32x4_dot_i16x8(a, b);
}

#ifdef __wasm_relaxed_simd__
/** Lane i: c[i] + the sum of w[4i+j] * x[4i+j] over j < 4, w int8 and x 7-bit (0 to 127; the
 *  result of a lane of x above 127 is the engine's choice): what i32x4.relaxed_dot_i8x16_i7x16_add_s
 *  defines, as i16x8.relaxed_dot_i8x16_i7x16_s, i32x4.extadd_pairwise_i16x8_s and i32x4.add (the
 *  same x86 instructions in V8: pmaddubsw, pmaddwd, paddd). Not the fused instruction: Node 20's
 *  V8 returns twice the dot product without c for it on x86-64 without AVX-VNNI (measured on Zen 3;
 *  Chromium 156 is right), and the i16x8 one is right in both. A pair of products fits int16 for
 *  7-bit x (127 x 128 x 2 < 32768), so the engine's choice of saturating or not never shows. */
static inline __attribute__((always_inline)) v128_t ninpriv_relaxed_dot_i8x16_i7x16_add(v128_t w, v128_t x, v128_t c) {
    return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(w, x)), c);
}
#endif

#endif
