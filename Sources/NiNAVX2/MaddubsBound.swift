// When the AVX2 family may use vpmaddubsw: it adds adjacent u8 x s8 products into int16 with
// saturation, so a layer runs on it only if no int16 sum it forms can exceed 32767 in magnitude
// for any input. That is decided once, at model load, from the layer's real weights and the
// bound on its inputs (255, or the producing layer's `output_max`: docs/FORMAT.md): exactness by
// construction, for any model file. A model converted with 7-bit activations and weights
// (QUANTIZATION.md) passes the four-product bound; with 8-bit weights and inputs it usually
// fails, and the layer runs on the int16 kernels.

import NiNKernelCore

/// The widest exact `MaddubsStep` for `layer`, or nil when even pairs could saturate.
func maddubsStep(for layer: ConvolutionWeights) -> MaddubsStep? {
    let k = layer.kernelSize, limit = 32767
    let inputMax = Int(layer.inputMax)
    guard k > 0 else { return .quadPairs }
    // Per row, each pair's magnitude sum (pair p: weights 2p and 2p + 1; a weight past k counts
    // 0), then two zero pairs; two plain loops over it the compiler vectorizes (a model's weights
    // are read once more at load: per-weight branches there cost 4 ms of a 20 ms cold start).
    let pairCount = (k + 1) / 2
    var pairSums = [UInt16](repeating: 0, count: pairCount + 2)
    var quadPairs = true
    return pairSums.withUnsafeMutableBufferPointer { (pairs) -> MaddubsStep? in
        for o in 0..<layer.outChannels {
            let row = layer.weights + o * k
            @inline(__always) func magnitude(_ w: Int8) -> UInt16 { UInt16(abs(Int16(w))) }
            // Each int16 sum of the pair step: weights 2p and 2p + 1.
            var largestPair: UInt16 = 0
            for p in 0..<(k / 2) {
                let sum = magnitude(row[2 * p]) + magnitude(row[2 * p + 1])
                pairs[p] = sum
                largestPair = max(largestPair, sum)
            }
            if k % 2 == 1 {
                pairs[k / 2] = magnitude(row[k - 1])
                largestPair = max(largestPair, pairs[k / 2])
            }
            if inputMax * Int(largestPair) > limit { return nil }
            // Each of the quad-pair step: the same pair position in two consecutive quads (a run
            // of taps may start at any quad, so every consecutive pair of quads counts): quad q
            // (4(q + 1) < k) with quad q + 1, pairs 2q and 2q + 1 with 2q + 2 and 2q + 3.
            guard quadPairs else { continue }
            var largestQuad: UInt16 = 0
            for p in 0..<(2 * ((k - 1) / 4)) { largestQuad = max(largestQuad, pairs[p] + pairs[p + 2]) }
            let sum = Int(largestQuad)
            if inputMax * sum > limit { quadPairs = false }
        }
        return quadPairs ? .quadPairs : .pairs
    }
}
