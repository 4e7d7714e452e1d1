// The wasmsimd convolution (WebAssembly SIMD128, built only for wasm32 by tools/wasm/build.sh):
// the shared int16-pair driver of NiNKernelCore (im2col into int16, zero point subtracted, taps in
// the padding skipped) with the 2x16 dot-product tile of Tile2x16WasmSIMD.swift, on the portable
// family's weight packing and requantization. Bit-exact with the reference kernel.

import NiNKernelCore

/// The im2col chunks of the wasmsimd convolution: int16 values, whole 2-pixel tiles, 192 KiB.
let im2colWasmSIMD = Im2colScratch(budget: 192 * 1024, valueBytes: 2, tilePixels: 2, slack: 0)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
public func convolutionWasmSIMDScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colWasmSIMD.bytes(outWidth: geometry.outWidth, kPadded: 2 * ((geometry.kernelSize + 1) / 2), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packInt16Pairs`.
public func convolutionWasmSIMD(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolutionInt16Pairs(a, part: part, of: parts, layout: im2colWasmSIMD, tile: Tile2x16WasmSIMD.self)
}
