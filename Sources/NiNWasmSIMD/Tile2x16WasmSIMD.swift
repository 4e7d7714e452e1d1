// The wasmsimd convolution's microkernel: 2 output pixels x 16 channels over the K pairs its taps
// reach, on i32x4.dot_i16x8_s (one instruction per 4 channels and K pair, where the portable
// tile's plain Swift lowers to extended multiplies and shuffles on wasm32: 90% of a run there);
// 8 accumulators, 4 weight vectors and a broadcast pair; then requantized (RequantizeWasmSIMD.swift)
// and stored. Exact: |x - z| <= 255 and |w| <= 127, so a pair's two products and their sum
// fit int32, as in the portable and AVX2 families.

import CNiNWasmSIMD
import NiNKernelCore

/// The wasmsimd family's microkernel for the shared int16-pair driver.
enum Tile2x16WasmSIMD: Int16PairTile {
    static var pixels: Int { 2 }

    @inline(__always)
    static func compute(_ a: UnsafePointer<Int16>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int16>,
                        bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                        rows: Int, channels: Int) {
        let b = UnsafeRawPointer(bias)
        let bias0 = b.loadUnaligned(as: SIMD4<Int32>.self), bias1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
        let bias2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), bias3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
        var c00 = bias0, c01 = bias1, c02 = bias2, c03 = bias3
        var c10 = bias0, c11 = bias1, c12 = bias2, c13 = bias3
        let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + kPadded)
        // One K pair (at byte offset `offset` of both pixels' rows) against the 16 channels' weights at `w`.
        @inline(__always) func step(_ w: UnsafeRawPointer, _ offset: Int) {
            let w0 = w.loadUnaligned(as: SIMD4<Int32>.self)
            let w1 = w.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
            let w2 = w.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self)
            let w3 = w.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
            let x0 = SIMD4<Int32>(repeating: a0.loadUnaligned(fromByteOffset: offset, as: Int32.self))
            c00 &+= ninpriv_dot_i16x8(w0, x0); c01 &+= ninpriv_dot_i16x8(w1, x0)
            c02 &+= ninpriv_dot_i16x8(w2, x0); c03 &+= ninpriv_dot_i16x8(w3, x0)
            let x1 = SIMD4<Int32>(repeating: a1.loadUnaligned(fromByteOffset: offset, as: Int32.self))
            c10 &+= ninpriv_dot_i16x8(w0, x1); c11 &+= ninpriv_dot_i16x8(w1, x1)
            c12 &+= ninpriv_dot_i16x8(w2, x1); c13 &+= ninpriv_dot_i16x8(w3, x1)
        }
        for run in 0..<taps.count {
            let start = taps.first &+ run &* taps.stride
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
        requantizeAndStoreWasm(c00, c01, c02, c03, requant, output.row(0), channels)
        if rows > 1 { requantizeAndStoreWasm(c10, c11, c12, c13, requant, output.row(1), channels) }
    }
}
