/* ninpriv_wasm_simd.h - the SIMD128 instructions the wasm families use that plain Swift SIMD
 * does not lower to (internal): i32x4.dot_i16x8_s, two int16 products summed per int32 lane
 * (wasmsimd), the requantization's conversion and narrowing (both); with -mrelaxed-simd, i32x4.relaxed_dot_i8x16_i7x16_add_s and its int16 half,
 * i16x8.relaxed_dot_i8x16_i7x16_s (wasmrelaxed). */
#ifndef NINPRIV_WASM_SIMD_H
#define NINPRIV_WASM_SIMD_H

#include <wasm_simd128.h>

/** Lane i: a[2i] * b[2i] + a[2i+1] * b[2i+1], the int16 lanes of a and b (i32x4.dot_i16x8_s). */
static inline __attribute__((always_inline)) v128_t ninpriv_dot_i16x8(v128_t a, v128_t b) {
    return wasm_i32x4_dot_i16x8(a, b);
}

/** Four accumulators requantized as RequantizePortable.swift's requantize4 does (bit-exact with the
 *  reference, docs/QUANTIZATION.md): float32 (f32x4.convert_i32x4_s) times the scale, clamped to
 *  [low, high] (f32x4.pmax/pmin: one maxps/minps each; no NaN reaches them), rounded half to even
 *  by adding 1.5 x 2^23, plus the zero point. Each pointer: the block's table, at the 4 lanes.
 *  Plain Swift lowers the conversion to 4 scalar ones on wasm32. */
static inline __attribute__((always_inline)) v128_t ninpriv_requantize4(v128_t acc, const void *scale, const void *low,
                                                                         const void *high, const void *zero_point) {
    v128_t scaled = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), wasm_v128_load(scale));
    scaled = wasm_f32x4_pmin(wasm_f32x4_pmax(scaled, wasm_v128_load(low)), wasm_v128_load(high));
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
    return wasm_i32x4_add(wasm_i32x4_sub(wasm_f32x4_add(scaled, magic), magic), wasm_v128_load(zero_point));
}

/** 16 requantized values (each 0 to 255) as bytes, in order (two saturating narrowings, exact here). */
static inline __attribute__((always_inline)) v128_t ninpriv_narrow_to_bytes(v128_t v0, v128_t v1, v128_t v2, v128_t v3) {
    return wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(v0, v1), wasm_i16x8_narrow_i32x4(v2, v3));
}

/** Lane i: the sum of the bytes 4i to 4i + 3 of v, unsigned (two pairwise widening adds). */
static inline __attribute__((always_inline)) v128_t ninpriv_sum_u8x16(v128_t v) {
    return wasm_i32x4_extadd_pairwise_i16x8(wasm_u16x8_extadd_pairwise_u8x16(v));
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

/** Lane i (int16): w[2i] * x[2i] + w[2i+1] * x[2i+1], w int8 and x 7-bit (0 to 127), so it fits
 *  int16 and no engine saturates it (i16x8.relaxed_dot_i8x16_i7x16_s; pmaddubsw in V8 on x86). */
static inline __attribute__((always_inline)) v128_t ninpriv_relaxed_dot_i8x16_i7x16(v128_t w, v128_t x) {
    return wasm_i16x8_relaxed_dot_i8x16_i7x16(w, x);
}

/** The int16 lanes of a and b added, wrapping (i16x8.add). */
static inline __attribute__((always_inline)) v128_t ninpriv_add_i16x8(v128_t a, v128_t b) {
    return wasm_i16x8_add(a, b);
}
#endif

#endif
