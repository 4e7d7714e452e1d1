// The AMX weight layout: the AVX-512 VNNI one. Per block of 16 output channels it is
// `[kQuads][16][4]` s8, which is exactly tdpbusd's B operand (K/4 rows of 16 channels x 4 bytes,
// 64-byte rows): a B tile is 16 consecutive quad rows of a block, loaded with a stride of 64.
// The input zero point is folded into the bias as for VNNI (the tiles multiply raw u8 inputs).

import NiNAVX512VNNI
import NiNKernelCore

/// Bytes of zeros after the last block: a K chunk that ends a run loads a whole 16-row B tile
/// from its first quad, up to 15 rows past the block (their products meet zero A bytes).
let amxWeightSlack = 15 * 64

/// Packs one convolution for `convolutionAMX`, or nil when memory runs out.
public func packAMX(_ layer: ConvolutionWeights) -> PackedConvolution? {
    packQuads(layer, trailingBytes: amxWeightSlack)
}
