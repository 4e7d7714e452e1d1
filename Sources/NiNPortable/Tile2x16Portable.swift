// The portable convolution's microkernel: 2 output pixels x 16 channels over the K pairs its
// taps reach, in plain Swift SIMD that LLVM lowers to pmaddwd + paddd on SSE2 (8 accumulators,
// 4 weight vectors and a broadcast pair fit x86-64's 16 vector registers); then requantized and
// stored. Exact: |x - z| <= 255 and |w| <= 127, so a pair's two products and their sum fit int32.

import NiNKernelCore

/// Two int16 products summed per int32 lane: `w[2i] * x[2i] + w[2i + 1] * x[2i + 1]`. Written
/// as a widening multiply and the sum of its even and odd lanes, the pattern x86's instruction
/// selection turns into one pmaddwd. (`SIMD8<Int32>(truncatingIfNeeded:)` would be an
/// out-of-line standard library call, so the widening is spelled out lane by lane.)
@inline(__always)
func multiplyAddPairs(_ w: SIMD8<Int16>, _ x: SIMD8<Int16>) -> SIMD4<Int32> {
    let m = widen(w) &* widen(x)
    return SIMD4<Int32>(m[0], m[2], m[4], m[6]) &+ SIMD4<Int32>(m[1], m[3], m[5], m[7])
}

/// Sign-extends eight int16 lanes to int32.
@inline(__always)
func widen(_ v: SIMD8<Int16>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
}

/// The pair at byte `offset` of `row` (one K pair of a pixel's im2col row) in every lane.
@inline(__always)
func broadcastPair(_ row: UnsafeRawPointer, _ offset: Int) -> SIMD8<Int16> {
    unsafeBitCast(SIMD4<Int32>(repeating: row.loadUnaligned(fromByteOffset: offset, as: Int32.self)), to: SIMD8<Int16>.self)
}

/// The portable family's microkernel for the shared int16-pair driver.
enum Tile2x16Portable: Int16PairTile {
    static var pixels: Int { 2 }

    @inline(__always)
    static func compute(_ t: Int16PairTileArguments) { tile2x16(t) }
}

/// One or two output pixels (`rows`) x 16 channels: int32 accumulators over the K pairs of
/// `taps`, then requantized and stored at their rows of `output` (the first `channels` bytes).
/// `a` holds the pixels' im2col rows, `kPadded` int16 values apart (two rows even when `rows`
/// is 1: the driver zero-fills a last odd row).
@inline(__always)
func tile2x16(_ t: Int16PairTileArguments) {
    let a = t.a, kPadded = t.kPadded, taps = t.taps, weights = t.weights, bias = t.bias
    let requant = t.requant, output = t.output, rows = t.rows, channels = t.channels
    let b = UnsafeRawPointer(bias)
    let bias0 = b.loadUnaligned(as: SIMD4<Int32>.self), bias1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
    let bias2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), bias3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
    var c00 = bias0, c01 = bias1, c02 = bias2, c03 = bias3
    var c10 = bias0, c11 = bias1, c12 = bias2, c13 = bias3
    let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + kPadded)
    // One K pair (at byte offset `offset` of the rows) of both pixels against the 16 channels'
    // weights at `w`.
    @inline(__always) func step(_ w: UnsafeRawPointer, _ offset: Int) {
        let w0 = w.loadUnaligned(as: SIMD8<Int16>.self)
        let w1 = w.loadUnaligned(fromByteOffset: 16, as: SIMD8<Int16>.self)
        let w2 = w.loadUnaligned(fromByteOffset: 32, as: SIMD8<Int16>.self)
        let w3 = w.loadUnaligned(fromByteOffset: 48, as: SIMD8<Int16>.self)
        let x0 = broadcastPair(a0, offset)
        c00 &+= multiplyAddPairs(w0, x0); c01 &+= multiplyAddPairs(w1, x0)
        c02 &+= multiplyAddPairs(w2, x0); c03 &+= multiplyAddPairs(w3, x0)
        let x1 = broadcastPair(a1, offset)
        c10 &+= multiplyAddPairs(w0, x1); c11 &+= multiplyAddPairs(w1, x1)
        c12 &+= multiplyAddPairs(w2, x1); c13 &+= multiplyAddPairs(w3, x1)
    }
    for start in taps.runStarts {
        let end = start &+ taps.length
        var w = UnsafeRawPointer(weights) + 64 &* start
        var p = start
        while p &+ 2 <= end {  // two K pairs per iteration: half the loop overhead
            step(w, 4 &* p)
            step(w + 64, 4 &* p &+ 4)
            w += 128
            p &+= 2
        }
        if p < end { step(w, 4 &* p) }
    }
    requantizeAndStore(c00, c01, c02, c03, requant, output.row(0), channels)
    if rows > 1 { requantizeAndStore(c10, c11, c12, c13, requant, output.row(1), channels) }
}
