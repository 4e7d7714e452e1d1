// AVX-512 VNNI convolution: the shared quad driver (Sources/NiNKernelCore/QuadConvolution.swift:
// u8 im2col skipping the padding taps, tiles over 16-channel blocks) with zmm microkernels on
// vpdpbusd (Tile8x32AVX512VNNI.swift; Tile16x16AVX512VNNI.swift for a last odd block;
// Pixel1x16AVX512VNNI.swift for a part's last pixels; u8 x s8, four products summed straight
// into int32: no intermediate saturation, so exact), and the float32 requantization of
// QUANTIZATION.md in 5 to 7 zmm operations per 16 channels (RequantizeAVX512VNNI.swift).
// Bit-exact with the reference kernel. Weights are packed by `packQuads`.
// Compiled with -mavx512vnni -mavx512vl in its own target; called only when the CPU has them.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Output pixels per microkernel tile of one block.
let tileRows = 16

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVX512VNNIScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: AVX512VNNITiles.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packQuads`: `convolveQuads` with the zmm tiles.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAVX512VNNI(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, tiles: AVX512VNNITiles.self)
}

/// The VNNI microkernels: 8 x 32 main tiles (two zmm of weights and eight pixel broadcasts per
/// K quad feed 16 vpdpbusd), 16 x 16 tiles for a last single block, and one pixel at a time.
enum AVX512VNNITiles: QuadTiles {
    static var pairTilePixels: Int { 8 }
    static var blockTilePixels: Int { tileRows }
    /// u8 values, whole 16-pixel tiles, and 16 bytes of slack after the rows (im2col may store a
    /// whole 16-byte vector for a shorter run, see copyRun). The chunk and the weights a chunk
    /// sweeps share the L2 (1 MiB on Zen 4; the classic 5x5 layer's weights take 600 KiB): 96 KiB
    /// measured about 1% faster than 192 KiB on the classic model, 64 KiB 2% slower.
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: tileRows, slack: 16) }

    @inline(__always)
    static func pairTile(_ t: QuadTileArguments) {
        tile8x32AVX512VNNI(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, kQuads: t.kQuads, bias: t.bias,
                           requant: t.requant, output: t.output, channel: t.channel, channels: t.channels)
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        tile16x16AVX512VNNI(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant,
                            output: t.output, channel: t.channel, channels: t.channels)
    }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        pixel1x16AVX512VNNI(t.rows, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant, output: t.pixelOutput,
                            channels: t.channels)
    }
}
