// NiNContext: one inference stream. Owns the arena every tensor is planned into, the worker
// pool, and the results of the last run. A run allocates nothing and makes no system call other
// than waking workers that went to sleep between runs.

import NiNCPU
import NiNKernelCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An inference stream over a shared model. Use from one thread at a time.
public final class NiNContext: ParallelJob, @unchecked Sendable {
    /// The model this context runs (kept alive by the context).
    public let model: NiNModel
    /// Where every tensor lives in the arena.
    public let plan: ArenaPlan
    /// Threads a run uses (1 = the calling thread only).
    public let threads: Int
    /// Images in the last successful run (0 before any).
    public private(set) var resultCount = 0
    /// When true, each run records every layer's wall time in `layerNanoseconds` (one
    /// monotonic clock read per layer, no allocation).
    public var profiling = false
    /// Smallest share of a layer (multiply-accumulates, or window reads for pools) worth handing
    /// to another thread; smaller layers run on the calling thread alone. Results do not depend on it.
    public var minimumWorkPerPart = 262_144
    /// Wall time of each layer in the last profiled run, in nanoseconds.
    public private(set) var layerNanoseconds: [UInt64]

    private let arena: UnsafeMutableRawPointer
    private let ownsArena: Bool
    private let pool: WorkerPool
    /// The layer being split across the pool (set before each `pool.run`).
    /// The layer being split across the pool (set before each `pool.run`, read by the workers).
    private var current: LayerJob?
    /// True while a batch runs image by image on the lanes (lane layout); `imageCount` images.
    private var imageMode = false
    private var imageCount = 0
    /// The images of a `run(count:view:)`, one slot per image of the batch (allocated with the
    /// context, so a run allocates nothing), and whether the run in progress prepares them.
    private let pendingViews: UnsafeMutablePointer<PixelView>
    private var preparing = false
    /// 0 while no call holds the context, else 1 + the fork generation of the process whose
    /// thread holds it (see `exclusively`).
    private let holder = Atomic<UInt>(0)

    /// Most threads a context may use (`NIN_MAX_THREADS` of nin.h; a test checks they agree).
    public static let maxThreads = 256
    /// Most images one run may take (`NIN_MAX_BATCH` of nin.h).
    public static let maxBatchSize = 65536

    /// Refuses a thread count or batch size outside 1...maxThreads or 1...maxBatchSize; the
    /// message names the field as `prefix` + "threads" or "batch_size".
    public static func checkLimits(threads: Int, batchSize: Int, prefix: String = "") throws(NiNError) {
        guard (1...maxThreads).contains(threads) else { throw .invalid("\(prefix)threads is \(threads), expected 1 to \(maxThreads)") }
        guard (1...maxBatchSize).contains(batchSize) else {
            throw .invalid("\(prefix)batch_size is \(batchSize), expected 1 to \(maxBatchSize)")
        }
    }

    /// Bytes of arena a context of `model` with `batchSize` and `threads` needs.
    public static func arenaBytes(model: NiNModel, batchSize: Int, threads: Int = 1) -> Int {
        makePlan(model: model, batchSize: batchSize, threads: threads).arenaBytes
    }

    /// The plan of a context: tensors, results and the optimized kernels' per-thread scratch.
    static func makePlan(model: NiNModel, batchSize: Int, threads: Int) -> ArenaPlan {
        // In lane layout (several threads, batch > 1) a kernel call covers one image at most.
        let rowsBatch = ArenaPlan.usesLanes(threads: threads, batchSize: batchSize) ? 1 : batchSize
        var scratch = 0
        for layer in model.graph.layers where layer.kind == .convolution {
            scratch = max(scratch, model.kernels.scratchBytes(layer.geometry, rowsBatch * layer.output.height))
        }
        return ArenaPlan(graph: model.graph, batchSize: batchSize, threads: threads, scratchBytes: scratch)
    }

    /// Plans the arena, allocates it and starts `threads - 1` workers.
    public convenience init(model: NiNModel, threads: Int = 1, batchSize: Int = 1) throws(NiNError) {
        try self.init(model: model, threads: threads, batchSize: batchSize, arena: nil)
    }

    /// As above, with an optional caller-owned arena (64-byte aligned, at least `arenaBytes`).
    package init(model: NiNModel, threads: Int, batchSize: Int, arena given: UnsafeMutableRawBufferPointer?) throws(NiNError) {
        try NiNContext.checkLimits(threads: threads, batchSize: batchSize)
        let plan = NiNContext.makePlan(model: model, batchSize: batchSize, threads: threads)
        if let given {
            guard let base = given.baseAddress else { throw .invalid("arena pointer is NULL but arena_bytes is \(given.count)") }
            guard Int(bitPattern: base) % MemoryPlan.alignment == 0 else { throw .invalid("arena is not 64-byte aligned") }
            guard given.count >= plan.arenaBytes else {
                throw NiNError(.bufferTooSmall, "arena has \(given.count) bytes but this model and batch size need \(plan.arenaBytes)")
            }
            arena = base
            ownsArena = false
        } else {
            var memory: UnsafeMutableRawPointer?
            guard posix_memalign(&memory, MemoryPlan.alignment, max(plan.arenaBytes, 64)) == 0, let memory else {
                throw NiNError(.outOfMemory, "cannot allocate an arena of \(plan.arenaBytes) bytes")
            }
            arena = memory
            ownsArena = true
        }
        do {
            pool = try WorkerPool(threadCount: threads)
        } catch {
            if ownsArena { free(arena) }
            throw error
        }
        self.model = model
        self.plan = plan
        self.threads = threads
        self.layerNanoseconds = [UInt64](repeating: 0, count: model.graph.layers.count)
        self.pendingViews = .allocate(capacity: batchSize)
    }

    deinit {
        if ownsArena { free(arena) }
        pendingViews.deallocate()
    }

    // MARK: Exclusive use

    /// Runs `body` with the context claimed for the calling thread. A context serves one call at a
    /// time: a second thread that calls in meanwhile (a run, or a result read during a run) gets
    /// `.state` at once, never a crash or a torn result. A claim made in a parent process before
    /// a fork does not hold in the child, where the thread that made it does not exist.
    package func exclusively<R>(_ body: () throws(NiNError) -> R) throws(NiNError) -> R {
        let mine = ninpriv_fork_generation() &+ 1
        var seen = holder.load(ordering: .relaxed)
        while true {
            if seen == mine { throw NiNError(.state, "context is in use by another thread") }
            let (claimed, found) = holder.compareExchange(expected: seen, desired: mine, ordering: .acquiring)
            if claimed { break }
            seen = found
        }
        defer { holder.store(0, ordering: .releasing) }
        return try body()
    }

    // MARK: Running

    /// Prepares `images` (any size, 1-4 channels) as docs/PREPROCESSING.md says and runs them.
    public func run(images: [Image]) throws(NiNError) {
        try checkCount(images.count)
        let input = arenaPointer(plan.tensorOffset(after: -1), as: UInt8.self)
        for (n, image) in images.enumerated() {
            image.pixels.withUnsafeBufferPointer { pixels in
                let view = PixelView(base: pixels.baseAddress!, width: image.width, height: image.height,
                                     channels: image.channels, stride: image.stride)
                prepareImage(view, shape: model.graph.input, into: input + n * model.graph.input.elementCount)
            }
        }
        execute(count: images.count)
    }

    /// Runs `count` borrowed pixel views, `view(n)` giving image n (the C entry point; the
    /// caller has checked every view). Allocates nothing.
    /// In lane layout each lane prepares the images it runs, so a batch's preparation is shared
    /// across the threads too; otherwise the images are prepared here first.
    package func run(count: Int, view: (Int) -> PixelView) throws(NiNError) {
        try checkCount(count)
        for n in 0..<count { pendingViews[n] = view(n) }
        preparing = true
        defer { preparing = false }
        if !(plan.lanes > 0 && count > 1) {
            for n in 0..<count { prepareInput(n) }
        }
        execute(count: count)
    }

    /// Prepares image `n` of the run in progress into its slot of the input tensor (nothing when
    /// the run's input came prepared).
    private func prepareInput(_ n: Int) {
        guard preparing else { return }
        let input = arenaPointer(plan.tensorOffset(after: -1), as: UInt8.self)
        prepareImage(pendingViews[n], shape: model.graph.input, into: input + n * model.graph.input.elementCount)
    }

    /// Runs prepared u8 input, `count` images of H x W x C.
    public func run(preparedInput: [UInt8], count: Int) throws(NiNError) {
        try preparedInput.withUnsafeBufferPointer { (buffer) throws(NiNError) in try run(prepared: buffer, count: count) }
    }

    /// Runs prepared u8 input from a borrowed buffer.
    package func run(prepared: UnsafeBufferPointer<UInt8>, count: Int) throws(NiNError) {
        try checkCount(count)
        let need = count * model.graph.input.elementCount
        guard prepared.count == need, let source = prepared.baseAddress else {
            throw .invalid("prepared input has \(prepared.count) bytes but \(count) image(s) of \(model.graph.input) need \(need)")
        }
        arenaPointer(plan.tensorOffset(after: -1), as: UInt8.self).update(from: source, count: need)
        execute(count: count)
    }

    /// Runs prepared float input (N x C x H x W in [0, 1]) from a borrowed buffer.
    package func run(preparedFloat: UnsafeBufferPointer<Float>, count: Int) throws(NiNError) {
        try checkCount(count)
        let need = count * model.graph.input.elementCount
        guard preparedFloat.count == need, let source = preparedFloat.baseAddress else {
            throw .invalid("prepared input has \(preparedFloat.count) values but \(count) image(s) of \(model.graph.input) need \(need)")
        }
        let rounding = ninpriv_fp_round_to_nearest()
        let quantized = quantizeFloatInput(source, count: count, shape: model.graph.input,
                                           into: arenaPointer(plan.tensorOffset(after: -1), as: UInt8.self))
        ninpriv_fp_restore(rounding)
        guard quantized else {
            throw .invalid("prepared input contains NaN")
        }
        execute(count: count)
    }

    /// Forgets the last run's results: every run starts with this, so a run that fails leaves none.
    package func invalidateResults() {
        resultCount = 0
    }

    private func checkCount(_ count: Int) throws(NiNError) {
        invalidateResults()
        guard count >= 1, count <= plan.batchSize else {
            throw .invalid("run of \(count) image(s): expected 1 to the context's batch size \(plan.batchSize)")
        }
    }

    /// Runs prepared u8 input and hands every layer's output (u8 NHWC, or the head's int32
    /// sums) to `observe` as soon as it is computed: for tests and tools that check each layer.
    public func run(preparedInput: [UInt8], count: Int, observe: (_ layer: Int, _ output: [UInt8]) -> Void) throws(NiNError) {
        try checkCount(count)
        let need = count * model.graph.input.elementCount
        guard preparedInput.count == need else {
            throw .invalid("prepared input has \(preparedInput.count) bytes but \(count) image(s) of \(model.graph.input) need \(need)")
        }
        arenaPointer(plan.tensorOffset(after: -1), as: UInt8.self).update(from: preparedInput, count: need)
        withoutActuallyEscaping(observe) { observe in
            execute(count: count) { layer, bytes in observe(layer, Array(bytes)) }
        }
    }

    /// Runs the network over the prepared input of `count` images, then the logits and softmax.
    /// In lane layout a batch is spread over the threads image by image; otherwise (and for a
    /// single image) each layer is split across the threads by output rows.
    private func execute(count: Int, observer: ((Int, UnsafeRawBufferPointer) -> Void)? = nil) {
        resultCount = 0
        // The requantization and the logits are float32 arithmetic in round-to-nearest; a host
        // that changed the rounding mode gets it back when the run returns. (Workers set it once.)
        let rounding = ninpriv_fp_round_to_nearest()
        defer { ninpriv_fp_restore(rounding) }
        let layerCount = model.graph.layers.count
        if plan.lanes > 0 && count > 1 {
            if let observer {
                // For tests and tools: image by image on lane 0, each layer's outputs gathered.
                var gathered = [[UInt8]](repeating: [], count: layerCount)
                for n in 0..<count {
                    runLayers(image: n, lane: 0, batch: 1, split: true) { layer, bytes in gathered[layer] += bytes }
                }
                for (layer, bytes) in gathered.enumerated() { bytes.withUnsafeBytes { observer(layer, $0) } }
            } else {
                imageCount = count
                imageMode = true
                pool.run(self, parts: min(threads, count))
                imageMode = false
            }
        } else {
            runLayers(image: 0, lane: 0, batch: count, split: true, observer: observer)
        }
        let head = model.graph.layers[layerCount - 1]
        finishLogits(sums: arenaPointer(plan.tensorOffset(after: layerCount - 1), as: Int32.self), layer: head, count: count)
        resultCount = count
    }

    /// Runs every layer for `batch` images starting at image `n`, on lane `t`'s tensors; with
    /// `split` each layer is shared out across the pool, else it runs on the calling thread.
    private func runLayers(image n: Int, lane t: Int, batch: Int, split: Bool,
                           observer: ((Int, UnsafeRawBufferPointer) -> Void)? = nil) {
        for (index, layer) in model.graph.layers.enumerated() {
            let start = profiling && split ? monotonicNanoseconds() : 0
            let job = LayerJob(
                layerIndex: index,
                args: KernelArguments(
                    input: UnsafePointer(arenaPointer(plan.tensorOffset(after: index - 1, image: n, lane: t), as: UInt8.self)),
                    output: arena + plan.tensorOffset(after: index, image: n, lane: t),
                    inShape: layer.input, outShape: layer.output, batch: batch, window: layer.window,
                    inputZeroPoint: layer.inputZeroPoint, outputZeroPoint: layer.outputZeroPoint,
                    low: layer.relu ? layer.outputZeroPoint : 0),
                work: work(of: layer))
            if layer.kind == .globalAveragePool {
                globalAveragePoolReference(job.args)
            } else if split {
                current = job
                pool.run(self, parts: parts(for: layer, rows: job.args.rowCount, count: batch))
                current = nil
            } else {
                runKernel(job, scratchThread: t)
            }
            if profiling && split { layerNanoseconds[index] = monotonicNanoseconds() &- start }
            if let observer {
                observer(index, UnsafeRawBufferPointer(start: arena + plan.tensorOffset(after: index, image: n, lane: t),
                                                       count: batch * plan.imageBytes[index + 1]))
            }
        }
    }

    /// How many threads a layer is worth: waking a worker costs microseconds, so a part gets at
    /// least `minimumWorkPerPart` multiply-accumulates (or window reads, for pools).
    private func parts(for layer: Layer, rows: Int, count: Int) -> Int {
        let work = count * (layer.kind == .convolution
            ? layer.macs : layer.output.elementCount * layer.window.kernelHeight * layer.window.kernelWidth)
        return max(1, min(threads, rows, work / max(minimumWorkPerPart, 1)))
    }

    /// Part `part` of the current work: in image mode, every `parts`-th image from `part` on,
    /// whole, on lane `part`; else a contiguous slice of the current layer's output rows.
    func runPart(_ part: Int, of parts: Int) {
        if imageMode {
            for n in stride(from: part, to: imageCount, by: parts) {
                prepareInput(n)
                runLayers(image: n, lane: part, batch: 1, split: false)
            }
            return
        }
        guard let job = current else { return }
        runKernel(job, part: part, of: parts, scratchThread: part)
    }

    /// What `layer` computes, with a convolution's parameters from the model image.
    private func work(of layer: Layer) -> LayerJob.Work {
        switch layer.kind {
        case .convolution:
            .convolution(ConvolutionParameters(
                weights: model.pointer(layer.weightsOffset, as: Int8.self), bias: model.pointer(layer.biasOffset, as: Int32.self),
                multiplier: model.pointer(layer.multiplierOffset, as: Int32.self),
                shift: model.pointer(layer.shiftOffset, as: Int32.self)))
        case .maxPool: .maxPool
        case .averagePool: .averagePool
        case .globalAveragePool: .globalAveragePool
        }
    }

    /// Runs part `part` of `parts` of one layer's kernel, with thread (or lane) `scratchThread`'s
    /// scratch. A part is a contiguous slice of the output rows, except for the optimized
    /// convolutions, which share out their tiles of pixels (a 13-row layer splits 7/6 by rows,
    /// evenly by tiles).
    private func runKernel(_ job: LayerJob, part: Int = 0, of parts: Int = 1, scratchThread: Int) {
        let args = job.args
        let rows = args.rowCount
        let rowRange = (rows * part / parts)..<(rows * (part + 1) / parts)
        switch job.work {
        case .convolution(let parameters):
            if let convolution = model.kernels.convolution, let packed = model.packed[job.layerIndex] {
                convolution(args.convolutionCall(packed, scratch: arena + plan.scratchOffset(thread: scratchThread)), part, parts)
            } else {
                convolutionReference(args, parameters, rows: rowRange)
            }
        case .maxPool:
            if let maxPool = model.kernels.maxPool {
                maxPool(args.geometry, args.input, args.output.assumingMemoryBound(to: UInt8.self), rowRange)
            } else {
                maxPoolReference(args, rows: rowRange)
            }
        case .averagePool: averagePoolReference(args, rows: rowRange)
        case .globalAveragePool: break
        }
    }

    func arenaPointer<T>(_ offset: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        (arena + offset).assumingMemoryBound(to: type)
    }
}

/// One layer of a run, as the calling thread hands it to the workers: its tensors and window,
/// and what it computes (a convolution with its parameters, or a pool).
struct LayerJob {
    /// What a layer computes.
    enum Work {
        case convolution(ConvolutionParameters)
        case maxPool
        case averagePool
        case globalAveragePool
    }

    /// The layer's index in the graph (the packed weights of an optimized family are kept by it).
    let layerIndex: Int
    let args: KernelArguments
    let work: Work
}

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call on Linux).
func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}
