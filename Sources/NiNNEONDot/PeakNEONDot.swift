// The neondot family's peak loop (DotProductLoop): 12 independent int32x4 accumulators, one
// sdot each per round (16 MACs).

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// sdot v.4s from registers only: 12 x 16 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopNEONDot() -> DotProductLoop {
    DotProductLoop(instruction: "sdot v.4s", macsPerRound: 12 * 16, run: { peakRoundsNEONDot($0) })
}

@inline(never)
func peakRoundsNEONDot(_ rounds: Int) -> Int {
    let ones = SIMD16<Int8>(repeating: 1)
    var c0 = SIMD4<Int32>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for _ in 0..<rounds {
        c0 = vdotq_s32(c0, ones, ones); c1 = vdotq_s32(c1, ones, ones); c2 = vdotq_s32(c2, ones, ones)
        c3 = vdotq_s32(c3, ones, ones); c4 = vdotq_s32(c4, ones, ones); c5 = vdotq_s32(c5, ones, ones)
        c6 = vdotq_s32(c6, ones, ones); c7 = vdotq_s32(c7, ones, ones); c8 = vdotq_s32(c8, ones, ones)
        c9 = vdotq_s32(c9, ones, ones); c10 = vdotq_s32(c10, ones, ones); c11 = vdotq_s32(c11, ones, ones)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { $0 + Int($1.wrappedSum()) }
}
