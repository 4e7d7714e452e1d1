// When the wasmrelaxed family's tiles may run a layer: they add two quads' int16 pair sums
// before widening them (Tile2x16WasmRelaxed.swift), and i16x8.add wraps, so each int16 lane it
// forms, the four products of one pair position in two consecutive quads, must hold its true
// value for every input.
// Decided once, at model load, from the layer's real weights and its inputs' bound (at most
// 127 here, and the zero point that stands for the padding): the lane's largest value is that
// bound times its positive weights' sum, its smallest minus the bound times its negative
// weights' magnitudes. A run of taps may start at any quad, so every consecutive pair of quads
// counts. Exactness by construction, for any model file; a layer that fails takes wasmsimd.
// With 7-bit weights (|w| <= 64) every layer passes: 4 x 64 x 127 < 32768.

import NiNKernelCore

/// Whether every int16 sum `WasmRelaxedTiles` forms for `layer` fits int16 for inputs
/// from 0 to `inputBound`: per output channel, pair position p of quad q with that of quad q + 1
/// (weights 4q + 2p, 4q + 2p + 1, 4q + 2p + 4, 4q + 2p + 5; a weight past K counts 0).
func quadPairSumsFitInt16(_ layer: ConvolutionWeights, inputBound: Int) -> Bool {
    let k = layer.kernelSize
    let quads = (k + 3) / 4
    guard quads > 1 else { return true }  // no two quads to add
    // The largest positive and negative weight sums a lane may take (|sum| of each side).
    let positiveLimit = 32767 / max(inputBound, 1), negativeLimit = 32768 / max(inputBound, 1)
    for o in 0..<layer.outChannels {
        let row = layer.weights + o * k
        @inline(__always) func weight(_ i: Int) -> Int { i < k ? Int(row[i]) : 0 }
        for q in 0..<(quads - 1) {
            for p in 0..<2 {
                let i = 4 * q + 2 * p
                var positive = 0, negative = 0
                @inline(__always) func add(_ w: Int) { if w > 0 { positive += w } else { negative -= w } }
                add(weight(i)); add(weight(i + 1)); add(weight(i + 4)); add(weight(i + 5))
                if positive > positiveLimit || negative > negativeLimit { return false }
            }
        }
    }
    return true
}
