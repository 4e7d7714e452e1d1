// The VNNI convolution's main microkernel: 8 pixels x 32 channels (two packed 16-channel blocks
// side by side), two zmm of weights and 8 pixel broadcasts per K quad, 16 zmm accumulators.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Eight output pixels x 32 channels (two 16-channel blocks, read side by side from their packed
/// places): two zmm of weights and eight broadcast pixel quads per K quad feed 16 vpdpbusd, so
/// the loop loads 10 times per 16 instead of the 17 of the 16 x 16 tile.
@inline(__always)
func tile8x32AVX512VNNI(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                      kQuads: Int, bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                      channel: Int, channels: Int) {
    let b0 = _mm512_loadu_si512(UnsafeRawPointer(bias)), b1 = _mm512_loadu_si512(UnsafeRawPointer(bias + 16))
    var c0 = b0, c1 = b1, c2 = b0, c3 = b1, c4 = b0, c5 = b1, c6 = b0, c7 = b1
    var c8 = b0, c9 = b1, c10 = b0, c11 = b1, c12 = b0, c13 = b1, c14 = b0, c15 = b1
    let row = UnsafeRawPointer(a)
    let second = kQuads * 64  // the next block's weights
    let all: __mmask16 = 0xFFFF
    for start in taps.runStarts {
      var w0 = UnsafeRawPointer(weights) + 64 &* start
      var quad = row + 4 &* start
      let end = w0 + 64 &* taps.length
      while w0 < end {
        let v0 = _mm512_loadu_si512(w0), v1 = _mm512_loadu_si512(w0 + second)
        w0 += 64
        let pixels = quad
        quad += 4
        @inline(__always) func x(_ r: Int) -> __m512i {
            _mm512_set1_epi32(pixels.loadUnaligned(fromByteOffset: r &* kPadded, as: Int32.self))
        }
        let x0 = x(0), x1 = x(1), x2 = x(2), x3 = x(3)
        c0 = _mm512_mask_dpbusd_epi32(c0, all, x0, v0); c1 = _mm512_mask_dpbusd_epi32(c1, all, x0, v1)
        c2 = _mm512_mask_dpbusd_epi32(c2, all, x1, v0); c3 = _mm512_mask_dpbusd_epi32(c3, all, x1, v1)
        c4 = _mm512_mask_dpbusd_epi32(c4, all, x2, v0); c5 = _mm512_mask_dpbusd_epi32(c5, all, x2, v1)
        c6 = _mm512_mask_dpbusd_epi32(c6, all, x3, v0); c7 = _mm512_mask_dpbusd_epi32(c7, all, x3, v1)
        let x4 = x(4), x5 = x(5), x6 = x(6), x7 = x(7)
        c8 = _mm512_mask_dpbusd_epi32(c8, all, x4, v0); c9 = _mm512_mask_dpbusd_epi32(c9, all, x4, v1)
        c10 = _mm512_mask_dpbusd_epi32(c10, all, x5, v0); c11 = _mm512_mask_dpbusd_epi32(c11, all, x5, v1)
        c12 = _mm512_mask_dpbusd_epi32(c12, all, x6, v0); c13 = _mm512_mask_dpbusd_epi32(c13, all, x6, v1)
        c14 = _mm512_mask_dpbusd_epi32(c14, all, x7, v0); c15 = _mm512_mask_dpbusd_epi32(c15, all, x7, v1)
      }
    }
    let requant1 = requant + RequantBlock.bytes
    let path = requantPath(requant)
    let low = min(channels, 16), high = channels - low
    @inline(__always) func storeRow(_ r: Int, _ first: __m512i, _ second: __m512i) {
        let o = output.row(r) + channel
        storeBytes(requantize16(first, requant, path), o, low)
        if high > 0 { storeBytes(requantize16(second, requant1, path), o + 16, high) }
    }
    storeRow(0, c0, c1); storeRow(1, c2, c3); storeRow(2, c4, c5); storeRow(3, c6, c7)
    storeRow(4, c8, c9); storeRow(5, c10, c11); storeRow(6, c12, c13); storeRow(7, c14, c15)
}
