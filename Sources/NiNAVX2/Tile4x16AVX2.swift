// The AVX2 convolution's microkernel: 4 output pixels x 16 channels, a GEMM tile on vpmaddwd
// (exact: s16 x s16 pair sums into s32 cannot saturate for |x - z| <= 255 and |w| <= 127) over
// the K pairs its taps reach, 8 ymm accumulators; then requantized and stored.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// The AVX2 family's microkernel for the shared int16-pair driver.
enum Tile4x16AVX2: Int16PairTile {
    static var pixels: Int { 4 }

    @inline(__always)
    static func compute(_ t: Int16PairTileArguments) { tile4x16(t) }
}

/// Four output pixels x 16 channels: int32 accumulators over the K pairs of `taps`, then
/// requantized and stored at their rows of `output`.
@inline(__always)
func tile4x16(_ t: Int16PairTileArguments) {
    let a = t.a, kPadded = t.kPadded, taps = t.taps, weights = t.weights, bias = t.bias
    let requant = t.requant, output = t.output, rows = t.rows, channels = t.channels
    let biasLo = _mm256_loadu_si256(UnsafeRawPointer(bias).assumingMemoryBound(to: __m256i.self))
    let biasHi = _mm256_loadu_si256(UnsafeRawPointer(bias + 8).assumingMemoryBound(to: __m256i.self))
    var c00 = biasLo, c01 = biasHi, c10 = biasLo, c11 = biasHi
    var c20 = biasLo, c21 = biasHi, c30 = biasLo, c31 = biasHi
    let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + kPadded)
    let a2 = UnsafeRawPointer(a + 2 * kPadded), a3 = UnsafeRawPointer(a + 3 * kPadded)
    for start in taps.runStarts {
      var b = UnsafeRawPointer(weights) + 64 &* start
      for p in start..<(start &+ taps.length) {
        let b0 = _mm256_loadu_si256(b.assumingMemoryBound(to: __m256i.self))
        let b1 = _mm256_loadu_si256((b + 32).assumingMemoryBound(to: __m256i.self))
        b += 64
        let offset = 4 * p
        let x0 = _mm256_set1_epi32(a0.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x0, b0))
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x0, b1))
        let x1 = _mm256_set1_epi32(a1.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x1, b0))
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x1, b1))
        let x2 = _mm256_set1_epi32(a2.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x2, b0))
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x2, b1))
        let x3 = _mm256_set1_epi32(a3.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x3, b0))
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x3, b1))
      }
    }
    store(requantize16(c00, c01, requant), output.row(0), channels)
    if rows > 1 { store(requantize16(c10, c11, requant), output.row(1), channels) }
    if rows > 2 { store(requantize16(c20, c21, requant), output.row(2), channels) }
    if rows > 3 { store(requantize16(c30, c31, requant), output.row(3), channels) }
}
