// The AVX2 weight layouts, packed at model load, and the choice between the family's two
// convolutions. A layer whose int16 sums provably cannot saturate (MaddubsBound.swift) is packed
// for the u8 vpmaddubsw kernels (the quad layout of `packQuads`, `[block][kQuads][16][4]` int8,
// the input zero point folded into the bias); any other runs the int16 kernels: per block of 16
// output channels, int16 weights by K pairs (`[block][kPairs][16][2]`, what one vpmaddwd
// multiplies), the bias as is. Both share the requantization tables. Plain Swift (no
// intrinsics): it runs once per layer.

import NiNKernelCore

/// Packs one convolution for `convolutionAVX2`, or nil when memory runs out.
public func packAVX2(_ layer: ConvolutionWeights) -> PackedConvolution? {
    if let step = maddubsStep(for: layer) {
        let packed = packQuads(layer)
        packed?.variant = step.rawValue
        return packed
    }
    let k = layer.kernelSize
    let kPairs = (k + 1) / 2
    guard let packed = PackedConvolution(outChannels: layer.outChannels, kGroups: kPairs, groupBytes: 2 * 2) else { return nil }
    // Channel by channel into its lane of its block (the storage is zeroed, so the K padding and
    // the padding channels stay 0).
    let weights = packed.weights.assumingMemoryBound(to: Int16.self)
    for o in 0..<layer.outChannels {
        let row = layer.weights + o * k
        let lane = weights + (o / 16) * kPairs * 16 * 2 + (o % 16) * 2
        for kk in 0..<k { lane[(kk >> 1) * 32 + (kk & 1)] = Int16(row[kk]) }
        packed.bias[o] = layer.bias[o]
    }
    RequantBlock.fill(packed, from: layer)
    return packed
}
