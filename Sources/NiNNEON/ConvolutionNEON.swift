// The ARMv8.0 NEON convolution (every arm64 CPU): the shared quad driver (Sources/NiNKernelCore/
// QuadConvolution.swift: u8 im2col, tiles over 16-channel blocks) with 2 x 16 microkernels of
// widening multiplies and pairwise accumulates (Tile2x16NEON.swift), and the NEON
// requantization (RequantizeNEON.swift). Inputs are shifted to s8 (x - 128) and the shift's
// term folded into the bias (`packQuadsShifted`), so every product is s8 x s8, except on layers
// whose inputs are at most 127, which are valid s8 as they are (`packNEON`): the same bits as
// every family. No ISA flags beyond the arm64 baseline.

import NiNKernelCore

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here (Embedded: not into callers)
public func convolutionNEONScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: NEONTiles.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packNEON`: `convolveQuads` with the NEON tiles, on shifted or on 7-bit inputs as
/// the layer's variant says.
@export(interface)  // compiled only here (Embedded: not into callers)
public func convolutionNEON(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    if a.variant == NEONVariant.sevenBit {
        convolveQuads(a, part: part, of: parts, tiles: SevenBitNEONTiles.self)
    } else {
        convolveQuads(a, part: part, of: parts, tiles: NEONTiles.self)
    }
}

/// The name of the neon kernel of a packed layer's `variant` (`nin-infer --profile`).
@export(interface)  // compiled only here (Embedded: not into callers)
public func neonKernelName(variant: Int) -> String {
    variant == NEONVariant.sevenBit ? "smull 7-bit" : "smull shifted"
}

/// The NEON microkernels on shifted inputs: 2 x 16 tiles (two of them side by side make the
/// 32-channel tile), and one pixel at a time. They count every tap (the shifted padding bytes
/// are in the bias). The im2col chunks: u8 values, whole 2-pixel tiles, 16 bytes of slack for
/// its vector stores.
enum NEONTiles: QuadBlockTiles {
    static var blockTilePixels: Int { 2 }
    static var skipsPaddingTaps: Bool { false }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 2, slack: 16) }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) { tile2x16NEON(t, shifted: true) }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) { pixel1x16NEON(t, shifted: true) }
}

/// The same tiles on 7-bit inputs taken as they are (`NEONVariant.sevenBit`): padding taps may
/// be skipped, as on the x86 families, since `packQuads`' bias holds the zero point's term.
enum SevenBitNEONTiles: QuadBlockTiles {
    static var blockTilePixels: Int { NEONTiles.blockTilePixels }
    static var im2col: Im2colScratch { NEONTiles.im2col }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) { tile2x16NEON(t, shifted: false) }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) { pixel1x16NEON(t, shifted: false) }
}
