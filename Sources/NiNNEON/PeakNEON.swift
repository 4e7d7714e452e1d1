// The neon family's peak loop (DotProductLoop): 12 independent int32x4 accumulators, each fed
// per round by the tile's instruction group: smull + smlal (16 s8 products into int16) and
// sadalp (into int32), 16 MACs.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// smull + smlal + sadalp from registers only: 12 x 16 MACs per round.
@export(interface)  // compiled only here (Embedded: not into callers)
public func peakLoopNEON() -> DotProductLoop {
    DotProductLoop(instruction: "smull+smlal+sadalp", macsPerRound: 12 * 16, run: { peakRoundsNEON($0) })
}

@inline(never)
func peakRoundsNEON(_ rounds: Int) -> Int {
    let ones = SIMD8<Int8>(repeating: 1)
    @inline(__always) func step(_ acc: SIMD4<Int32>) -> SIMD4<Int32> {
        vpadalq_s16(acc, vmlal_s8(vmull_s8(ones, ones), ones, ones))
    }
    var c0 = SIMD4<Int32>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for _ in 0..<rounds {
        c0 = step(c0); c1 = step(c1); c2 = step(c2); c3 = step(c3); c4 = step(c4); c5 = step(c5)
        c6 = step(c6); c7 = step(c7); c8 = step(c8); c9 = step(c9); c10 = step(c10); c11 = step(c11)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { $0 + Int($1.wrappedSum()) }
}
