// AVX2 convolution: two kernels, chosen per layer by `packAVX2` (MaddubsBound.swift).
// - vpmaddubsw on u8 (TilesMaddubsAVX2.swift) on the shared quad driver
//   (Sources/NiNKernelCore/QuadConvolution.swift), for every layer whose int16 sums provably
//   cannot saturate: with 7-bit activations and weights, every layer of a NiN.
// - int16 on the shared int16-pair driver (im2col of a chunk of output pixels into int16, zero
//   point subtracted; Sources/NiNKernelCore/Int16PairConvolution.swift) with 4x16 tiles
//   (Tile4x16AVX2.swift), for any other layer.
// Both skip the kernel taps lying in the padding and requantize in float32 as QUANTIZATION.md
// says (RequantizeAVX2.swift). Bit-exact with the reference kernel. Compiled with -mavx2 -mfma in
// its own target; called only when the CPU has AVX2.

import NiNKernelCore

/// The im2col chunks of the int16 kernel: int16 values, whole 4-pixel tiles, 192 KiB (with one
/// 16-channel weight block a chunk stays in L2).
let im2colAVX2 = Im2colScratch(budget: 192 * 1024, valueBytes: 2, tilePixels: 4, slack: 0)

/// The im2col chunks of the vpmaddubsw kernel (`convolveQuads`, `MaddubsTiles.im2col`): u8
/// values, whole 4-pixel tiles, 16 bytes of slack for im2col's vector stores.
let im2colMaddubs = Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 4, slack: 16)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows with the
/// kernel `packAVX2` chose (`variant`): the vpmaddubsw path's u8 chunks, or the int16 path's.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVX2ScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int, variant: Int) -> Int {
    MaddubsStep(rawValue: variant) != nil
        ? quadScratchBytes(geometry, totalRows: totalRows, tiles: MaddubsPairTiles.self)
        : im2colAVX2.bytes(outWidth: geometry.outWidth, kPadded: 2 * ((geometry.kernelSize + 1) / 2), totalRows: totalRows)
}

/// The name of the AVX2 kernel of a packed layer's `variant`: the vpmaddubsw step, or int16.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func avx2KernelName(variant: Int) -> String {
    switch MaddubsStep(rawValue: variant) {
    case .quadPairs: "maddubs, 4-product int16 sums"
    case .pairs: "maddubs, 2-product int16 sums"
    case nil: "int16"
    }
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight) with the kernel `packAVX2` chose for it: `convolveQuads` with
/// the vpmaddubsw tiles, or the int16-pair driver with the 4x16 vpmaddwd tile.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVX2(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    switch MaddubsStep(rawValue: a.variant) {
    case .quadPairs: convolveQuads(a, part: part, of: parts, tiles: MaddubsQuadPairTiles.self)
    case .pairs: convolveQuads(a, part: part, of: parts, tiles: MaddubsPairTiles.self)
    case nil: convolutionInt16Pairs(a, part: part, of: parts, layout: im2colAVX2, tile: Tile4x16AVX2.self)
    }
}
