// The AVX-VNNI microkernels: 6 output pixels x 16 channels (12 ymm accumulators, 2 weight
// vectors and a broadcast per K quad), and 1 x 16 for a part's last pixels.

import _Builtin_intrinsics.intel
import NiNAVX2
import NiNKernelCore

/// 32 bytes at `p`.
@inline(__always)
private func load(_ p: UnsafeRawPointer) -> __m256i { _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self)) }

/// The 4 input bytes at `p` in every dword.
@inline(__always)
private func broadcast(_ p: UnsafeRawPointer) -> __m256i { _mm256_set1_epi32(p.loadUnaligned(as: Int32.self)) }

/// `acc + x . w` per int32 lane (four u8 x s8 products, exact).
@inline(__always)
private func dot(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i { _mm256_dpbusd_avx_epi32(acc, x, w) }

/// Six output pixels x 16 channels (`channels` real) over the K quads of `taps`, then
/// requantized and stored at the pixels' rows of `output`, from `channel`.
@inline(__always)
func tile6x16AVXVNNI(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                     bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int,
                     channels: Int) {
    let lo = load(UnsafeRawPointer(bias)), hi = load(UnsafeRawPointer(bias + 8))
    var c00 = lo, c01 = hi, c10 = lo, c11 = hi, c20 = lo, c21 = hi
    var c30 = lo, c31 = hi, c40 = lo, c41 = hi, c50 = lo, c51 = hi
    let r0 = UnsafeRawPointer(a)
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = r0 + 4 &* start
        let end = x + 4 &* taps.length
        while x < end {
            let w0 = load(w), w1 = load(w + 32)
            var p = broadcast(x)
            c00 = dot(c00, p, w0); c01 = dot(c01, p, w1)
            p = broadcast(x + kPadded)
            c10 = dot(c10, p, w0); c11 = dot(c11, p, w1)
            p = broadcast(x + 2 &* kPadded)
            c20 = dot(c20, p, w0); c21 = dot(c21, p, w1)
            p = broadcast(x + 3 &* kPadded)
            c30 = dot(c30, p, w0); c31 = dot(c31, p, w1)
            p = broadcast(x + 4 &* kPadded)
            c40 = dot(c40, p, w0); c41 = dot(c41, p, w1)
            p = broadcast(x + 5 &* kPadded)
            c50 = dot(c50, p, w0); c51 = dot(c51, p, w1)
            w += 64; x += 4
        }
    }
    store(requantize16(c00, c01, requant), output.row(0) + channel, channels)
    store(requantize16(c10, c11, requant), output.row(1) + channel, channels)
    store(requantize16(c20, c21, requant), output.row(2) + channel, channels)
    store(requantize16(c30, c31, requant), output.row(3) + channel, channels)
    store(requantize16(c40, c41, requant), output.row(4) + channel, channels)
    store(requantize16(c50, c51, requant), output.row(5) + channel, channels)
}

/// One output pixel x 16 channels (`channels` real, 0 stores nothing): two accumulator pairs
/// over alternate quads (one pair would wait on vpdpbusd's latency), summed at the end (int32
/// wrap-around is exact: the true sum fits); then requantized and stored.
@inline(__always)
func pixel1x16AVXVNNI(_ a: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                      channels: Int) {
    guard channels > 0 else { return }
    var s0 = load(UnsafeRawPointer(bias)), s1 = load(UnsafeRawPointer(bias + 8))
    var t0 = _mm256_setzero_si256(), t1 = _mm256_setzero_si256()
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = UnsafeRawPointer(a) + 4 &* start
        var left = taps.length
        while left >= 2 {
            let xa = broadcast(x), xb = broadcast(x + 4)
            s0 = dot(s0, xa, load(w)); s1 = dot(s1, xa, load(w + 32))
            t0 = dot(t0, xb, load(w + 64)); t1 = dot(t1, xb, load(w + 96))
            w += 128; x += 8; left &-= 2
        }
        if left > 0 {
            let xa = broadcast(x)
            s0 = dot(s0, xa, load(w)); s1 = dot(s1, xa, load(w + 32))
        }
    }
    store(requantize16(_mm256_add_epi32(s0, t0), _mm256_add_epi32(s1, t1), requant), output, channels)
}
