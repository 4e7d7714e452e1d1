// AVX-VNNI convolution (Intel client CPUs from Alder Lake on, and Xeons from Sapphire Rapids:
// VEX-encoded vpdpbusd on ymm, for CPUs without AVX-512 VNNI): the shared quad driver
// (Sources/NiNKernelCore/QuadConvolution.swift: u8 im2col skipping the padding taps, tiles over
// 16-channel blocks) with 6 x 16 ymm microkernels (Tile6x16AVXVNNI.swift), and the AVX2
// requantization (Sources/NiNAVX2/RequantizeAVX2.swift). u8 x s8 products summed four at a
// time straight into int32, so exact for any weights: the same bits as every family. Weights
// are packed by `packQuads`. Compiled with -mavxvnni in its own target; called only when the
// CPU has it.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// The im2col chunks: u8 values, whole 6-pixel tiles, 16 bytes of slack for im2col's vector stores.
let im2colAVXVNNI = Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 6, slack: 16)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVXVNNIScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colAVXVNNI.bytes(outWidth: geometry.outWidth, kPadded: quadPaddedK(geometry), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packQuads`: `convolveQuads` with the ymm tiles.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVXVNNI(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, layout: im2colAVXVNNI, tiles: AVXVNNITiles.self)
}

/// The AVX-VNNI microkernels: 6 x 16 tiles (two weight vectors and six pixel broadcasts per K
/// quad feed 12 vpdpbusd; two of them side by side make the 32-channel tile), and one pixel at a time.
enum AVXVNNITiles: QuadTiles {
    static var pairTilePixels: Int { 6 }
    static var blockTilePixels: Int { 6 }

    @inline(__always)
    static func pairTile(_ rows: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                         kQuads: Int, bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                         channel: Int, channels: Int) {
        tile6x16AVXVNNI(rows, kPadded: kPadded, taps: taps, weights: weights, bias: bias, requant: requant,
                        output: output, channel: channel, channels: 16)
        tile6x16AVXVNNI(rows, kPadded: kPadded, taps: taps, weights: weights + kQuads * 64, bias: bias + 16,
                        requant: requant + RequantBlock.bytes, output: output, channel: channel + 16,
                        channels: channels - 16)
    }

    @inline(__always)
    static func blockTile(_ rows: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                          bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                          channel: Int, channels: Int) {
        tile6x16AVXVNNI(rows, kPadded: kPadded, taps: taps, weights: weights, bias: bias, requant: requant,
                        output: output, channel: channel, channels: channels)
    }

    @inline(__always)
    static func pixel(_ row: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                      channels: Int) {
        pixel1x16AVXVNNI(row, taps: taps, weights: weights, bias: bias, requant: requant, output: output,
                         channels: channels)
    }
}
