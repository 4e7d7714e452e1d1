// The i8mm family's peak loop (DotProductLoop): 12 independent int32x4 accumulators, one usdot
// each per round (16 MACs).

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// usdot v.4s from registers only: 12 x 16 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopI8MM() -> DotProductLoop {
    DotProductLoop(instruction: "usdot v.4s", macsPerRound: 12 * 16, run: { peakRoundsI8MM($0) })
}

@inline(never)
func peakRoundsI8MM(_ rounds: Int) -> Int {
    let x = SIMD16<UInt8>(repeating: 1), w = SIMD16<Int8>(repeating: 1)
    var c0 = SIMD4<Int32>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for _ in 0..<rounds {
        c0 = vusdotq_s32(c0, x, w); c1 = vusdotq_s32(c1, x, w); c2 = vusdotq_s32(c2, x, w)
        c3 = vusdotq_s32(c3, x, w); c4 = vusdotq_s32(c4, x, w); c5 = vusdotq_s32(c5, x, w)
        c6 = vusdotq_s32(c6, x, w); c7 = vusdotq_s32(c7, x, w); c8 = vusdotq_s32(c8, x, w)
        c9 = vusdotq_s32(c9, x, w); c10 = vusdotq_s32(c10, x, w); c11 = vusdotq_s32(c11, x, w)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { $0 + Int($1.wrappedSum()) }
}
