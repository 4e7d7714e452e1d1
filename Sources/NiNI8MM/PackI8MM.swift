// The i8mm family's weight packing for its matrix multiply tiles (Tile4x16I8MM.swift): per block
// of 16 output channels, K in octets (8 values, two quads) of channel pairs, `[block][kQuads /
// 2][8 pairs][2][8]`, the 2 x 8 matrix one `usmmla` takes per channel pair; where K has an odd
// number of quads, its last quad laid out as `packQuads` does (`[16][4]`). A block so keeps
// `packQuads`' size (`kQuads x 64` bytes), and the quad driver (convolveQuads) its strides. Read
// from the model's OHWI weights; the bias (`bias - z x sum(w)`: u8 inputs as they are) and
// requantization tables as `packQuads`'.

import NiNKernelCore

/// Packs one convolution for the i8mm family (the layout above); nil when memory runs out.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func packI8MM(_ layer: ConvolutionWeights) -> PackedConvolution? {
    let k = layer.kernelSize
    let kQuads = (k + 3) / 4
    guard let packed = PackedConvolution(outChannels: layer.outChannels, kGroups: kQuads, groupBytes: 4) else { return nil }
    // Channel by channel into its half of its pair (the storage is zeroed, so the K padding and
    // the padding channels stay 0); whole octets move as 8-byte words.
    let weights = packed.weights
    let octets = kQuads / 2
    let wholeOctets = min(octets, k / 8)
    for o in 0..<layer.outChannels {
        let row = UnsafeRawPointer(layer.weights + o * k)
        let block = weights + (o / 16) * kQuads * 64
        let half = block + (o % 16) / 2 * 16 + (o % 2) * 8
        for j in 0..<wholeOctets {
            half.storeBytes(of: row.loadUnaligned(fromByteOffset: 8 * j, as: UInt64.self), toByteOffset: 128 * j, as: UInt64.self)
        }
        for kk in (8 * wholeOctets)..<k {
            let value = row.load(fromByteOffset: kk, as: Int8.self)
            if kk / 8 < octets {
                half.storeBytes(of: value, toByteOffset: 128 * (kk / 8) + kk % 8, as: Int8.self)
            } else {  // the last quad of an odd number
                block.storeBytes(of: value, toByteOffset: 128 * octets + (o % 16) * 4 + kk % 4, as: Int8.self)
            }
        }
        var sum: Int32 = 0
        for kk in 0..<k { sum &+= Int32(layer.weights[o * k + kk]) }
        packed.bias[o] = layer.bias[o] &- layer.inputZeroPoint &* sum
    }
    RequantBlock.fill(packed, from: layer)
    return packed
}
