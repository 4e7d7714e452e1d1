// The AVX-VNNI family's peak loop (DotProductLoop): 12 independent ymm accumulators, one VEX
// vpdpbusd each per round (32 MACs).

import _Builtin_intrinsics.intel
import NiNKernelCore

/// vpdpbusd ymm (VEX) from registers only: 12 x 32 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopAVXVNNI() -> DotProductLoop {
    DotProductLoop(instruction: "vpdpbusd ymm (VEX)", macsPerRound: 12 * 32,
                   run: { peakRoundsAVXVNNI($0) })
}

@inline(never)
func peakRoundsAVXVNNI(_ rounds: Int) -> Int {
    let ones = _mm256_set1_epi8(1)
    var c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for _ in 0..<rounds {
        c0 = _mm256_dpbusd_avx_epi32(c0, ones, ones); c1 = _mm256_dpbusd_avx_epi32(c1, ones, ones)
        c2 = _mm256_dpbusd_avx_epi32(c2, ones, ones); c3 = _mm256_dpbusd_avx_epi32(c3, ones, ones)
        c4 = _mm256_dpbusd_avx_epi32(c4, ones, ones); c5 = _mm256_dpbusd_avx_epi32(c5, ones, ones)
        c6 = _mm256_dpbusd_avx_epi32(c6, ones, ones); c7 = _mm256_dpbusd_avx_epi32(c7, ones, ones)
        c8 = _mm256_dpbusd_avx_epi32(c8, ones, ones); c9 = _mm256_dpbusd_avx_epi32(c9, ones, ones)
        c10 = _mm256_dpbusd_avx_epi32(c10, ones, ones); c11 = _mm256_dpbusd_avx_epi32(c11, ones, ones)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { sum, c in
        sum + Int(unsafeBitCast(c, to: SIMD8<Int32>.self).wrappedSum())
    }
}
