// The VNNI convolution's microkernel for a last odd block of 16 channels: 16 pixels x 16
// channels, one zmm of weights per K quad, 16 zmm accumulators.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Sixteen output pixels x 16 channels: one zmm of weights per K quad (16 channels x 4), a
/// broadcast quad of each pixel, vpdpbusd into 16 zmm accumulators; then requantized and stored.
/// On Zen 4 a zmm vpdpbusd does the work of two ymm ones in one issue slot, so the loop issues
/// half the instructions of an 8 x 16 ymm tile.
@inline(__always)
func tile16x16AVX512VNNI(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                       bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int,
                       channels: Int) {
    let b = _mm512_loadu_si512(UnsafeRawPointer(bias))
    var c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b
    var c8 = b, c9 = b, c10 = b, c11 = b, c12 = b, c13 = b, c14 = b, c15 = b
    let row = UnsafeRawPointer(a)
    let all: __mmask16 = 0xFFFF
    for start in taps.runStarts {
      var w = UnsafeRawPointer(weights) + 64 &* start
      var quad = row + 4 &* start
      let end = w + 64 &* taps.length
      while w < end {
        let v = _mm512_loadu_si512(w)
        w += 64
        let pixels = quad
        quad += 4
        @inline(__always) func x(_ r: Int) -> __m512i {
            _mm512_set1_epi32(pixels.loadUnaligned(fromByteOffset: r &* kPadded, as: Int32.self))
        }
        c0 = _mm512_mask_dpbusd_epi32(c0, all, x(0), v); c1 = _mm512_mask_dpbusd_epi32(c1, all, x(1), v)
        c2 = _mm512_mask_dpbusd_epi32(c2, all, x(2), v); c3 = _mm512_mask_dpbusd_epi32(c3, all, x(3), v)
        c4 = _mm512_mask_dpbusd_epi32(c4, all, x(4), v); c5 = _mm512_mask_dpbusd_epi32(c5, all, x(5), v)
        c6 = _mm512_mask_dpbusd_epi32(c6, all, x(6), v); c7 = _mm512_mask_dpbusd_epi32(c7, all, x(7), v)
        c8 = _mm512_mask_dpbusd_epi32(c8, all, x(8), v); c9 = _mm512_mask_dpbusd_epi32(c9, all, x(9), v)
        c10 = _mm512_mask_dpbusd_epi32(c10, all, x(10), v); c11 = _mm512_mask_dpbusd_epi32(c11, all, x(11), v)
        c12 = _mm512_mask_dpbusd_epi32(c12, all, x(12), v); c13 = _mm512_mask_dpbusd_epi32(c13, all, x(13), v)
        c14 = _mm512_mask_dpbusd_epi32(c14, all, x(14), v); c15 = _mm512_mask_dpbusd_epi32(c15, all, x(15), v)
      }
    }
    let path = requantPath(requant)
    @inline(__always) func storeRow(_ r: Int, _ acc: __m512i) {
        storeBytes(requantize16(acc, requant, path), output.row(r) + channel, channels)
    }
    storeRow(0, c0); storeRow(1, c1); storeRow(2, c2); storeRow(3, c3)
    storeRow(4, c4); storeRow(5, c5); storeRow(6, c6); storeRow(7, c7)
    storeRow(8, c8); storeRow(9, c9); storeRow(10, c10); storeRow(11, c11)
    storeRow(12, c12); storeRow(13, c13); storeRow(14, c14); storeRow(15, c15)
}
