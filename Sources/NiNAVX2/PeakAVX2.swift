// The AVX2 family's peak loop (DotProductLoop): its fastest u8 x s8 step without VNNI, the
// `.quadPairs` one of TilesMaddubsAVX2.swift: two vpmaddubsw (two products per int16 each)
// summed by vpaddw, then vpmaddwd by ones (to int32) and vpaddd, on 8 independent ymm
// accumulators: 64 MACs per accumulator per round. vpmaddubsw has no accumulator operand, so
// its u8 operands are loaded from L1 (a 4 KiB table of ones, different rows per accumulator
// and round) as the family's kernels load their pixels: with register operands the compiler
// would hoist the products out of the loop.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// 2 vpmaddubsw + vpaddw + vpmaddwd + vpaddd on ymm, two L1 loads: 8 x 64 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopAVX2() -> DotProductLoop {
    DotProductLoop(instruction: "2 vpmaddubsw+vpaddw+vpmaddwd+vpaddd ymm", macsPerRound: 8 * 64,
                   run: { peakRoundsAVX2($0) })
}

@inline(never)
func peakRoundsAVX2(_ rounds: Int) -> Int {
    let bytes = 8 * 16 * 32  // 8 rounds x 16 operands, 32 bytes each
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes) { table in
        fillWithOnes(table)
        let base = UnsafeRawPointer(table.baseAddress!)
        let weights = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1)
        var c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
        for r in 0..<rounds {
            let row = base + (r & 7) &* 512
            @inline(__always) func x(_ i: Int) -> __m256i {
                _mm256_loadu_si256((row + 32 &* i).assumingMemoryBound(to: __m256i.self))
            }
            @inline(__always) func step(_ c: __m256i, _ i: Int) -> __m256i {
                let pairs = _mm256_add_epi16(_mm256_maddubs_epi16(x(2 &* i), weights), _mm256_maddubs_epi16(x(2 &* i &+ 1), weights))
                return _mm256_add_epi32(c, _mm256_madd_epi16(pairs, ones16))
            }
            c0 = step(c0, 0); c1 = step(c1, 1); c2 = step(c2, 2); c3 = step(c3, 3)
            c4 = step(c4, 4); c5 = step(c5, 5); c6 = step(c6, 6); c7 = step(c7, 7)
        }
        return [c0, c1, c2, c3, c4, c5, c6, c7].reduce(0) { sum, c in
            sum + Int(unsafeBitCast(c, to: SIMD8<Int32>.self).wrappedSum())
        }
    }
}

/// Sets every byte to 1, out of line: with the table's contents unknown at the loop, the
/// compiler cannot fold its loads into constants.
@inline(never)
func fillWithOnes(_ table: UnsafeMutableBufferPointer<UInt8>) {
    table.initialize(repeating: 1)
}
