// The AVX2 family's packing, at model load: the choice between its two convolutions. A layer
// whose int16 sums provably cannot saturate (MaddubsBound.swift) is packed for the u8
// vpmaddubsw kernels (`packQuads`: `[block][kQuads][16][4]` int8, the input zero point folded
// into the bias); any other for the int16 kernel (`packInt16Pairs`: `[block][kPairs][16][2]`
// int16, what one vpmaddwd multiplies). Both share the requantization tables.

import NiNKernelCore

/// Packs one convolution for `convolutionAVX2`, or nil when memory runs out.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func packAVX2(_ layer: ConvolutionWeights) -> PackedConvolution? {
    guard let step = maddubsStep(for: layer) else { return packInt16Pairs(layer) }
    let packed = packQuads(layer)
    packed?.variant = step.rawValue
    return packed
}
