// The tensors of one context and their places. Two layouts:
// - batch layout (one thread, or batch 1): every layer's output holds the whole batch, layers
//   run one after another and each is split across threads by output rows;
// - lane layout (several threads and batch > 1): each thread is a lane that runs whole images
//   through a private one-image chain of tensors, so an image's activations stay in its core's
//   cache; only the input, the confidence maps and the results are batch-sized.
// Either way the planner places the buffers; a one-image run in lane layout uses lane 0's chain
// and splits each layer across the threads.

/// Every tensor of a context with its arena offset. Steps: layer i runs at step i; the results
/// (sums, logits, probabilities and the confidence maps) stay live through the final step.
public struct ArenaPlan: Sendable {
    /// The placement of the arena's buffers (in lane layout each lane is one block).
    public let memory: MemoryPlan
    /// The placement inside one lane (lane layout only).
    public let lane: MemoryPlan?
    /// The batch size the plan holds.
    public let batchSize: Int
    /// Lanes (threads running whole images); 0 in batch layout.
    public let lanes: Int
    let layerCount: Int
    /// Bytes per image of the tensor after layer i, at index i + 1 (index 0: the input).
    let imageBytes: [Int]
    /// Lane layout: request index in `lane` of layer i's output (nil for the maps and the head).
    let laneIndex: [Int?]
    let hasScratch: Bool

    /// Plans `graph` for `batchSize` images and `threads` threads, with `scratchBytes` of kernel
    /// scratch per thread.
    /// Whether a context of `threads` and `batchSize` runs a batch in lanes (one image per
    /// thread at a time) rather than layer by layer over the whole batch.
    public static func usesLanes(threads: Int, batchSize: Int) -> Bool { threads > 1 && batchSize > 1 }

    public init(graph: ModelGraph, batchSize: Int, threads: Int = 1, scratchBytes: Int = 0) {
        let layers = graph.layers
        let finalStep = layers.count
        let mapsProducer = layers.count - 2  // -1 when the input feeds the head directly
        let classes = graph.classCount
        var imageBytes = [graph.input.elementCount]
        for layer in layers {
            imageBytes.append(layer.output.elementCount * (layer.kind == .globalAveragePool ? 4 : 1))
        }
        self.batchSize = batchSize
        self.layerCount = layers.count
        self.imageBytes = imageBytes
        self.hasScratch = scratchBytes > 0
        let useLanes = ArenaPlan.usesLanes(threads: threads, batchSize: batchSize)

        var requests: [BufferRequest] = []
        if !useLanes {
            // [0] input, [i + 1] output of layer i, [L + 1] logits, [L + 2] probabilities, [L + 3 + t] scratch t.
            requests.append(BufferRequest(name: "input", bytes: batchSize * imageBytes[0],
                                          firstUse: 0, lastUse: mapsProducer == -1 ? finalStep : 0))
            for (i, layer) in layers.enumerated() {
                let lastUse = (layer.kind == .globalAveragePool || i == mapsProducer) ? finalStep : i + 1
                requests.append(BufferRequest(name: "\(i):\(layer.kind.name)", bytes: batchSize * imageBytes[i + 1],
                                              firstUse: i, lastUse: lastUse))
            }
            requests.append(BufferRequest(name: "logits", bytes: batchSize * classes * 4, firstUse: finalStep, lastUse: finalStep))
            requests.append(BufferRequest(name: "probabilities", bytes: batchSize * classes * 4, firstUse: finalStep, lastUse: finalStep))
            for t in 0..<(scratchBytes > 0 ? threads : 0) {
                requests.append(BufferRequest(name: "scratch:\(t)", bytes: scratchBytes, firstUse: 0, lastUse: finalStep))
            }
            self.memory = planMemory(requests)
            self.lane = nil
            self.lanes = 0
            self.laneIndex = []
            return
        }

        // One lane: the outputs of every layer but the maps producer and the head, then scratch.
        var laneRequests: [BufferRequest] = []
        var laneIndex: [Int?] = []
        for (i, layer) in layers.enumerated() {
            guard i != mapsProducer, layer.kind != .globalAveragePool else { laneIndex.append(nil); continue }
            laneIndex.append(laneRequests.count)
            laneRequests.append(BufferRequest(name: "\(i):\(layer.kind.name)", bytes: imageBytes[i + 1], firstUse: i, lastUse: i + 1))
        }
        if scratchBytes > 0 {
            laneRequests.append(BufferRequest(name: "scratch", bytes: scratchBytes, firstUse: 0, lastUse: finalStep))
        }
        let lanePlan = planMemory(laneRequests)
        // [0] input, [1] maps, [2] sums, [3] logits, [4] probabilities, [5 + t] lane t; all live throughout.
        let mapsBytes = mapsProducer >= 0 ? imageBytes[mapsProducer + 1] : 0
        requests = [
            BufferRequest(name: "input", bytes: batchSize * imageBytes[0], firstUse: 0, lastUse: finalStep),
            BufferRequest(name: "maps", bytes: batchSize * mapsBytes, firstUse: 0, lastUse: finalStep),
            BufferRequest(name: "sums", bytes: batchSize * classes * 4, firstUse: 0, lastUse: finalStep),
            BufferRequest(name: "logits", bytes: batchSize * classes * 4, firstUse: 0, lastUse: finalStep),
            BufferRequest(name: "probabilities", bytes: batchSize * classes * 4, firstUse: 0, lastUse: finalStep),
        ]
        for t in 0..<threads {
            requests.append(BufferRequest(name: "lane:\(t)", bytes: max(lanePlan.arenaBytes, 1), firstUse: 0, lastUse: finalStep))
        }
        self.memory = planMemory(requests)
        self.lane = lanePlan
        self.lanes = threads
        self.laneIndex = laneIndex
    }

    /// Bytes the arena needs.
    public var arenaBytes: Int { memory.arenaBytes }

    /// Offset of image `n`'s part of the tensor written by layer `layer` (-1: the network
    /// input), as seen by lane `t` (lane layout; ignored in batch layout).
    func tensorOffset(after layer: Int, image n: Int = 0, lane t: Int = 0) -> Int {
        let perImage = n * imageBytes[layer + 1]
        guard let lane else { return memory.offsets[layer + 1] + perImage }
        if layer == -1 { return memory.offsets[0] + perImage }
        if layer == layerCount - 1 { return memory.offsets[2] + perImage }
        if layer == layerCount - 2 { return memory.offsets[1] + perImage }
        return memory.offsets[5 + t] + lane.offsets[laneIndex[layer]!]
    }

    /// Offset of the float32 logits, `batch x classes`.
    var logitsOffset: Int { lane == nil ? memory.offsets[layerCount + 1] : memory.offsets[3] }
    /// Offset of the float32 probabilities, `batch x classes`.
    var probabilitiesOffset: Int { lane == nil ? memory.offsets[layerCount + 2] : memory.offsets[4] }
    /// Offset of thread `t`'s kernel scratch (in lane layout: lane `t`'s).
    func scratchOffset(thread t: Int) -> Int {
        guard let lane else { return memory.offsets[layerCount + 3 + t] }
        return memory.offsets[5 + t] + lane.offsets[lane.offsets.count - 1]
    }
}
