/* ninpriv_wasm_simd.h - the SIMD128 instructions the wasmsimd family uses that plain Swift SIMD
 * does not lower to (internal): i32x4.dot_i16x8_s, two int16 products summed per int32 lane. */
#ifndef NINPRIV_WASM_SIMD_H
#define NINPRIV_WASM_SIMD_H

#include <wasm_simd128.h>

/** Lane i: a[2i] * b[2i] + a[2i+1] * b[2i+1], the int16 lanes of a and b (i32x4.dot_i16x8_s). */
static inline __attribute__((always_inline)) v128_t ninpriv_dot_i16x8(v128_t a, v128_t b) {
    return wasm_i32x4_dot_i16x8(a, b);
}

#endif
