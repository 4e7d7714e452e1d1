// The i8mm convolution (ARMv8.6 int8 matrix multiply extension, `i8mm`: Neoverse V1/N2 and
// later, Cortex-A510/A710/X2 and later, Graviton 3 and later, Apple M2 and later): the dot
// families' 4 x 16 tiles (Sources/NiNNEONDot/Tile4x16NEONDot.swift) with the mixed-sign dot
// product, SUDOT by element (s8 weights x u8 inputs, summed four at a time into int32), so the
// inputs need no shift: `packQuads`' weights and bias as the x86 VNNI families use them, and
// padding taps skipped where the input zero point is 0. The same bits as every family.
// Compiled with +i8mm in its own target; called only when the CPU has it.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore
import NiNNEONDot

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionI8MMScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    quadScratchBytes(geometry, totalRows: totalRows, tiles: DotTiles<MixedDotI8MM>.self)
}

/// Packs one convolution for the i8mm family (`packQuads`: u8 inputs as they are); nil when
/// memory runs out.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func packI8MM(_ layer: ConvolutionWeights) -> PackedConvolution? { packQuads(layer) }

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packI8MM`: `convolveQuads` with the dot tiles on the mixed-sign instruction.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionI8MM(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolveQuads(a, part: part, of: parts, tiles: DotTiles<MixedDotI8MM>.self)
}

/// The mixed-sign dot product: u8 inputs x s8 weights (USDOT, which takes a splat input quad as
/// the by-element SUDOT).
enum MixedDotI8MM: QuadDotInstruction {
    static var shiftsInputs: Bool { false }
    @inline(__always)
    static func dot(_ acc: SIMD4<Int32>, _ w: SIMD16<Int8>, _ x: SIMD16<UInt8>) -> SIMD4<Int32> {
        vusdotq_s32(acc, x, w)
    }
}
