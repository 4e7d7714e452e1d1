// The AVX-512 VNNI weight layout, packed at model load: per block of 16 output channels, int8
// weights by K quads (`[block][kQuads][16][4]`, what one vpdpbusd multiplies), the input zero
// point folded into the bias, and the shared requantization tables. Plain Swift (no intrinsics):
// it runs once per layer.

import NiNKernelCore

/// Packs one convolution for `convolutionVNNI`, or nil when memory runs out. The kernel
/// multiplies raw u8 inputs, so the bias becomes `bias - z * sum(w)`: acc = bias - z * sum(w) +
/// sum(w * x), and wrapping int32 arithmetic is exact there since the true accumulator fits in
/// int32.
public func packAVX512VNNI(_ layer: ConvolutionWeights) -> PackedConvolution? {
    packAVX512VNNI(layer, trailingBytes: 0)
}

/// As `packAVX512VNNI(_:)`, with `trailingBytes` of readable zeros after the last block's
/// weights (the AMX family's tile loads read up to 15 quads past a block's end).
public func packAVX512VNNI(_ layer: ConvolutionWeights, trailingBytes: Int) -> PackedConvolution? {
    let k = layer.kernelSize
    let kQuads = (k + 3) / 4
    guard let packed = PackedConvolution(outChannels: layer.outChannels, kGroups: kQuads, groupBytes: 4 * 1,
                                         trailingBytes: trailingBytes) else { return nil }
    // Channel by channel into its lane of its block (the storage is zeroed, so the K padding and
    // the padding channels stay 0).
    let weights = packed.weights.assumingMemoryBound(to: Int8.self)
    for o in 0..<layer.outChannels {
        let row = layer.weights + o * k
        let lane = weights + (o / 16) * kQuads * 16 * 4 + (o % 16) * 4
        var sum: Int32 = 0
        for kk in 0..<k {
            lane[(kk >> 2) * 64 + (kk & 3)] = row[kk]
            sum &+= Int32(row[kk])
        }
        packed.bias[o] = layer.bias[o] &- layer.inputZeroPoint &* sum
    }
    RequantBlock.fill(packed, from: layer)
    return packed
}
