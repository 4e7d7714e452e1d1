// The neon family's peak loop (DotProductLoop): 12 independent int32x4 accumulators, each fed
// per round by the tile's instruction group: smull + smlal (16 s8 products into int16) and
// sadalp (into int32), 16 MACs. Constant operands would let the compiler fold the products
// (smull of two known vectors is a constant), so each accumulator's operands are loaded, as
// the tile's weights are, from a 256-byte table of ones in L1 that it reaches through an
// opaque pointer, a different row per accumulator and round.

import _Builtin_intrinsics.arm.neon
import NiNCPU
import NiNKernelCore

/// smull + smlal + sadalp on operands from L1: 12 x 16 MACs per round.
@export(interface)  // compiled only here (Embedded: not into callers)
public func peakLoopNEON() -> DotProductLoop {
    DotProductLoop(instruction: "smull+smlal+sadalp", macsPerRound: 12 * 16, run: { peakRoundsNEON($0) })
}

@inline(never)
func peakRoundsNEON(_ rounds: Int) -> Int {
    let table = UnsafeMutableRawPointer.allocate(byteCount: 16 * 16, alignment: 16)
    defer { table.deallocate() }
    table.initializeMemory(as: Int8.self, repeating: 1, count: 16 * 16)
    let base = ninpriv_opaque_pointer(UnsafeRawPointer(table))!
    var c0 = SIMD4<Int32>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
    var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    for r in 0..<rounds {
        @inline(__always) func step(_ acc: SIMD4<Int32>, _ i: Int) -> SIMD4<Int32> {
            let v = (base + ((r &+ i) & 15) &* 16).loadUnaligned(as: SIMD16<Int8>.self)
            let a = vget_low_s8(v), b = vget_high_s8(v)
            return vpadalq_s16(acc, vmlal_s8(vmull_s8(a, b), b, a))
        }
        c0 = step(c0, 0); c1 = step(c1, 1); c2 = step(c2, 2); c3 = step(c3, 3); c4 = step(c4, 4); c5 = step(c5, 5)
        c6 = step(c6, 6); c7 = step(c7, 7); c8 = step(c8, 8); c9 = step(c9, 9); c10 = step(c10, 10); c11 = step(c11, 11)
    }
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].reduce(0) { $0 + Int($1.wrappedSum()) }
}
