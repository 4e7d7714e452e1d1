// The wasmrelaxed family's packing for layers over 8-bit inputs (a network's first layer): the
// relaxed dot multiplies an s8 operand by a 7-bit one, and such inputs are neither, so the tiles
// of Tile2x16WasmRelaxedShifted.swift swap the roles. The input x (0 to 255) becomes the s8
// operand x - 128, and the weight w the 7-bit one w + 64 (0 to 127, so the layer's weights must
// lie in -64...63: format 1.1's 7-bit weights do; a layer whose weights do not takes wasmsimd).
// Over a pixel's K inputs (the K padding's weights stay 0):
//   sum (x - 128)(w + 64) = sum x w + 64 sum x - 128 sum w - 8192 K,
// so sum x w = that - 64 sum x + 128 sum w + 8192 K. The bias takes the constant terms here
// (with the input zero point's, as `packQuads` folds it); the tile takes -64 sum x per pixel.
// A pair of products lies in -32512...32258, so no engine's int16 pair sum saturates.

import NiNKernelCore

/// The offset added to each weight of a shifted layer: its weights must lie in
/// `-shiftedWeightOffset ..< shiftedWeightOffset`.
let shiftedWeightOffset: Int32 = 64

/// Whether every weight of `layer` lies in -64...63 (so w + 64 is the relaxed dot's 7-bit operand).
func weightsFitShift(_ layer: ConvolutionWeights) -> Bool {
    for i in 0..<(layer.outChannels * layer.kernelSize) {
        let w = Int32(layer.weights[i])
        if w < -shiftedWeightOffset || w >= shiftedWeightOffset { return false }
    }
    return true
}

/// Packs a layer whose weights pass `weightsFitShift` for the shifted tiles: the quad layout of
/// `packQuads` holding w + 64 (the K padding and the padding channels 0), and the biases
/// `bias - z sum w + 128 sum w + 8192 K` (wrapping: exact modulo 2^32, and the true sum fits
/// int32); nil when memory runs out.
func packShiftedQuads(_ layer: ConvolutionWeights) -> PackedConvolution? {
    let k = layer.kernelSize, kQuads = (k + 3) / 4
    guard let packed = PackedConvolution(outChannels: layer.outChannels, kGroups: kQuads, groupBytes: 4) else { return nil }
    writeQuadWeights(layer.weights, outChannels: layer.outChannels, kernelSize: k, blockQuads: kQuads, to: packed.weights)
    let bytes = packed.weights.assumingMemoryBound(to: Int8.self)
    for o in 0..<layer.outChannels {
        let lane = (o / 16) * kQuads * 64 + (o % 16) * 4
        var sum: Int32 = 0
        for kk in 0..<k {
            let w = layer.weights[o * k + kk]
            sum &+= Int32(w)
            bytes[lane + (kk / 4) * 64 + (kk & 3)] = w &+ Int8(shiftedWeightOffset)
        }
        packed.bias[o] = layer.bias[o] &- layer.inputZeroPoint &* sum &+ 128 &* sum &+ 128 &* shiftedWeightOffset &* Int32(k)
    }
    RequantBlock.fill(packed, from: layer)
    return packed
}
