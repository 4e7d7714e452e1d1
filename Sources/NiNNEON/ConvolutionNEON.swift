// The ARMv8.0 NEON convolution (every arm64 CPU): the shared quad driver (Sources/NiNKernelCore/
// QuadConvolution.swift: u8 im2col, tiles over 16-channel blocks) with 2 x 16 microkernels of
// widening multiplies and pairwise accumulates (Tile2x16NEON.swift), and the NEON
// requantization (RequantizeNEON.swift). Inputs are shifted to s8 (x - 128) and the shift's
// term folded into the bias (`packQuadsShifted`), so every product is s8 x s8: the same bits as
// every family. No ISA flags beyond the arm64 baseline.

import NiNKernelCore

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here (Embedded: not into callers)
public func convolutionNEONScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: NEONTiles.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packQuadsShifted`: `convolveQuads` with the NEON tiles.
@export(interface)  // compiled only here (Embedded: not into callers)
public func convolutionNEON(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, tiles: NEONTiles.self)
}

/// The NEON microkernels: 2 x 16 tiles (two of them side by side make the 32-channel tile), and
/// one pixel at a time. They count every tap (the shifted padding bytes are in the bias). The
/// im2col chunks: u8 values, whole 2-pixel tiles, 16 bytes of slack for its vector stores.
enum NEONTiles: QuadBlockTiles {
    static var blockTilePixels: Int { 2 }
    static var skipsPaddingTaps: Bool { false }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 2, slack: 16) }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) { tile2x16NEON(t) }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) { pixel1x16NEON(t) }
}
