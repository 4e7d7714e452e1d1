// The neondot family's peak loop (DotProductLoop): 12 independent int32x4 accumulators, one
// sdot each per round (16 MACs); the loop itself is generic over the dot instruction, and the
// i8mm family runs it with its own (PeakI8MM.swift).

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// sdot v.4s from registers only: 12 x 16 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopNEONDot() -> DotProductLoop {
    DotProductLoop(instruction: "sdot v.4s", macsPerRound: 12 * 16, run: { peakRoundsNEONDot($0) })
}

@inline(never)
func peakRoundsNEONDot(_ rounds: Int) -> Int { peakRoundsDot(rounds, instruction: SignedDotNEONDot.self) }

/// `rounds` rounds of 12 independent accumulators, one `D.dot` each (16 MACs): the dot
/// families' peak loop, generic over the instruction like their tiles.
@inlinable @inline(__always)
public func peakRoundsDot<D: QuadDotInstruction>(_ rounds: Int, instruction: D.Type) -> Int {
    let x = SIMD16<UInt8>(repeating: 1), w = SIMD16<Int8>(repeating: 1)
    var c0 = SIMD4<Int32>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for _ in 0..<rounds {
        c0 = D.dot(c0, w, x); c1 = D.dot(c1, w, x); c2 = D.dot(c2, w, x)
        c3 = D.dot(c3, w, x); c4 = D.dot(c4, w, x); c5 = D.dot(c5, w, x)
        c6 = D.dot(c6, w, x); c7 = D.dot(c7, w, x); c8 = D.dot(c8, w, x)
        c9 = D.dot(c9, w, x); c10 = D.dot(c10, w, x); c11 = D.dot(c11, w, x)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { $0 + Int($1.wrappedSum()) }
}
