// The AMX weight layout: the AVX-512 VNNI one, with K padded to whole tiles. Per block of 16
// output channels it is `[blockQuads][16][4]` s8, which is exactly tdpbusd's B operand (K/4 rows
// of 16 channels x 4 bytes, 64-byte rows): a B tile is 16 consecutive quad rows of a block,
// loaded with a stride of 64. `blockQuads` is K's quads rounded up to a multiple of 16, the
// extra rows zero, so every K chunk is a whole tile: the A bytes they meet (the rest of an
// im2col row, or the next pixel's channels read in place) add nothing. The input zero point is
// folded into the bias as for VNNI (the tiles multiply raw u8 inputs).

import NiNKernelCore

/// Quads of one AMX tile row (64 bytes of K).
let amxTileQuads = 16

/// The K quads of a layer of K = `kernelSize` rounded up to whole tiles: a block's rows of
/// packed weights, and the reach of an A row's tile loads in quads.
func amxBlockQuads(kernelSize: Int) -> Int {
    ((kernelSize + 3) / 4 + amxTileQuads - 1) / amxTileQuads * amxTileQuads
}

/// Packs one convolution for `convolutionAMX`, or nil when memory runs out.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func packAMX(_ layer: ConvolutionWeights) -> PackedConvolution? {
    packQuads(layer, blockQuads: amxBlockQuads(kernelSize: layer.kernelSize))
}
