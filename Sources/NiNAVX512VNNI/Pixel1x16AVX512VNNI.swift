// The VNNI convolution's one-pixel kernel, 1 pixel x 16 channels, for the pixels at the end of
// a part that do not fill a tile: four zmm accumulators over interleaved K quads.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// One output pixel x 16 channels, for the last pixels of a part that do not fill a tile: four
/// accumulators over interleaved K quads (one would wait on vpdpbusd's latency), summed at the
/// end (int32 wrap-around is exact: the true sum fits); then requantized and stored. Per pixel
/// it costs about what a full tile does, so a part of 8n + 1 pixels no longer pays for 8n + 8.
@inline(__always)
func pixel1x16AVX512VNNI(_ a: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                       bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                       channels: Int) {
    guard channels > 0 else { return }
    let all: __mmask16 = 0xFFFF
    var s0 = _mm512_loadu_si512(UnsafeRawPointer(bias))
    var s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512(), s3 = _mm512_setzero_si512()
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = UnsafeRawPointer(a) + 4 &* start
        var left = taps.length
        @inline(__always) func quad(_ i: Int) -> (__m512i, __m512i) {
            (_mm512_set1_epi32(x.loadUnaligned(fromByteOffset: 4 &* i, as: Int32.self)), _mm512_loadu_si512(w + 64 &* i))
        }
        while left >= 4 {
            let (x0, w0) = quad(0), (x1, w1) = quad(1), (x2, w2) = quad(2), (x3, w3) = quad(3)
            s0 = _mm512_mask_dpbusd_epi32(s0, all, x0, w0); s1 = _mm512_mask_dpbusd_epi32(s1, all, x1, w1)
            s2 = _mm512_mask_dpbusd_epi32(s2, all, x2, w2); s3 = _mm512_mask_dpbusd_epi32(s3, all, x3, w3)
            w += 256; x += 16; left &-= 4
        }
        while left > 0 {
            let (x0, w0) = quad(0)
            s0 = _mm512_mask_dpbusd_epi32(s0, all, x0, w0)
            w += 64; x += 4; left &-= 1
        }
    }
    let sum = _mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3))
    storeBytes(requantize16(sum, requant, requantPath(requant)), output, channels)
}
