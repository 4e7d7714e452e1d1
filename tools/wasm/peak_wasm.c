/* tools/wasm/peak_wasm.c - the wasmrelaxed kernels' inner step alone, for the peak rate a wasm
 * kernel of this shape can reach (tools/wasm/peak.mjs times it in Node, tools/wasm/peak.html in
 * Chromium; tools/wasm/peak_native.c is the same step on AVX2). One step, per pixel and per 4
 * channels: two quads' i16x8.relaxed_dot_i8x16_i7x16_s (pmaddubsw in V8), their int16 pair sums
 * added (i16x8.add), widened by i32x4.dot_i16x8_s with ones (pmaddwd) and added into an int32
 * accumulator (i32x4.add): 32 multiply-adds. Independent accumulators, data in L1 (each step's
 * weights and broadcast pixel quads loaded, as the tiles do). Built by tools/wasm/peak.sh. */
#include <stdint.h>
#include <wasm_simd128.h>

#define STEP(acc, w0, w1, x0, x1) \
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(w0, x0), \
                                                                   wasm_i16x8_relaxed_dot_i8x16_i7x16(w1, x1)), ones))

/* Three quads' pair sums added in int16, then widened once (4 multiplies per 48 multiply-adds). */
#define STEP3(acc, w0, w1, w2, x0, x1, x2) \
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_add(wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(w0, x0), \
                                                                   wasm_i16x8_relaxed_dot_i8x16_i7x16(w1, x1)), wasm_i16x8_relaxed_dot_i8x16_i7x16(w2, x2)), ones))
/* The 2 x 8 step of Tile2x16Wasm.swift's sums2x8: 2 pixels x 8 channels (2 vectors), two quads.
 * `pairs` quad pairs, `reps` times over them; returns a lane sum so nothing is dead. */
__attribute__((export_name("peak_2x8"))) int32_t peak_2x8(const uint8_t *x0p, const uint8_t *x1p, const int8_t *w, int pairs, int reps) {
    const v128_t ones = wasm_i16x8_splat(1);
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    for (int r = 0; r < reps; r++) {
        const v128_t *wv = (const v128_t *)w;
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < pairs; g++) {
            v128_t w0a = wv[0], w1a = wv[1], w0b = wv[2], w1b = wv[3];
            v128_t x0a = wasm_v128_load32_splat(a), x0b = wasm_v128_load32_splat(a + 4);
            v128_t x1a = wasm_v128_load32_splat(b), x1b = wasm_v128_load32_splat(b + 4);
            STEP(c00, w0a, w0b, x0a, x0b); STEP(c01, w1a, w1b, x0a, x0b);
            STEP(c10, w0a, w0b, x1a, x1b); STEP(c11, w1a, w1b, x1a, x1b);
            wv += 4; a += 8; b += 8;
        }
    }
    v128_t s = wasm_i32x4_add(wasm_i32x4_add(c00, c01), wasm_i32x4_add(c10, c11));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);
}

/* 4 pixels x 8 channels: each weight vector serves 4 pixels (8 accumulators). */
__attribute__((export_name("peak_4x8"))) int32_t peak_4x8(const uint8_t *x0p, const uint8_t *x1p, const int8_t *w, int pairs, int reps) {
    const v128_t ones = wasm_i16x8_splat(1);
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int r = 0; r < reps; r++) {
        const v128_t *wv = (const v128_t *)w;
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < pairs; g++) {
            v128_t w0a = wv[0], w1a = wv[1], w0b = wv[2], w1b = wv[3];
            v128_t xa = wasm_v128_load32_splat(a), xb = wasm_v128_load32_splat(a + 4);
            STEP(c00, w0a, w0b, xa, xb); STEP(c01, w1a, w1b, xa, xb);
            xa = wasm_v128_load32_splat(b); xb = wasm_v128_load32_splat(b + 4);
            STEP(c10, w0a, w0b, xa, xb); STEP(c11, w1a, w1b, xa, xb);
            xa = wasm_v128_load32_splat(a + 8 * pairs); xb = wasm_v128_load32_splat(a + 8 * pairs + 4);
            STEP(c20, w0a, w0b, xa, xb); STEP(c21, w1a, w1b, xa, xb);
            xa = wasm_v128_load32_splat(b + 8 * pairs); xb = wasm_v128_load32_splat(b + 8 * pairs + 4);
            STEP(c30, w0a, w0b, xa, xb); STEP(c31, w1a, w1b, xa, xb);
            wv += 4; a += 8; b += 8;
        }
    }
    v128_t s = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_add(c00, c01), wasm_i32x4_add(c10, c11)),
                              wasm_i32x4_add(wasm_i32x4_add(c20, c21), wasm_i32x4_add(c30, c31)));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);
}

/* 3 pixels x 8 channels: each weight vector serves 3 pixels (6 accumulators). */
__attribute__((export_name("peak_3x8"))) int32_t peak_3x8(const uint8_t *x0p, const uint8_t *x1p, const int8_t *w, int pairs, int reps) {
    const v128_t ones = wasm_i16x8_splat(1);
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    for (int r = 0; r < reps; r++) {
        const v128_t *wv = (const v128_t *)w;
        const uint8_t *a = x0p, *b = x1p, *c = x0p + 8 * pairs;
        for (int g = 0; g < pairs; g++) {
            v128_t w0a = wv[0], w1a = wv[1], w0b = wv[4], w1b = wv[5];
            v128_t xa = wasm_v128_load32_splat(a), xb = wasm_v128_load32_splat(a + 4);
            STEP(c00, w0a, w0b, xa, xb); STEP(c01, w1a, w1b, xa, xb);
            xa = wasm_v128_load32_splat(b); xb = wasm_v128_load32_splat(b + 4);
            STEP(c10, w0a, w0b, xa, xb); STEP(c11, w1a, w1b, xa, xb);
            xa = wasm_v128_load32_splat(c); xb = wasm_v128_load32_splat(c + 4);
            STEP(c20, w0a, w0b, xa, xb); STEP(c21, w1a, w1b, xa, xb);
            wv += 8; a += 8; b += 8; c += 8;
        }
    }
    v128_t s = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_add(c00, c01), wasm_i32x4_add(c10, c11)), wasm_i32x4_add(c20, c21));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);
}
/* 2 x 8 over three quads a widening (12 weight and pixel loads, 16 multiplies a step); `pairs`
 * still counts 8 K values (a multiple of 3 of them: pairs * 2 / 3 steps of 12). */
__attribute__((export_name("peak_2x8q3"))) int32_t peak_2x8q3(const uint8_t *x0p, const uint8_t *x1p, const int8_t *w, int pairs, int reps) {
    const v128_t ones = wasm_i16x8_splat(1);
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    int triples = pairs * 2 / 3;
    for (int r = 0; r < reps; r++) {
        const v128_t *wv = (const v128_t *)w;
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < triples; g++) {
            v128_t w0a = wv[0], w1a = wv[1], w0b = wv[4], w1b = wv[5], w0c = wv[8], w1c = wv[9];
            v128_t xa = wasm_v128_load32_splat(a), xb = wasm_v128_load32_splat(a + 4), xc = wasm_v128_load32_splat(a + 8);
            STEP3(c00, w0a, w0b, w0c, xa, xb, xc); STEP3(c01, w1a, w1b, w1c, xa, xb, xc);
            xa = wasm_v128_load32_splat(b); xb = wasm_v128_load32_splat(b + 4); xc = wasm_v128_load32_splat(b + 8);
            STEP3(c10, w0a, w0b, w0c, xa, xb, xc); STEP3(c11, w1a, w1b, w1c, xa, xb, xc);
            wv += 12; a += 12; b += 12;
        }
    }
    v128_t s = wasm_i32x4_add(wasm_i32x4_add(c00, c01), wasm_i32x4_add(c10, c11));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);
}
/* The multiplies alone: 8 accumulators, weights in registers, only the pixel quads loaded (the
 * rate the two vector-multiply pipes allow, 3 multiplies per 32 multiply-adds). */
__attribute__((export_name("peak_regs"))) int32_t peak_regs(const uint8_t *x0p, const uint8_t *x1p, const int8_t *w, int pairs, int reps) {
    const v128_t ones = wasm_i16x8_splat(1);
    const v128_t *wv = (const v128_t *)w;
    v128_t w0a = wv[0], w1a = wv[1], w0b = wv[2], w1b = wv[3];
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int r = 0; r < reps; r++) {
        const uint8_t *a = x0p, *b = x1p;
        for (int g = 0; g < pairs; g++) {
            v128_t xa = wasm_v128_load32_splat(a), xb = wasm_v128_load32_splat(a + 4);
            STEP(c00, w0a, w0b, xa, xb); STEP(c01, w1a, w1b, xa, xb);
            STEP(c20, w1a, w0b, xa, xb); STEP(c21, w0a, w1b, xa, xb);
            xa = wasm_v128_load32_splat(b); xb = wasm_v128_load32_splat(b + 4);
            STEP(c10, w0a, w0b, xa, xb); STEP(c11, w1a, w1b, xa, xb);
            STEP(c30, w1a, w0b, xa, xb); STEP(c31, w0a, w1b, xa, xb);
            a += 8; b += 8;
        }
    }
    v128_t s = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_add(c00, c01), wasm_i32x4_add(c10, c11)),
                              wasm_i32x4_add(wasm_i32x4_add(c20, c21), wasm_i32x4_add(c30, c31)));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 3);
}

/* A buffer for the data (the module has no allocator). */
static uint8_t buffer[65536] __attribute__((aligned(16)));
__attribute__((export_name("peak_buffer"))) uint8_t *peak_buffer(void) { return buffer; }
