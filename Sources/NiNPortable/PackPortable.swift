// The portable family's weight layout, packed at model load: per block of 16 output channels,
// int16 weights by K pairs (`[block][kPairs][16][2]`: one 16-byte vector holds 4 channels' pairs,
// what one SSE2 pmaddwd multiplies), the bias as is, and the shared requantization tables.

import NiNKernelCore

/// Packs one convolution for `convolutionPortable`, or nil when memory runs out.
public func packPortable(_ layer: ConvolutionWeights) -> PackedConvolution? {
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
