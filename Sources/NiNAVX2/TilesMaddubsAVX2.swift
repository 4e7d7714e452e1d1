// The AVX2 u8 microkernels on vpmaddubsw, for the quad driver (Sources/NiNKernelCore/QuadConvolution.swift). vpmaddubsw
// multiplies u8 inputs by s8 weights and adds adjacent products into int16 with saturation, so
// it is exact only when those sums fit; `packAVX2` checks that bound on the layer's real weights
// and input bound (MaddubsBound.swift) and picks the step:
// - `.pairs`: per K quad, vpmaddubsw (two products per int16) + vpmaddwd by ones (to int32) +
//   vpaddd: 3 instructions per 32 multiply-adds;
// - `.quadPairs`: two K quads' vpmaddubsw summed in int16 (vpaddw: four products per int16)
//   before one vpmaddwd + vpaddd: 5 instructions per 64.
// Tiles: 2 pixels x 32 channels (two blocks; weights as memory operands), 4 x 16 for a last
// single block (weights in registers: 8 accumulators, 4 weight vectors of two quads, 2
// broadcasts, 2 products; ones is a memory operand), 1 x 16 for a part's last pixels. Per pixel
// and K quad one vpbroadcastd of its 4 input bytes feeds every ymm of channels.

import _Builtin_intrinsics.intel
import NiNCPU
import NiNKernelCore

/// How a layer's int16 sums stay below saturation (`packAVX2`'s choice; `PackedConvolution.variant`).
enum MaddubsStep: Int {
    /// Sums of two products (each vpmaddubsw widened at once).
    case pairs = 1
    /// Sums of four products: two quads' vpmaddubsw added in int16 first.
    case quadPairs = 2
}

/// The quad driver's AVX2 microkernels for one `MaddubsStep`.
protocol MaddubsTiles: QuadTiles {
    static var step: MaddubsStep { get }
}

extension MaddubsTiles {
    static var pairTilePixels: Int { 2 }
    static var blockTilePixels: Int { 4 }
    static var im2col: Im2colScratch { im2colMaddubs }

    @inline(__always)
    static func pairTile(_ t: QuadTileArguments) {
        tile2x32Maddubs(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, kQuads: t.kQuads, bias: t.bias,
                        requant: t.requant, output: t.output, channel: t.channel, channels: t.channels, step: step)
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        tile4x16Maddubs(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant,
                        output: t.output, channel: t.channel, channels: t.channels, step: step)
    }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        pixel1x16Maddubs(t.rows, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant, output: t.pixelOutput,
                         channels: t.channels, step: step)
    }
}

/// Two products per int16 sum.
enum MaddubsPairTiles: MaddubsTiles { static var step: MaddubsStep { .pairs } }
/// Four products per int16 sum.
enum MaddubsQuadPairTiles: MaddubsTiles { static var step: MaddubsStep { .quadPairs } }

/// 32 bytes at `p`.
@inline(__always)
private func load(_ p: UnsafeRawPointer) -> __m256i { _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self)) }

/// The 4 input bytes at `p` in every dword.
@inline(__always)
private func broadcast(_ p: UnsafeRawPointer) -> __m256i { _mm256_set1_epi32(p.loadUnaligned(as: Int32.self)) }

/// `acc + (x . w)` per int32 lane: the lane's four products summed (two int16 pair sums).
@inline(__always)
private func addQuad(_ acc: __m256i, _ x: __m256i, _ w: __m256i, _ ones: __m256i) -> __m256i {
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones))
}

/// `acc + (x0 . w0) + (x1 . w1)` per int32 lane, the two quads' pair sums added in int16 first.
@inline(__always)
private func addQuadPair(_ acc: __m256i, _ x0: __m256i, _ w0: __m256i, _ x1: __m256i, _ w1: __m256i,
                         _ ones: __m256i) -> __m256i {
    let sums = _mm256_add_epi16(_mm256_maddubs_epi16(x0, w0), _mm256_maddubs_epi16(x1, w1))
    return _mm256_add_epi32(acc, _mm256_madd_epi16(sums, ones))
}

/// Four output pixels x 16 channels (`channels` real): int32 accumulators over the K quads of
/// `taps`, then requantized and stored at the pixels' rows of `output`, from `channel`.
@inline(__always)
func tile4x16Maddubs(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                     bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int,
                     channels: Int, step: MaddubsStep) {
    let ones = _mm256_set1_epi16(1)
    let biasLo = load(UnsafeRawPointer(bias)), biasHi = load(UnsafeRawPointer(bias + 8))
    var c00 = biasLo, c01 = biasHi, c10 = biasLo, c11 = biasHi
    var c20 = biasLo, c21 = biasHi, c30 = biasLo, c31 = biasHi
    let r0 = UnsafeRawPointer(a), r1 = r0 + kPadded, r2 = r0 + 2 &* kPadded, r3 = r0 + 3 &* kPadded
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = 4 &* start
        var left = taps.length
        if step == .quadPairs {
            while left >= 2 {
                let w0 = load(w), w1 = load(w + 32), v0 = load(w + 64), v1 = load(w + 96)
                var xa = broadcast(r0 + x), xb = broadcast(r0 + x + 4)
                c00 = addQuadPair(c00, xa, w0, xb, v0, ones); c01 = addQuadPair(c01, xa, w1, xb, v1, ones)
                xa = broadcast(r1 + x); xb = broadcast(r1 + x + 4)
                c10 = addQuadPair(c10, xa, w0, xb, v0, ones); c11 = addQuadPair(c11, xa, w1, xb, v1, ones)
                xa = broadcast(r2 + x); xb = broadcast(r2 + x + 4)
                c20 = addQuadPair(c20, xa, w0, xb, v0, ones); c21 = addQuadPair(c21, xa, w1, xb, v1, ones)
                xa = broadcast(r3 + x); xb = broadcast(r3 + x + 4)
                c30 = addQuadPair(c30, xa, w0, xb, v0, ones); c31 = addQuadPair(c31, xa, w1, xb, v1, ones)
                w += 128; x &+= 8; left &-= 2
            }
        }
        while left > 0 {
            let w0 = load(w), w1 = load(w + 32)
            var xa = broadcast(r0 + x)
            c00 = addQuad(c00, xa, w0, ones); c01 = addQuad(c01, xa, w1, ones)
            xa = broadcast(r1 + x)
            c10 = addQuad(c10, xa, w0, ones); c11 = addQuad(c11, xa, w1, ones)
            xa = broadcast(r2 + x)
            c20 = addQuad(c20, xa, w0, ones); c21 = addQuad(c21, xa, w1, ones)
            xa = broadcast(r3 + x)
            c30 = addQuad(c30, xa, w0, ones); c31 = addQuad(c31, xa, w1, ones)
            w += 64; x &+= 4; left &-= 1
        }
    }
    store(requantize16(c00, c01, requant), output.row(0) + channel, channels)
    store(requantize16(c10, c11, requant), output.row(1) + channel, channels)
    store(requantize16(c20, c21, requant), output.row(2) + channel, channels)
    store(requantize16(c30, c31, requant), output.row(3) + channel, channels)
}

/// One output pixel x 16 channels (`channels` real, 0 stores nothing), for the last pixels of a
/// part: two accumulator pairs over alternate quads (one pair would wait on each sum), summed
/// at the end (int32 wrap-around is exact: the true sum fits); then requantized and stored.
@inline(__always)
func pixel1x16Maddubs(_ a: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                      channels: Int, step: MaddubsStep) {
    guard channels > 0 else { return }
    let ones = _mm256_set1_epi16(1)
    var s0 = load(UnsafeRawPointer(bias)), s1 = load(UnsafeRawPointer(bias + 8))
    var t0 = _mm256_setzero_si256(), t1 = _mm256_setzero_si256()
    let row = UnsafeRawPointer(a)
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = row + 4 &* start
        var left = taps.length
        if step == .quadPairs {
            while left >= 2 {
                let xa = broadcast(x), xb = broadcast(x + 4)
                s0 = addQuadPair(s0, xa, load(w), xb, load(w + 64), ones)
                s1 = addQuadPair(s1, xa, load(w + 32), xb, load(w + 96), ones)
                w += 128; x += 8; left &-= 2
            }
        } else {
            while left >= 2 {
                let xa = broadcast(x), xb = broadcast(x + 4)
                s0 = addQuad(s0, xa, load(w), ones); s1 = addQuad(s1, xa, load(w + 32), ones)
                t0 = addQuad(t0, xb, load(w + 64), ones); t1 = addQuad(t1, xb, load(w + 96), ones)
                w += 128; x += 8; left &-= 2
            }
        }
        if left > 0 {
            let xa = broadcast(x)
            s0 = addQuad(s0, xa, load(w), ones); s1 = addQuad(s1, xa, load(w + 32), ones)
        }
    }
    store(requantize16(_mm256_add_epi32(s0, t0), _mm256_add_epi32(s1, t1), requant), output, channels)
}

/// Two output pixels x 32 channels (two 16-channel blocks, `channels` real, 17 to 32). Every
/// weight vector is vpmaddubsw's memory operand, read once per pixel: the second pixel's read
/// hits L1, and no instruction loads weights into registers (16 ymm cannot hold a tile's
/// weights beside its accumulators). With four-product sums a step of 2 quads costs 4
/// broadcasts and 40 arithmetic instructions for 512 multiply-adds, and the loop's 4.
/// The two pixels reach the same weights through different pointers: the optimizer would
/// otherwise merge the equal loads into registers it then has to spill.
@inline(__always)
func tile2x32Maddubs(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>, kQuads: Int,
                     bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int,
                     channels: Int, step: MaddubsStep) {
    let ones = _mm256_set1_epi16(1)
    let b = UnsafeRawPointer(bias)
    let b0 = load(b), b1 = load(b + 32), b2 = load(b + 64), b3 = load(b + 96)
    var c00 = b0, c01 = b1, c02 = b2, c03 = b3
    var c10 = b0, c11 = b1, c12 = b2, c13 = b3
    let r0 = UnsafeRawPointer(a), r1 = r0 + kPadded
    // Blocks 0 and 1 (p, q) for pixel 0, and the same through an opaque copy for pixel 1.
    let p0 = UnsafeRawPointer(weights), q0 = p0 + 64 &* kQuads
    let p1 = ninpriv_opaque_pointer(p0)!, q1 = p1 + 64 &* kQuads
    @inline(__always) func quad(_ x: Int, _ o: Int) {
        var xa = broadcast(r0 + x)
        c00 = addQuad(c00, xa, load(p0 + o), ones); c01 = addQuad(c01, xa, load(p0 + o + 32), ones)
        c02 = addQuad(c02, xa, load(q0 + o), ones); c03 = addQuad(c03, xa, load(q0 + o + 32), ones)
        xa = broadcast(r1 + x)
        c10 = addQuad(c10, xa, load(p1 + o), ones); c11 = addQuad(c11, xa, load(p1 + o + 32), ones)
        c12 = addQuad(c12, xa, load(q1 + o), ones); c13 = addQuad(c13, xa, load(q1 + o + 32), ones)
    }
    for start in taps.runStarts {
        var o = 64 &* start
        var x = 4 &* start
        let end = x &+ 4 &* taps.length
        while x &+ 8 <= end {
            if step == .quadPairs {
                var xa = broadcast(r0 + x), xb = broadcast(r0 + x + 4)
                c00 = addQuadPair(c00, xa, load(p0 + o), xb, load(p0 + o + 64), ones)
                c01 = addQuadPair(c01, xa, load(p0 + o + 32), xb, load(p0 + o + 96), ones)
                c02 = addQuadPair(c02, xa, load(q0 + o), xb, load(q0 + o + 64), ones)
                c03 = addQuadPair(c03, xa, load(q0 + o + 32), xb, load(q0 + o + 96), ones)
                xa = broadcast(r1 + x); xb = broadcast(r1 + x + 4)
                c10 = addQuadPair(c10, xa, load(p1 + o), xb, load(p1 + o + 64), ones)
                c11 = addQuadPair(c11, xa, load(p1 + o + 32), xb, load(p1 + o + 96), ones)
                c12 = addQuadPair(c12, xa, load(q1 + o), xb, load(q1 + o + 64), ones)
                c13 = addQuadPair(c13, xa, load(q1 + o + 32), xb, load(q1 + o + 96), ones)
            } else {
                quad(x, o)
                quad(x &+ 4, o &+ 64)
            }
            o &+= 128; x &+= 8
        }
        if x < end { quad(x, o) }
    }
    store(requantize16(c00, c01, requant), output.row(0) + channel, 16)
    store(requantize16(c02, c03, requant + RequantBlock.bytes), output.row(0) + channel + 16, channels - 16)
    store(requantize16(c10, c11, requant), output.row(1) + channel, 16)
    store(requantize16(c12, c13, requant + RequantBlock.bytes), output.row(1) + channel + 16, channels - 16)
}
