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

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVXVNNIScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: AVXVNNITiles.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packQuads`: `convolveQuads` with the ymm tiles.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVXVNNI(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, tiles: AVXVNNITiles.self)
}

/// The AVX-VNNI microkernels: 6 x 16 tiles (two weight vectors and six pixel broadcasts per K
/// quad feed 12 vpdpbusd; two of them side by side make the 32-channel tile), and one pixel at
/// a time; im2col chunks of u8 values, whole 6-pixel tiles, 16 bytes of slack for its vector stores.
enum AVXVNNITiles: QuadBlockTiles {
    static var blockTilePixels: Int { 6 }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 6, slack: 16) }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        tile6x16AVXVNNI(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant,
                        output: t.output, channel: t.channel, channels: t.channels)
    }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        pixel1x16AVXVNNI(t.rows, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant, output: t.pixelOutput,
                         channels: t.channels)
    }
}
