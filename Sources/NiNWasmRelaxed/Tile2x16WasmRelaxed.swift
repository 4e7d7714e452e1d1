// The wasmrelaxed microkernels for the quad driver: 2 output pixels x 16 channels on
// i32x4.relaxed_dot_i8x16_i7x16_add_s (4 weight vectors of 4 channels x 4 K bytes, a broadcast
// quad per pixel, 8 accumulators), and 1 x 16 for a part's last pixels; then requantized (the
// portable family's code) and stored. Only for layers whose inputs are at most 127
// (ConvolutionWasmRelaxed.swift says why that is exact).

import CNiNWasmSIMD
import NiNKernelCore
import NiNPortable

/// The wasmrelaxed tiles; im2col chunks of u8 values, whole 2-pixel tiles, 16 bytes of slack
/// for the driver's vector stores.
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

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        guard t.channels > 0 else { return }
        let b = UnsafeRawPointer(t.bias)
        var c0 = b.loadUnaligned(as: SIMD4<Int32>.self), c1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
        var c2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), c3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
        let x0 = UnsafeRawPointer(t.rows)
        for run in 0..<t.taps.count {
            let start = t.taps.first &+ run &* t.taps.stride
            var w = UnsafeRawPointer(t.weights) + 64 &* start
            var offset = 4 &* start
            let end = offset &+ 4 &* t.taps.length
            while offset < end {
                let x = SIMD4<Int32>(repeating: x0.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                c0 = ninpriv_relaxed_dot_i8x16_i7x16_add(w.loadUnaligned(as: SIMD4<Int32>.self), x, c0)
                c1 = ninpriv_relaxed_dot_i8x16_i7x16_add(w.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self), x, c1)
                c2 = ninpriv_relaxed_dot_i8x16_i7x16_add(w.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), x, c2)
                c3 = ninpriv_relaxed_dot_i8x16_i7x16_add(w.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self), x, c3)
                w += 64; offset &+= 4
            }
        }
        requantizeAndStore(c0, c1, c2, c3, t.requant, t.pixelOutput, t.channels)
    }
}

/// Two output pixels x 16 channels (`channels` real, 0 stores nothing) over the K quads of
/// `taps`, then requantized and stored at the pixels' rows of `output`, from `channel`.
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
    let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + kPadded)
    for run in 0..<taps.count {
        let start = taps.first &+ run &* taps.stride
        var w = UnsafeRawPointer(weights) + 64 &* start
        var offset = 4 &* start
        let end = offset &+ 4 &* taps.length
        while offset < end {
            let w0 = w.loadUnaligned(as: SIMD4<Int32>.self), w1 = w.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
            let w2 = w.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), w3 = w.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
            let x0 = SIMD4<Int32>(repeating: a0.loadUnaligned(fromByteOffset: offset, as: Int32.self))
            c00 = ninpriv_relaxed_dot_i8x16_i7x16_add(w0, x0, c00); c01 = ninpriv_relaxed_dot_i8x16_i7x16_add(w1, x0, c01)
            c02 = ninpriv_relaxed_dot_i8x16_i7x16_add(w2, x0, c02); c03 = ninpriv_relaxed_dot_i8x16_i7x16_add(w3, x0, c03)
            let x1 = SIMD4<Int32>(repeating: a1.loadUnaligned(fromByteOffset: offset, as: Int32.self))
            c10 = ninpriv_relaxed_dot_i8x16_i7x16_add(w0, x1, c10); c11 = ninpriv_relaxed_dot_i8x16_i7x16_add(w1, x1, c11)
            c12 = ninpriv_relaxed_dot_i8x16_i7x16_add(w2, x1, c12); c13 = ninpriv_relaxed_dot_i8x16_i7x16_add(w3, x1, c13)
            w += 64; offset &+= 4
        }
    }
    requantizeAndStore(c00, c01, c02, c03, requant, output.row(0) + channel, channels)
    requantizeAndStore(c10, c11, c12, c13, requant, output.row(1) + channel, channels)
}
