// The tensors of one context and their places: builds the buffer requests of a network chain
// (input, every layer output, the results) for a batch size and runs the planner on them.

/// Every tensor of a context with its arena offset. Steps: layer i runs at step i; the results
/// (sums, logits, probabilities and the confidence maps) stay live through the final step.
public struct ArenaPlan: Sendable {
    /// The underlying placement; `memory.requests` are in the order documented on the indices below.
    public let memory: MemoryPlan
    /// The batch size the plan holds.
    public let batchSize: Int
    /// Number of layers; `tensorOffset(after:)` takes -1 for the network input.
    let layerCount: Int

    /// Number of per-thread scratch buffers (0 when the kernels need none).
    let scratchCount: Int

    /// Plans `graph` for `batchSize` images, with `scratchBytes` of kernel scratch for each of
    /// `threads` threads (live through every step).
    public init(graph: ModelGraph, batchSize: Int, threads: Int = 1, scratchBytes: Int = 0) {
        let layers = graph.layers
        let finalStep = layers.count
        var requests: [BufferRequest] = []
        // requests[0]: the prepared input; requests[i + 1]: output of layer i.
        let mapsProducer = layers.count - 2  // -1 when the input feeds the head directly
        requests.append(BufferRequest(name: "input", bytes: batchSize * graph.input.elementCount,
                                      firstUse: 0, lastUse: mapsProducer == -1 ? finalStep : 0))
        for (i, layer) in layers.enumerated() {
            let isHead = layer.kind == .globalAveragePool
            let bytes = batchSize * layer.output.elementCount * (isHead ? 4 : 1)
            let lastUse = (isHead || i == mapsProducer) ? finalStep : i + 1
            requests.append(BufferRequest(name: "\(i):\(layer.kind.name)", bytes: bytes, firstUse: i, lastUse: lastUse))
        }
        let classes = graph.classCount
        requests.append(BufferRequest(name: "logits", bytes: batchSize * classes * 4, firstUse: finalStep, lastUse: finalStep))
        requests.append(BufferRequest(name: "probabilities", bytes: batchSize * classes * 4, firstUse: finalStep, lastUse: finalStep))
        let scratchCount = scratchBytes > 0 ? threads : 0
        for t in 0..<scratchCount {
            requests.append(BufferRequest(name: "scratch:\(t)", bytes: scratchBytes, firstUse: 0, lastUse: finalStep))
        }
        self.memory = planMemory(requests)
        self.batchSize = batchSize
        self.layerCount = layers.count
        self.scratchCount = scratchCount
    }

    /// Bytes the arena needs.
    public var arenaBytes: Int { memory.arenaBytes }

    /// Offset of the tensor written by layer `layer` (-1: the network input).
    func tensorOffset(after layer: Int) -> Int { memory.offsets[layer + 1] }
    /// Offset of the float32 logits, `batch x classes`.
    var logitsOffset: Int { memory.offsets[layerCount + 1] }
    /// Offset of thread `t`'s kernel scratch.
    func scratchOffset(thread t: Int) -> Int { memory.offsets[layerCount + 3 + t] }
    /// Offset of the float32 probabilities, `batch x classes`.
    var probabilitiesOffset: Int { memory.offsets[layerCount + 2] }
}
