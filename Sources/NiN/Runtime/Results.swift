// Results of a run: logits (the dequantized global-average-pool sums), softmax probabilities,
// the top-k classes and the confidence maps, read from the context's arena where the last run
// left them. Used by Swift callers and by the C API's getters alike; the top-k selection and
// the copies allocate nothing.

import NiNPlatform

extension NiNContext {
    /// Turns the head's int32 sums of `count` images into logits and softmax probabilities.
    func finishLogits(sums: UnsafeMutablePointer<Int32>, layer: Layer, count: Int) {
        let classes = layer.output.channels
        let factor = layer.inputScale / Float(layer.input.height * layer.input.width)
        let logits = arenaPointer(plan.logitsOffset, as: Float.self)
        let probabilities = arenaPointer(plan.probabilitiesOffset, as: Float.self)
        for i in 0..<(count * classes) { logits[i] = Float(sums[i]) * factor }
        for n in 0..<count {
            softmax(logits + n * classes, into: probabilities + n * classes, count: classes)
        }
    }

    /// Logits of image `index` of the last run (bit-exact dequantized global-average-pool sums).
    public func logits(_ index: Int) throws(NiNError) -> [Float] {
        Array(try result(.logits, image: index))
    }

    /// Softmax probabilities of image `index` of the last run.
    public func probabilities(_ index: Int) throws(NiNError) -> [Float] {
        Array(try result(.probabilities, image: index))
    }

    /// The `k` most probable classes of image `index`, best first; ties go to the lower index.
    public func topK(_ index: Int, k: Int) throws(NiNError) -> [(classIndex: Int, probability: Float)] {
        var best: [(classIndex: Int, probability: Float)] = []
        try forEachTopK(index, k: k) { best.append(($0, $1)) }
        return best
    }

    /// Calls `body(class, probability)` for the `k` most probable classes of image `index`, best
    /// first (ties: lower index first), without allocating (the C API's nin_context_top_k).
    package func forEachTopK(_ index: Int, k: Int, _ body: (Int, Float) -> Void) throws(NiNError) {
        let classes = model.graph.classCount
        guard (1...classes).contains(k) else { throw .invalid("k is \(k), expected 1 to \(classes)") }
        selectTopK(try result(.probabilities, image: index).baseAddress!, count: classes, k: k, body)
    }

    /// The float results of a run, one vector of `classCount` values per image.
    package enum ResultKind {
        /// The logits (dequantized global-average-pool sums).
        case logits
        /// Their softmax.
        case probabilities
    }

    /// Image `index`'s `kind` results of the last run, in the arena (valid until the next run):
    /// every read of a result goes through here or `confidenceMapsPointer`, which check that
    /// a run produced it.
    package func result(_ kind: ResultKind, image index: Int) throws(NiNError) -> UnsafeBufferPointer<Float> {
        try checkResultIndex(index)
        let offset = kind == .logits ? plan.logitsOffset : plan.probabilitiesOffset
        let classes = model.graph.classCount
        return UnsafeBufferPointer(start: arenaPointer(offset, as: Float.self) + index * classes, count: classes)
    }

    /// The u8 confidence maps of image `index` of the last run (H x W x classes), in the arena.
    private func confidenceMapsPointer(image index: Int) throws(NiNError) -> UnsafePointer<UInt8> {
        try checkResultIndex(index)
        return UnsafePointer(arenaPointer(plan.tensorOffset(after: model.graph.layers.count - 2, image: index), as: UInt8.self))
    }

    /// Throws unless the last run produced results for image `index`.
    private func checkResultIndex(_ index: Int) throws(NiNError) {
        guard resultCount > 0 else { throw NiNError(.state, "no results yet: run the context first") }
        guard index >= 0, index < resultCount else {
            throw .invalid("result index \(index) is outside the last run's \(resultCount) image(s)")
        }
    }

    /// Copies the dequantized confidence maps of image `index` into `out` as classes x H x W
    /// (no allocation).
    package func copyConfidenceMaps(_ index: Int, into out: UnsafeMutablePointer<Float>) throws(NiNError) {
        let maps = try confidenceMapsPointer(image: index)
        let head = model.graph.layers[model.graph.layers.count - 1]
        let shape = head.input, plane = shape.height * shape.width
        for p in 0..<plane {
            for c in 0..<shape.channels {
                out[c * plane + p] = head.inputScale * Float(Int32(maps[p * shape.channels + c]) - head.inputZeroPoint)
            }
        }
    }

    /// The u8 confidence maps of image `index` (classes innermost: H x W x classes) and their
    /// scale and zero point.
    public func confidenceMaps(_ index: Int) throws(NiNError) -> (values: [UInt8], scale: Float, zeroPoint: Int32) {
        let maps = try confidenceMapsPointer(image: index)
        let head = model.graph.layers[model.graph.layers.count - 1]
        let size = head.input.elementCount
        return (Array(UnsafeBufferPointer(start: maps, count: size)), head.inputScale, head.inputZeroPoint)
    }

}

/// Calls `body(class, probability)` for the `k` largest of `p[0..<count]`, best first, ties to
/// the lower class index, without allocating: each pick is the best class that comes after the
/// previous pick in that order (O(k x count), and k and count are small).
func selectTopK(_ p: UnsafePointer<Float>, count: Int, k: Int, _ body: (Int, Float) -> Void) {
    var previous = (probability: Float.infinity, index: -1)
    for _ in 0..<k {
        var best = -1
        for c in 0..<count {
            let after = p[c] < previous.probability || (p[c] == previous.probability && c > previous.index)
            if after && (best < 0 || p[c] > p[best]) { best = c }
        }
        guard best >= 0 else { return }
        body(best, p[best])
        previous = (p[best], best)
    }
}

/// Numerically stable float32 softmax: `exp(x - max) / sum`.
func softmax(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    var largest = x[0]
    for i in 1..<count { largest = max(largest, x[i]) }
    var sum: Float = 0
    for i in 0..<count {
        out[i] = Platform.exponential(x[i] - largest)
        sum += out[i]
    }
    for i in 0..<count { out[i] /= sum }
}
