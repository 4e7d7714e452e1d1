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
    var pairs = true, quadPairs = true
    for o in 0..<layer.outChannels {
        let row = layer.weights + o * k
        @inline(__always) func magnitude(_ i: Int) -> Int { i < k ? abs(Int(row[i])) : 0 }
        // Each int16 sum of the pair step: weights 2i and 2i + 1.
        var i = 0
        while i < k {
            if inputMax * (magnitude(i) + magnitude(i + 1)) > limit { pairs = false }
            i += 2
        }
        // Each of the quad-pair step: the same pair position in two consecutive quads (a run of
        // taps may start at any quad, so every consecutive pair of quads counts).
        var q = 0
        while 4 * (q + 1) < k {
            for j in [0, 2] {
                let sum = magnitude(4 * q + j) + magnitude(4 * q + j + 1) + magnitude(4 * q + 4 + j) + magnitude(4 * q + 5 + j)
                if inputMax * sum > limit { quadPairs = false }
            }
            q += 1
        }
        if !pairs { return nil }
    }
    return quadPairs ? .quadPairs : .pairs
}
