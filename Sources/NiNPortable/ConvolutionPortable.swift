// The portable convolution: the shared int16-pair driver (im2col of a chunk of output pixels
// into int16, zero point subtracted; NiNKernelCore) with 2x16 tiles (Tile2x16Portable.swift)
// that skip the kernel taps lying in the padding, and the float32 requantization of
// QUANTIZATION.md (RequantizePortable.swift). Plain Swift with no ISA flags: what the compiler
// vectorizes for the baseline target (SSE2 on x86-64, NEON on arm64). Bit-exact with the
// reference kernel. The same scheme as the AVX2 family's int16 path, at half its vector width.

import NiNKernelCore

/// The im2col chunks of the portable convolution: int16 values, whole 2-pixel tiles, 192 KiB.
let im2colPortable = Im2colScratch(budget: 192 * 1024, valueBytes: 2, tilePixels: 2, slack: 0)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
public func convolutionPortableScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colPortable.bytes(outWidth: geometry.outWidth, kPadded: 2 * ((geometry.kernelSize + 1) / 2), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with the weights packed by `packInt16Pairs`: the shared int16
/// pair driver (Sources/NiNKernelCore/Int16PairConvolution.swift), specialized here for the
/// baseline target, with the 2x16 tile.
public func convolutionPortable(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolutionInt16Pairs(a, part: part, of: parts, layout: im2colPortable, tile: Tile2x16Portable.self)
}
