// The ARMv8.0 NEON convolution (every arm64 CPU): the shared quad driver (Sources/NiNKernelCore/
// QuadConvolution.swift: u8 im2col, tiles over 16-channel blocks) with 2 x 16 microkernels of
// widening multiplies and pairwise accumulates (Tile2x16NEON.swift), and the NEON
// requantization (RequantizeNEON.swift). Inputs are shifted to s8 (x - 128) and the shift's
// term folded into the bias (`packQuadsShifted`), so every product is s8 x s8: the same bits as
// every family. No ISA flags beyond the arm64 baseline.

import NiNKernelCore

/// The im2col chunks: u8 values, whole 2-pixel tiles, 16 bytes of slack for im2col's vector stores.
let im2colNEON = Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 2, slack: 16)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here (Embedded: not into callers)
public func convolutionNEONScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colNEON.bytes(outWidth: geometry.outWidth, kPadded: quadPaddedK(geometry), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packQuadsShifted`: `convolveQuads` with the NEON tiles.
@export(interface)  // compiled only here (Embedded: not into callers)
public func convolutionNEON(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, layout: im2colNEON, tiles: NEONTiles.self)
}

/// The NEON microkernels: 2 x 16 tiles (two of them side by side make the 32-channel tile), and
/// one pixel at a time. They count every tap (the shifted padding bytes are in the bias).
enum NEONTiles: QuadTiles {
    static var pairTilePixels: Int { 2 }
    static var blockTilePixels: Int { 2 }
    static var skipsPaddingTaps: Bool { false }

    @inline(__always)
    static func pairTile(_ rows: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                         kQuads: Int, bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                         channel: Int, channels: Int) {
        tile2x16NEON(rows, kPadded: kPadded, taps: taps, weights: weights, bias: bias, requant: requant,
                     output: output, channel: channel, channels: 16)
        tile2x16NEON(rows, kPadded: kPadded, taps: taps, weights: weights + kQuads * 64, bias: bias + 16,
                     requant: requant + RequantBlock.bytes, output: output, channel: channel + 16,
                     channels: channels - 16)
    }

    @inline(__always)
    static func blockTile(_ rows: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                          bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                          channel: Int, channels: Int) {
        tile2x16NEON(rows, kPadded: kPadded, taps: taps, weights: weights, bias: bias, requant: requant,
                     output: output, channel: channel, channels: channels)
    }

    @inline(__always)
    static func pixel(_ row: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                      channels: Int) {
        pixel1x16NEON(row, taps: taps, weights: weights, bias: bias, requant: requant, output: output,
                      channels: channels)
    }
}
