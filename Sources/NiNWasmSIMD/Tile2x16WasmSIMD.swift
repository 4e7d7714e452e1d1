// The wasmsimd convolution's microkernel: 2 output pixels x 16 channels over the K pairs its taps
// reach, on i32x4.dot_i16x8_s (one instruction per 4 channels and K pair, where the portable
// tile's plain Swift lowers to extended multiplies and shuffles on wasm32: 90% of a run there),
// in the wasm families' shared tile body (Tile2x16Wasm.swift). Exact: |x - z| <= 255 and
// |w| <= 127, so a pair's two products and their sum fit int32, as in the portable and AVX2
// families.

import CNiNWasmSIMD
import NiNKernelCore

/// An int16 pair's products, summed per channel: i32x4.dot_i16x8_s (pmaddwd).
enum Int16PairProducts: WasmGroupProducts {
    @inline(__always)
    static func one(_ w: SIMD4<Int32>, _ x: SIMD4<Int32>) -> SIMD4<Int32> { ninpriv_dot_i16x8(w, x) }

    @inline(__always)
    static func two(_ wa: SIMD4<Int32>, _ xa: SIMD4<Int32>, _ wb: SIMD4<Int32>, _ xb: SIMD4<Int32>) -> SIMD4<Int32> {
        ninpriv_dot_i16x8(wa, xa) &+ ninpriv_dot_i16x8(wb, xb)
    }
}

/// The wasmsimd family's microkernel for the shared int16-pair driver.
enum Tile2x16WasmSIMD: Int16PairTile {
    static var pixels: Int { 2 }

    @inline(__always)
    static func compute(_ t: Int16PairTileArguments) {
        tile2x16Wasm(Int16PairProducts.self, UnsafeRawPointer(t.a), UnsafeRawPointer(t.a + t.kPadded), taps: t.taps,
                     weights: UnsafeRawPointer(t.weights), bias: t.bias, requant: t.requant, output: t.output,
                     channel: 0, rows: t.rows, channels: t.channels)
    }
}
