// The i8mm convolution (ARMv8.6 int8 matrix multiply extension, `i8mm`: Neoverse V1/N2 and
// later, Cortex-A510/A710/X2 and later, Graviton 3 and later, Apple M2 and later): the shared
// quad driver (Sources/NiNKernelCore/QuadConvolution.swift) with the `usmmla` tiles
// (Tile4x16I8MM.swift: u8 inputs x s8 weights, 2 pixels x 2 channels x 8 K values per
// instruction) on `packI8MM`'s weights (PackI8MM.swift), so the inputs need no shift and
// padding taps are skipped where the input zero point is 0; and the NEON requantization. The
// same bits as every family. Compiled with +i8mm in its own target; called only when the CPU
// has it.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore
import NiNNEONDot

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionI8MMScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: MatrixTilesI8MM.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packI8MM`: `convolveQuads` with the `usmmla` tiles.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionI8MM(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, tiles: MatrixTilesI8MM.self)
}

/// The mixed-sign dot product: u8 inputs x s8 weights (USDOT), for the peak loop
/// (PeakI8MM.swift).
enum MixedDotI8MM: QuadDotInstruction {
    static var shiftsInputs: Bool { false }
    @inline(__always)
    static func dot(_ acc: SIMD4<Int32>, _ w: SIMD16<Int8>, _ x: SIMD16<UInt8>) -> SIMD4<Int32> {
        vusdotq_s32(acc, x, w)
    }
}
