// The weight packing of the arm64 families: `packQuads`' layout (`[block][kQuads][16][4]`, the
// 16 bytes of four channels' quads per NEON vector, what one SDOT multiplies by a pixel's quad)
// with the inputs' shift to s8 folded into the bias. The kernels multiply `x - 128` (x XOR 0x80:
// a u8 input as s8, what SDOT and SMULL take) by the s8 weights, over every tap (they skip no
// padding taps), so the bias gains 128 x sum(w): acc = bias - z * sum(w) + 128 * sum(w)
// + sum(w * (x - 128)) = bias + sum(w * (x - z)), exact in wrapping int32 arithmetic.

import NiNKernelCore

/// Packs one convolution for the arm64 families; nil when memory runs out. The shifted input
/// `x - 128` has the zero point `z - 128`, so this is `packQuads` of the layer with that zero
/// point: its bias `bias - (z - 128) x sum(w)`, each channel's weights summed once.
@export(interface)  // compiled only here (Embedded: not into callers)
public func packQuadsShifted(_ layer: ConvolutionWeights) -> PackedConvolution? {
    var shifted = layer
    shifted.inputZeroPoint = layer.inputZeroPoint &- 128
    return packQuads(shifted)
}

/// The `PackedConvolution.variant` values of the arm64 s8 x s8 families (neon, neondot) beside
/// the default 0: inputs shifted to s8, weights of `packQuadsShifted` (a layer whose inputs
/// reach 255).
public enum NEONVariant {
    /// Inputs taken as s8 as they are, weights of `packQuads`: a layer whose inputs and input
    /// zero point are at most 127 (7-bit activations, format 1.1), where u8 values are valid s8.
    @inlinable public static var sevenBit: Int { 1 }
}

/// Packs one convolution for neon and neondot: `packQuads` (`NEONVariant.sevenBit`) where the
/// layer's inputs and input zero point are at most 127, so its kernels need no shift and skip
/// padding taps as i8mm does; else `packQuadsShifted`. Nil when memory runs out.
@export(interface)  // compiled only here (Embedded: not into callers)
public func packNEON(_ layer: ConvolutionWeights) -> PackedConvolution? {
    guard layer.inputMax <= 127 && (0...127).contains(layer.inputZeroPoint) else { return packQuadsShifted(layer) }
    let packed = packQuads(layer)
    packed?.variant = NEONVariant.sevenBit
    return packed
}
