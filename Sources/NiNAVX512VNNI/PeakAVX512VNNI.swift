// The AVX-512 VNNI family's peak loop (DotProductLoop): 12 independent zmm accumulators, one
// vpdpbusd each per round (64 MACs), as many as the family's 16x16 tile keeps in flight with
// room for vpdpbusd's latency on every CPU seen (Zen 4, Sapphire Rapids).

import _Builtin_intrinsics.intel
import NiNKernelCore

/// vpdpbusd zmm from registers only: 12 x 64 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopAVX512VNNI() -> DotProductLoop {
    DotProductLoop(instruction: "vpdpbusd zmm", macsPerRound: 12 * 64,
                   run: { peakRoundsAVX512VNNI($0) })
}

@inline(never)
func peakRoundsAVX512VNNI(_ rounds: Int) -> Int {
    let ones = _mm512_set1_epi8(1), all: __mmask16 = 0xFFFF
    var c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for _ in 0..<rounds {
        c0 = _mm512_mask_dpbusd_epi32(c0, all, ones, ones); c1 = _mm512_mask_dpbusd_epi32(c1, all, ones, ones)
        c2 = _mm512_mask_dpbusd_epi32(c2, all, ones, ones); c3 = _mm512_mask_dpbusd_epi32(c3, all, ones, ones)
        c4 = _mm512_mask_dpbusd_epi32(c4, all, ones, ones); c5 = _mm512_mask_dpbusd_epi32(c5, all, ones, ones)
        c6 = _mm512_mask_dpbusd_epi32(c6, all, ones, ones); c7 = _mm512_mask_dpbusd_epi32(c7, all, ones, ones)
        c8 = _mm512_mask_dpbusd_epi32(c8, all, ones, ones); c9 = _mm512_mask_dpbusd_epi32(c9, all, ones, ones)
        c10 = _mm512_mask_dpbusd_epi32(c10, all, ones, ones); c11 = _mm512_mask_dpbusd_epi32(c11, all, ones, ones)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { sum, c in
        sum + Int(unsafeBitCast(c, to: SIMD16<Int32>.self).wrappedSum())
    }
}
