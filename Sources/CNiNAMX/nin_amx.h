/* nin_amx.h - the AMX instructions nin uses, one static inline wrapper per operation and tile
 * number (the intrinsics take their tile numbers as immediates, and Swift imports neither the
 * _tile_* macros nor __tile1024i): ldtilecfg, tilezero, tileloadd, tdpbusd, tilestored,
 * tilerelease. They are the instruction set, as _Builtin_intrinsics.intel is for AVX: the tiling,
 * packing, im2col, requantization and scheduling are Swift (Sources/NiNAMX). Compiled only into
 * a target built with -mamx-tile -mamx-int8, and called only where the CPU probe
 * (ninpriv_cpu_has_amx) said yes. One fixed pattern: tiles 0-3 are the
 * int32 accumulators C, 4-5 the u8 activations A, 6-7 the s8 weights B; tdpbusd is wrapped for
 * C[2a + b] += A[4 + a] x B[6 + b] (a, b in {0, 1}), the 2 x 2 blocking of ConvolutionAMX.swift. */
#ifndef NIN_AMX_H
#define NIN_AMX_H

#if defined(__x86_64__)
#include <immintrin.h>

/* Each wrapper carries the AMX target features itself (as the intrinsics of immintrin.h do), so
 * the header declares the same functions in every module that imports it: the Embedded build's
 * engine module reads NiNAMX's serialized code without AMX flags of its own. */
#define NIN_AMX_FUNCTION static inline __attribute__((target("amx-tile,amx-int8")))

/** ldtilecfg: loads the 64-byte tile configuration at `config` (palette 1: rows and bytes per row of each tile); zeroes every tile. */
NIN_AMX_FUNCTION void nin_amx_ldtilecfg(const void *config) { _tile_loadconfig(config); }

/** tilerelease: returns the tiles to their initial state (unconfigured). */
NIN_AMX_FUNCTION void nin_amx_tilerelease(void) { _tile_release(); }

/** tilezero tmm0. */
NIN_AMX_FUNCTION void nin_amx_tilezero_0(void) { _tile_zero(0); }
/** tileloadd tmm0: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_0(const void *base, long stride) { _tile_loadd(0, base, stride); }
/** tilestored tmm0: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_0(void *base, long stride) { _tile_stored(0, base, stride); }
/** tilezero tmm1. */
NIN_AMX_FUNCTION void nin_amx_tilezero_1(void) { _tile_zero(1); }
/** tileloadd tmm1: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_1(const void *base, long stride) { _tile_loadd(1, base, stride); }
/** tilestored tmm1: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_1(void *base, long stride) { _tile_stored(1, base, stride); }
/** tilezero tmm2. */
NIN_AMX_FUNCTION void nin_amx_tilezero_2(void) { _tile_zero(2); }
/** tileloadd tmm2: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_2(const void *base, long stride) { _tile_loadd(2, base, stride); }
/** tilestored tmm2: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_2(void *base, long stride) { _tile_stored(2, base, stride); }
/** tilezero tmm3. */
NIN_AMX_FUNCTION void nin_amx_tilezero_3(void) { _tile_zero(3); }
/** tileloadd tmm3: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_3(const void *base, long stride) { _tile_loadd(3, base, stride); }
/** tilestored tmm3: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_3(void *base, long stride) { _tile_stored(3, base, stride); }
/** tilezero tmm4. */
NIN_AMX_FUNCTION void nin_amx_tilezero_4(void) { _tile_zero(4); }
/** tileloadd tmm4: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_4(const void *base, long stride) { _tile_loadd(4, base, stride); }
/** tilestored tmm4: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_4(void *base, long stride) { _tile_stored(4, base, stride); }
/** tilezero tmm5. */
NIN_AMX_FUNCTION void nin_amx_tilezero_5(void) { _tile_zero(5); }
/** tileloadd tmm5: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_5(const void *base, long stride) { _tile_loadd(5, base, stride); }
/** tilestored tmm5: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_5(void *base, long stride) { _tile_stored(5, base, stride); }
/** tilezero tmm6. */
NIN_AMX_FUNCTION void nin_amx_tilezero_6(void) { _tile_zero(6); }
/** tileloadd tmm6: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_6(const void *base, long stride) { _tile_loadd(6, base, stride); }
/** tilestored tmm6: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_6(void *base, long stride) { _tile_stored(6, base, stride); }
/** tilezero tmm7. */
NIN_AMX_FUNCTION void nin_amx_tilezero_7(void) { _tile_zero(7); }
/** tileloadd tmm7: its configured rows, each of its configured bytes, `stride` bytes apart from `base`. */
NIN_AMX_FUNCTION void nin_amx_tileloadd_7(const void *base, long stride) { _tile_loadd(7, base, stride); }
/** tilestored tmm7: its configured rows to `base`, `stride` bytes apart. */
NIN_AMX_FUNCTION void nin_amx_tilestored_7(void *base, long stride) { _tile_stored(7, base, stride); }
/** tdpbusd tmm0, tmm4, tmm6: tmm0.dword[m][n] += sum over k of u8 tmm4[m][k] x s8 tmm6[k / 4][n][k % 4] (wrapping int32). */
NIN_AMX_FUNCTION void nin_amx_tdpbusd_0_4_6(void) { _tile_dpbusd(0, 4, 6); }
/** tdpbusd tmm1, tmm4, tmm7: tmm1.dword[m][n] += sum over k of u8 tmm4[m][k] x s8 tmm7[k / 4][n][k % 4] (wrapping int32). */
NIN_AMX_FUNCTION void nin_amx_tdpbusd_1_4_7(void) { _tile_dpbusd(1, 4, 7); }
/** tdpbusd tmm2, tmm5, tmm6: tmm2.dword[m][n] += sum over k of u8 tmm5[m][k] x s8 tmm6[k / 4][n][k % 4] (wrapping int32). */
NIN_AMX_FUNCTION void nin_amx_tdpbusd_2_5_6(void) { _tile_dpbusd(2, 5, 6); }
/** tdpbusd tmm3, tmm5, tmm7: tmm3.dword[m][n] += sum over k of u8 tmm5[m][k] x s8 tmm7[k / 4][n][k % 4] (wrapping int32). */
NIN_AMX_FUNCTION void nin_amx_tdpbusd_3_5_7(void) { _tile_dpbusd(3, 5, 7); }

#endif
#endif
