// The dot product convolution (ARMv8.2 asimddp: Cortex-A55/A76 and later, Neoverse, Apple
// silicon): the shared quad driver (Sources/NiNKernelCore/QuadConvolution.swift) with 4 x 16
// SDOT microkernels (Tile4x16NEONDot.swift) and the NEON requantization. SDOT multiplies s8 by
// s8, so a layer whose inputs reach 255 runs on the weights of `packQuadsShifted`
// (Sources/NiNNEON): inputs shifted to s8, the shift's term in the bias. A layer whose inputs
// and input zero point are at most 127 (7-bit activations, format 1.1: every layer after a
// requantization in a model converted so) needs no shift: its u8 inputs are valid s8, and it
// runs on `packQuads`' weights as i8mm does (`packNEON`, shared with neon), one XOR fewer per input load and the padding taps
// skipped. Either way the same bits as every family. Compiled with +dotprod in its own target;
// called only when the CPU has it.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore
import NiNNEON

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows (the
/// same for both instructions: the tiles differ only in the input shift).
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionNEONDotScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: DotTiles<SignedDotNEONDot>.self)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packNEON` (Sources/NiNNEON/PackNEON.swift): `convolveQuads` with the SDOT tiles (`DotTiles`) on shifted or on
/// 7-bit inputs, as the layer's variant says.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionNEONDot(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    if a.variant == NEONVariant.sevenBit {
        convolveQuads(a, part: part, of: parts, tiles: DotTiles<SevenBitDotNEONDot>.self)
    } else {
        convolveQuads(a, part: part, of: parts, tiles: DotTiles<SignedDotNEONDot>.self)
    }
}

/// The name of the neondot kernel of a packed layer's `variant` (`nin-infer --profile`).
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func neonDotKernelName(variant: Int) -> String {
    variant == NEONVariant.sevenBit ? "sdot 7-bit" : "sdot shifted"
}

/// SDOT on u8 inputs of at most 127, taken as s8 as they are (no shift), against `packQuads`'
/// weights.
enum SevenBitDotNEONDot: QuadDotInstruction {
    static var shiftsInputs: Bool { false }
    @inline(__always)
    static func dot(_ acc: SIMD4<Int32>, _ w: SIMD16<Int8>, _ x: SIMD16<UInt8>) -> SIMD4<Int32> {
        vdotq_s32(acc, w, unsafeBitCast(x, to: SIMD16<Int8>.self))
    }
}
