// AVX2 convolution: the shared int16-pair driver (im2col of a chunk of output pixels into int16,
// zero point subtracted; NiNKernelCore) with 4x16 tiles (Tile4x16AVX2.swift) that skip the
// kernel taps lying in the padding, and the float32 requantization of QUANTIZATION.md
// (RequantizeAVX2.swift). Bit-exact with the reference kernel. Compiled with -mavx2 -mfma in its
// own target; called only when the CPU has AVX2.

import NiNKernelCore

/// The im2col chunks of the AVX2 convolution: int16 values, whole 4-pixel tiles, 192 KiB (with
/// one 16-channel weight block a chunk stays in L2).
let im2colAVX2 = Im2colScratch(budget: 192 * 1024, valueBytes: 2, tilePixels: 4, slack: 0)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
public func convolutionAVX2ScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colAVX2.bytes(outWidth: geometry.outWidth, kPadded: 2 * ((geometry.kernelSize + 1) / 2), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with the weights packed by `packAVX2`: the shared int16-pair
/// driver (Sources/NiNKernelCore/Int16PairConvolution.swift: pixels in `PixelOrder`, parts of
/// whole 4-pixel tiles, im2col chunks within the budget, each 16-channel weight block sweeping a
/// chunk, padding taps skipped), specialized here with -mavx2, with the 4x16 tile.
public func convolutionAVX2(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolutionInt16Pairs(a, part: part, of: parts, layout: im2colAVX2, tile: Tile4x16AVX2.self)
}
