// The dot product convolution (ARMv8.2 asimddp: Cortex-A55/A76 and later, Neoverse, Apple
// silicon): the shared quad driver (Sources/NiNKernelCore/QuadConvolution.swift) with 4 x 16
// SDOT microkernels (Tile4x16NEONDot.swift), the NEON requantization and the weights of
// `packQuadsShifted` (Sources/NiNNEON): inputs shifted to s8, the shift's term in the bias, so
// the same bits as every family. Compiled with +dotprod in its own target; called only when
// the CPU has it.

import NiNKernelCore
import NiNNEON

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionNEONDotScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: DotTiles<SignedDotNEONDot>.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packQuadsShifted`: `convolveQuads` with the SDOT tiles (`DotTiles`).
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionNEONDot(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, tiles: DotTiles<SignedDotNEONDot>.self)
}
