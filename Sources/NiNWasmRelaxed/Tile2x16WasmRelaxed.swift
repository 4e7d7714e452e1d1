// The wasmrelaxed microkernels for the quad driver: 2 output pixels x 16 channels, and 1 x 16 for
// a part's last pixels, on i16x8.relaxed_dot_i8x16_i7x16_s (pmaddubsw in V8 on x86: int16 sums of
// two products of s8 weights and 7-bit inputs). Two consecutive quads' pair sums are added in
// int16 (i16x8.add), then widened into the int32 accumulators once per two quads
// (i32x4.dot_i16x8_s with ones: one pmaddwd from a register), exact where QuadPairBound.swift
// proved it from the layer's weights; then requantized (RequantizeWasmSIMD.swift) and stored.
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
        tile2x16WasmRelaxed(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias,
                            requant: t.requant, output: t.output, channel: t.channel, channels: 16)
        tile2x16WasmRelaxed(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights + t.kQuads * 64, bias: t.bias + 16,
                            requant: t.requant + RequantBlock.bytes, output: t.output, channel: t.channel + 16,
                            channels: t.channels - 16)
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        tile2x16WasmRelaxed(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias,
                            requant: t.requant, output: t.output, channel: t.channel, channels: t.channels)
    }

    /// One pixel: the 2-pixel sums with the pixel as both (the second's sums are dropped; a
    /// part's last pixel or so, so one loop body serves both).
    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        guard t.channels > 0 else { return }
        let b = UnsafeRawPointer(t.bias)
        var c0 = b.loadUnaligned(as: SIMD4<Int32>.self), c1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
        var c2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), c3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
        var unused0 = c0, unused1 = c1
        let x = UnsafeRawPointer(t.rows), w = UnsafeRawPointer(t.weights)
        sums2x8(x, x, taps: t.taps, weights: w, &c0, &c1, &unused0, &unused1)
        sums2x8(x, x, taps: t.taps, weights: w + 32, &c2, &c3, &unused0, &unused1)
        requantizeAndStoreWasm(c0, c1, c2, c3, t.requant, t.pixelOutput, t.channels)
    }
}

/// The int16 lanes 1 (i32x4.dot_i16x8_s by them widens int16 pair sums into int32: pmaddwd from
/// a register, where V8 loads i32x4.extadd_pairwise_i16x8_s's ones from memory each time).
@inline(__always)
var int16Ones: SIMD4<Int32> { SIMD4<Int32>(repeating: 0x0001_0001) }

/// Lane i: the sum of w[4i+j] * x[4i+j] over j < 4 (w int8, x 7-bit), in int32.
@inline(__always)
func quadDot(_ w: SIMD4<Int32>, _ x: SIMD4<Int32>) -> SIMD4<Int32> {
    ninpriv_dot_i16x8(ninpriv_relaxed_dot_i8x16_i7x16(w, x), int16Ones)
}

/// Lane i: the sum over j < 4 of wa[4i+j] * xa[4i+j] + wb[4i+j] * xb[4i+j], two quads' products
/// added in int16 pair by pair (exact only where `quadPairSumsFitInt16` holds), then in int32.
@inline(__always)
func quadPairDot(_ wa: SIMD4<Int32>, _ xa: SIMD4<Int32>, _ wb: SIMD4<Int32>, _ xb: SIMD4<Int32>) -> SIMD4<Int32> {
    ninpriv_dot_i16x8(ninpriv_add_i16x8(ninpriv_relaxed_dot_i8x16_i7x16(wa, xa), ninpriv_relaxed_dot_i8x16_i7x16(wb, xb)),
                      int16Ones)
}

/// Two output pixels x 16 channels (`channels` real, 0 stores nothing) over the K quads of
/// `taps`, 8 channels at a time (`sums2x8`), then requantized and stored at the pixels' rows of
/// `output`, from `channel`.
@inline(__always)
func tile2x16WasmRelaxed(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                         bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int,
                         channels: Int) {
    guard channels > 0 else { return }
    let b = UnsafeRawPointer(bias)
    let bias0 = b.loadUnaligned(as: SIMD4<Int32>.self), bias1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
    let bias2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), bias3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
    var c00 = bias0, c01 = bias1, c02 = bias2, c03 = bias3
    var c10 = bias0, c11 = bias1, c12 = bias2, c13 = bias3
    let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + kPadded), w = UnsafeRawPointer(weights)
    sums2x8(a0, a1, taps: taps, weights: w, &c00, &c01, &c10, &c11)
    sums2x8(a0, a1, taps: taps, weights: w + 32, &c02, &c03, &c12, &c13)
    requantizeAndStoreWasm(c00, c01, c02, c03, requant, output.row(0) + channel, channels)
    requantizeAndStoreWasm(c10, c11, c12, c13, requant, output.row(1) + channel, channels)
}

/// Adds to c00, c01 (pixel 0, rows at `a0`) and c10, c11 (pixel 1, at `a1`) the products of 8
/// channels (the weights at `weights`: 2 vectors of 4 channels x 4 K bytes per quad, quads 64
/// bytes apart) over the K quads of `taps`, two quads at a time (`quadPairDot`), a run's odd last
/// quad alone. 8 channels, not 16: V8 loads a loop's vectors before it computes, and 16
/// channels' 8 weight vectors, 4 broadcasts and 8 accumulators would not fit x86's 16 vector
/// registers (the spills cost more than the broadcasts done twice).
@inline(__always)
func sums2x8(_ a0: UnsafeRawPointer, _ a1: UnsafeRawPointer, taps: TileTaps, weights: UnsafeRawPointer,
             _ c00: inout SIMD4<Int32>, _ c01: inout SIMD4<Int32>, _ c10: inout SIMD4<Int32>, _ c11: inout SIMD4<Int32>) {
    for run in 0..<taps.count {
        let start = taps.first &+ run &* taps.stride
        // Typed pointers stepped per quad pair: the loads' constant offsets then fold into
        // wasm's offset field (with tools/wasm/build.sh's -disable-lsr), so V8 adds no address.
        var w = weights.assumingMemoryBound(to: SIMD4<Int32>.self) + 4 &* start
        var x0 = a0.assumingMemoryBound(to: Int32.self) + start, x1 = a1.assumingMemoryBound(to: Int32.self) + start
        let end = x0 + taps.length, pairsEnd = x0 + (taps.length & ~1)
        while x0 < pairsEnd {
            let w0a = w[0], w1a = w[1], w0b = w[4], w1b = w[5]
            let x0a = SIMD4<Int32>(repeating: x0[0]), x0b = SIMD4<Int32>(repeating: x0[1])
            let x1a = SIMD4<Int32>(repeating: x1[0]), x1b = SIMD4<Int32>(repeating: x1[1])
            c00 &+= quadPairDot(w0a, x0a, w0b, x0b); c01 &+= quadPairDot(w1a, x0a, w1b, x0b)
            c10 &+= quadPairDot(w0a, x1a, w0b, x1b); c11 &+= quadPairDot(w1a, x1a, w1b, x1b)
            w += 8; x0 += 2; x1 += 2
        }
        if x0 < end {
            let w0 = w[0], w1 = w[1]
            let x0a = SIMD4<Int32>(repeating: x0[0]), x1a = SIMD4<Int32>(repeating: x1[0])
            c00 &+= quadDot(w0, x0a); c01 &+= quadDot(w1, x0a); c10 &+= quadDot(w0, x1a); c11 &+= quadDot(w1, x1a)
        }
    }
}
