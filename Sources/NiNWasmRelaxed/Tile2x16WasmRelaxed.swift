// The wasmrelaxed microkernels for the quad driver: 2 output pixels x 16 channels (the wasm
// families' shared tile body, Tile2x16Wasm.swift), and 1 x 16 for a part's last pixels, on
// i16x8.relaxed_dot_i8x16_i7x16_s (pmaddubsw in V8 on x86: int16 sums of two products of s8
// weights and 7-bit inputs). Two consecutive quads' pair sums are added in int16 (i16x8.add),
// then widened into the int32 accumulators once per two quads (i32x4.dot_i16x8_s with ones: one
// pmaddwd from a register), exact where QuadPairBound.swift proved it from the layer's weights.
// Only for layers whose inputs are at most 127 (ConvolutionWasmRelaxed.swift says why).

import CNiNWasmSIMD
import NiNKernelCore
import NiNWasmSIMD

/// The wasmrelaxed tiles: u8 im2col chunks, whole 2-pixel tiles, 16 bytes of slack for the
/// driver's vector stores.
enum WasmRelaxedTiles: QuadTiles {
    static var pairTilePixels: Int { 2 }
    static var blockTilePixels: Int { 2 }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 2, slack: 16) }

    @inline(__always)
    static func pairTile(_ t: QuadTileArguments) {
        blockTile(t, channels: 16)
        var second = t
        second.weights += t.kQuads * 64; second.bias += 16; second.requant += RequantBlock.bytes; second.channel += 16
        blockTile(second, channels: t.channels - 16)
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) { blockTile(t, channels: t.channels) }

    /// Both pixels x the block's first `channels` channels (0 stores nothing).
    @inline(__always)
    static func blockTile(_ t: QuadTileArguments, channels: Int) {
        tile2x16Wasm(RelaxedQuadProducts.self, UnsafeRawPointer(t.rows), UnsafeRawPointer(t.rows + t.kPadded), taps: t.taps,
                     weights: UnsafeRawPointer(t.weights), bias: t.bias, requant: t.requant, output: t.output,
                     channel: t.channel, rows: 2, channels: channels)
    }

    /// One pixel, as both of the tile's (its second sums dropped: a part's last pixel or so).
    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        tile2x16Wasm(RelaxedQuadProducts.self, UnsafeRawPointer(t.rows), UnsafeRawPointer(t.rows), taps: t.taps,
                     weights: UnsafeRawPointer(t.weights), bias: t.bias, requant: t.requant, output: t.output,
                     channel: t.channel, rows: 1, channels: t.channels)
    }
}

/// A quad's products of s8 weights and 7-bit inputs: int16 pair sums (i16x8.relaxed_dot_i8x16_i7x16_s),
/// widened into int32 by i32x4.dot_i16x8_s with ones (pmaddwd from a register, where V8 loads
/// i32x4.extadd_pairwise_i16x8_s's ones from memory each time). Two quads' pair sums are added
/// in int16 first (exact only where `quadPairSumsFitInt16` holds).
enum RelaxedQuadProducts: WasmGroupProducts {
    /// The int16 lanes 1.
    @inline(__always)
    static var ones: SIMD4<Int32> { SIMD4<Int32>(repeating: 0x0001_0001) }

    @inline(__always)
    static func one(_ w: SIMD4<Int32>, _ x: SIMD4<Int32>) -> SIMD4<Int32> {
        ninpriv_dot_i16x8(ninpriv_relaxed_dot_i8x16_i7x16(w, x), ones)
    }

    @inline(__always)
    static func two(_ wa: SIMD4<Int32>, _ xa: SIMD4<Int32>, _ wb: SIMD4<Int32>, _ xb: SIMD4<Int32>) -> SIMD4<Int32> {
        ninpriv_dot_i16x8(ninpriv_add_i16x8(ninpriv_relaxed_dot_i8x16_i7x16(wa, xa), ninpriv_relaxed_dot_i8x16_i7x16(wb, xb)),
                          ones)
    }
}
