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

    /// Where each buffer starts, by name (read from `memory` once it is planned).
    let inputOffset: Int
    /// Offset of the float32 logits, `batch x classes`.
    let logitsOffset: Int
    /// Offset of the float32 probabilities, `batch x classes`.
    let probabilitiesOffset: Int
    /// Batch layout: layer i's output (batch-sized). Lane layout: only the maps producer's and
    /// the head's outputs are batch-sized, the rest are nil here and live in the lanes.
    let outputOffsets: [Int?]
    /// Lane layout: where lane t starts, and layer i's output inside a lane (nil for the maps
    /// producer and the head).
    let laneOffsets: [Int]
    let laneOutputOffsets: [Int?]
    /// Layer i's kernel scratch for thread (or lane) t, at `scratchOffsets[i * threads + t]`
    /// (0 for a layer whose kernel needs none: nothing reads it).
    let scratchOffsets: [Int]
    /// Threads (or lanes) with scratch of their own: the stride of `scratchOffsets`.
    let threads: Int

    /// Whether a context of `threads` and `batchSize` runs a batch in lanes (one image per
    /// thread at a time) rather than layer by layer over the whole batch. Never in a build for a
    /// platform without threads (`-D NIN_SINGLE_THREADED`: the microcontroller firmware, whose
    /// code then leaves the lane layout out).
    public static func usesLanes(threads: Int, batchSize: Int) -> Bool {
        #if NIN_SINGLE_THREADED
        false
        #else
        threads > 1 && batchSize > 1
        #endif
    }

    /// Whether a run of `count` images on this plan goes image by image on the lanes (the lane
    /// layout, for a batch), rather than layer by layer with each layer split across the threads.
    public func runsInLanes(count: Int) -> Bool {
        #if NIN_SINGLE_THREADED
        false
        #else
        lanes > 0 && count > 1
        #endif
    }

    /// Plans `graph` for `batchSize` images and `threads` threads, with `scratchBytes[i]` of
    /// kernel scratch per thread for layer i (none where it is 0 or missing), live only at that
    /// layer's step: a layer's scratch may share bytes with the tensors of other steps (TFLite
    /// Micro's scratch buffers are planned the same way).
    public init(graph: ModelGraph, batchSize: Int, threads: Int = 1, scratchBytes: [Int] = []) {
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
        let resultBytes = batchSize * classes * 4
        /// Layer i's scratch bytes per thread.
        func layerScratch(_ i: Int) -> Int { i < scratchBytes.count ? scratchBytes[i] : 0 }

        var requests: [BufferRequest] = []
        /// Appends a request and returns its index, by which its offset is read after planning.
        func request(_ label: BufferRequest.Label, _ bytes: Int, _ firstUse: Int, _ lastUse: Int) -> Int {
            requests.append(BufferRequest(label: label, bytes: bytes, firstUse: firstUse, lastUse: lastUse))
            return requests.count - 1
        }

        guard ArenaPlan.usesLanes(threads: threads, batchSize: batchSize) else {
            let input = request(.text("input"), batchSize * imageBytes[0], 0, mapsProducer == -1 ? finalStep : 0)
            let outputs = layers.enumerated().map { i, layer in
                request(.layerOutput(i, layer.kind), batchSize * imageBytes[i + 1], i,
                        layer.kind == .globalAveragePool || i == mapsProducer ? finalStep : i + 1)
            }
            let logits = request(.text("logits"), resultBytes, finalStep, finalStep)
            let probabilities = request(.text("probabilities"), resultBytes, finalStep, finalStep)
            var scratch: [Int] = []  // request indices, layer-major; -1: none
            for i in layers.indices {
                for t in 0..<threads { scratch.append(layerScratch(i) > 0 ? request(.numbered("scratch", t), layerScratch(i), i, i) : -1) }
            }
            let memory = planMemory(requests)
            self.memory = memory
            self.lane = nil
            self.lanes = 0
            inputOffset = memory.offsets[input]
            outputOffsets = outputs.map { memory.offsets[$0] }
            logitsOffset = memory.offsets[logits]
            probabilitiesOffset = memory.offsets[probabilities]
            laneOffsets = []
            laneOutputOffsets = []
            scratchOffsets = scratch.map { $0 < 0 ? 0 : memory.offsets[$0] }
            self.threads = threads
            return
        }

        // One lane: the outputs of every layer but the maps producer and the head, then scratch.
        var laneRequests: [BufferRequest] = []
        var laneOutputs: [Int?] = []
        for (i, layer) in layers.enumerated() {
            guard i != mapsProducer, layer.kind != .globalAveragePool else { laneOutputs.append(nil); continue }
            laneOutputs.append(laneRequests.count)
            laneRequests.append(BufferRequest(label: .layerOutput(i, layer.kind), bytes: imageBytes[i + 1], firstUse: i, lastUse: i + 1))
        }
        var laneScratch: [Int] = []  // request indices in the lane, by layer; -1: none
        for i in layers.indices {
            laneScratch.append(layerScratch(i) > 0 ? laneRequests.count : -1)
            if layerScratch(i) > 0 {
                laneRequests.append(BufferRequest(label: .text("scratch"), bytes: layerScratch(i), firstUse: i, lastUse: i))
            }
        }
        let lanePlan = planMemory(laneRequests)
        // The batch-sized buffers and the lanes, all live throughout.
        let mapsBytes = mapsProducer >= 0 ? imageBytes[mapsProducer + 1] : 0
        let input = request(.text("input"), batchSize * imageBytes[0], 0, finalStep)
        let maps = request(.text("maps"), batchSize * mapsBytes, 0, finalStep)
        let sums = request(.text("sums"), resultBytes, 0, finalStep)
        let logits = request(.text("logits"), resultBytes, 0, finalStep)
        let probabilities = request(.text("probabilities"), resultBytes, 0, finalStep)
        let lanes = (0..<threads).map { t in request(.numbered("lane", t), max(lanePlan.arenaBytes, 1), 0, finalStep) }
        let memory = planMemory(requests)
        self.memory = memory
        self.lane = lanePlan
        self.lanes = threads
        inputOffset = memory.offsets[input]
        outputOffsets = layers.indices.map { i in
            i == mapsProducer ? memory.offsets[maps] : i == layers.count - 1 ? memory.offsets[sums] : nil
        }
        logitsOffset = memory.offsets[logits]
        probabilitiesOffset = memory.offsets[probabilities]
        let laneStarts = lanes.map { memory.offsets[$0] }
        laneOffsets = laneStarts
        laneOutputOffsets = laneOutputs.map { $0.map { lanePlan.offsets[$0] } }
        var scratchOffsets: [Int] = []
        for index in laneScratch {
            for start in laneStarts { scratchOffsets.append(index < 0 ? 0 : start + lanePlan.offsets[index]) }
        }
        self.scratchOffsets = scratchOffsets
        self.threads = threads
    }

    /// Bytes the arena needs.
    public var arenaBytes: Int { memory.arenaBytes }

    /// Offset of image `n`'s part of the tensor written by layer `layer` (-1: the network
    /// input), as seen by lane `t` (lane layout; ignored in batch layout).
    func tensorOffset(after layer: Int, image n: Int = 0, lane t: Int = 0) -> Int {
        let perImage = n * imageBytes[layer + 1]
        if layer == -1 { return inputOffset + perImage }
        if let batchSized = outputOffsets[layer] { return batchSized + perImage }
        return laneOffsets[t] + laneOutputOffsets[layer]!
    }

    /// Offset of thread `t`'s kernel scratch for layer `layer` (in lane layout: in lane `t`); 0
    /// when the plan has none (the layer's kernel needs none, so it reads none).
    func scratchOffset(layer: Int, thread t: Int) -> Int {
        let index = layer * threads + t
        return t < threads && index < scratchOffsets.count ? scratchOffsets[index] : 0
    }
}
