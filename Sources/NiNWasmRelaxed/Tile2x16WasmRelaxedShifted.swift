// The wasmrelaxed microkernels for layers over 8-bit inputs (ShiftedQuadWeights.swift says how
// they stay exact): the quad driver's 2 x 16 tiles on the wasm families' shared tile body, with
// the relaxed dot's operands swapped, the inputs flipped to s8 (x - 128: x xor 0x80) and the
// weights packed as w + 64, each quad's int16 pair sums widened at once (i32x4.dot_i16x8_s with
// ones; two quads' are not added in int16 first: 4 products may reach -128 x 127 x 4). Each
// pixel starts from -64 x the sum of its inputs (`shiftedPixelTerm`). They count every tap:
// a padding tap's weights are not 0 here, so the driver must not skip them.

import CNiNWasmSIMD
import NiNKernelCore
import NiNWasmSIMD

/// The shifted tiles: u8 im2col chunks, whole 2-pixel tiles, 16 bytes of slack for the driver's
/// vector stores; every tap counted.
enum WasmRelaxedShiftedTiles: QuadTiles {
    static var pairTilePixels: Int { 2 }
    static var blockTilePixels: Int { 2 }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 2, slack: 16) }
    static var skipsPaddingTaps: Bool { false }

    @inline(__always)
    static func pairTile(_ t: QuadTileArguments) {
        let term0 = shiftedPixelTerm(t.rows, count: t.kPadded), term1 = shiftedPixelTerm(t.rows + t.kPadded, count: t.kPadded)
        blockTile(t, channels: 16, term0, term1)
        blockTile(t.secondBlock, channels: t.channels - 16, term0, term1)
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        blockTile(t, channels: t.channels, shiftedPixelTerm(t.rows, count: t.kPadded),
                  shiftedPixelTerm(t.rows + t.kPadded, count: t.kPadded))
    }

    /// Both pixels x the block's first `channels` channels (0 stores nothing), from their terms.
    @inline(__always)
    static func blockTile(_ t: QuadTileArguments, channels: Int, _ term0: Int32, _ term1: Int32) {
        tile2x16Wasm(ShiftedQuadProducts.self, UnsafeRawPointer(t.rows), UnsafeRawPointer(t.rows + t.kPadded), taps: t.taps,
                     weights: UnsafeRawPointer(t.weights), bias: t.bias, requant: t.requant, output: t.output,
                     channel: t.channel, rows: 2, channels: channels, pixelTerm0: term0, pixelTerm1: term1)
    }

    /// One pixel, as both of the tile's (its second sums dropped).
    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        let term = shiftedPixelTerm(t.rows, count: t.kPadded)
        tile2x16Wasm(ShiftedQuadProducts.self, UnsafeRawPointer(t.rows), UnsafeRawPointer(t.rows), taps: t.taps,
                     weights: UnsafeRawPointer(t.weights), bias: t.bias, requant: t.requant, output: t.output,
                     channel: t.channel, rows: 1, channels: t.channels, pixelTerm0: term, pixelTerm1: term)
    }
}

/// -64 x the sum of a pixel's `count` input bytes at `row` (`count` a multiple of 4; its K
/// padding bytes are 0): 16 bytes per step, then whole quads. Not inlined (size).
@inline(never)
func shiftedPixelTerm(_ row: UnsafePointer<UInt8>, count: Int) -> Int32 {
    let p = UnsafeRawPointer(row)
    var sums = SIMD4<Int32>()
    var i = 0
    while i &+ 16 <= count {
        sums &+= ninpriv_sum_u8x16(p.loadUnaligned(fromByteOffset: i, as: SIMD4<Int32>.self))
        i &+= 16
    }
    var total = sums[0] &+ sums[1] &+ sums[2] &+ sums[3]
    while i < count {
        let q = p.loadUnaligned(fromByteOffset: i, as: UInt32.self)
        total &+= Int32(truncatingIfNeeded: (q & 0xff) &+ ((q >> 8) & 0xff) &+ ((q >> 16) & 0xff) &+ (q >> 24))
        i &+= 4
    }
    return 0 &- shiftedWeightOffset &* total
}

/// A quad's products of 8-bit inputs x and weights w packed as w + 64: the relaxed dot of
/// x - 128 (the s8 operand: x xor 0x80 per byte) and w + 64 (the 7-bit one), int16 pair sums
/// widened into int32 by i32x4.dot_i16x8_s with ones.
enum ShiftedQuadProducts: WasmGroupProducts {
    /// The int16 lanes 1.
    @inline(__always)
    static var ones: SIMD4<Int32> { SIMD4<Int32>(repeating: 0x0001_0001) }

    /// Each byte's top bit: x xor 0x80 = x - 128 as s8.
    @inline(__always)
    static var flip: SIMD4<Int32> { SIMD4<Int32>(repeating: Int32(bitPattern: 0x8080_8080)) }

    @inline(__always)
    static func one(_ w: SIMD4<Int32>, _ x: SIMD4<Int32>) -> SIMD4<Int32> {
        ninpriv_dot_i16x8(ninpriv_relaxed_dot_i8x16_i7x16(x ^ flip, w), ones)
    }

    @inline(__always)
    static func two(_ wa: SIMD4<Int32>, _ xa: SIMD4<Int32>, _ wb: SIMD4<Int32>, _ xb: SIMD4<Int32>) -> SIMD4<Int32> {
        one(wa, xa) &+ one(wb, xb)
    }
}
