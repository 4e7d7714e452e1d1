// NiNContext: one inference stream. Owns the arena every tensor is planned into, the worker
// pool, and the results of the last run: its lifetime, its exclusive use, and the run entry
// points (input checks and preparation). How a run is spread over the threads is in
// Scheduler.swift, reading the results in Results.swift. A run allocates nothing and makes no
// system call other than waking workers that went to sleep between runs.

import NiNCPU
import NiNKernelCore
import Synchronization
import NiNPlatform

/// An inference stream over a shared model. Use from one thread at a time.
public final class NiNContext: ParallelJob, @unchecked Sendable {
    /// The model this context runs (kept alive by the context).
    public let model: NiNModel
    /// Where every tensor lives in the arena.
    public let plan: ArenaPlan
    /// Threads a run uses (1 = the calling thread only).
    public let threads: Int
    /// Images in the last successful run (0 before any).
    public internal(set) var resultCount = 0
    /// When true, each run records every layer's wall time in `layerNanoseconds` (one
    /// monotonic clock read per layer, no allocation).
    public var profiling = false
    /// Smallest share of a layer (multiply-accumulates, or window reads for pools) worth handing
    /// to another thread; smaller layers run on the calling thread alone. Results do not depend on it.
    public var minimumWorkPerPart = 262_144
    /// Parts per thread a layer is split into when it has the work (`minimumWorkPerPart`); the
    /// threads claim them one at a time. Results do not depend on it. 1 measured best on the
    /// 2-vCPU Zen 4 (docs/ARCHITECTURE.md, "A run"): more parts gave a busy core more chances
    /// to hold one up.
    public var partsPerThread = 1
    /// Wall time of each layer in the last profiled run, in nanoseconds.
    public internal(set) var layerNanoseconds: [UInt64]

    let arena: UnsafeMutableRawPointer
    private let ownsArena: Bool
    let pool: WorkerPool<NiNContext>
    /// What the parts of the pool's current run compute (set by the calling thread before each
    /// `pool.run`, read by the threads inside the parts they claim).
    var poolWork: PoolWork?
    /// The images of a `run(count:view:)`, one slot per image of the batch (allocated with the
    /// context, so a run allocates nothing).
    private let pendingViews: UnsafeMutablePointer<PixelView>
    /// 0 while no call holds the context, else 1 + the fork generation of the process whose
    /// thread holds it (see `exclusively`).
    private let holder = Atomic<UInt>(0)

    /// Most threads a context may use (`NIN_MAX_THREADS` of nin.h; a test checks they agree).
    public static let maxThreads = 256
    /// Most images one run may take (`NIN_MAX_BATCH` of nin.h).
    public static let maxBatchSize = 65536

    /// Refuses a thread count or batch size outside 1...maxThreads or 1...maxBatchSize; the
    /// message names the field as `prefix` + "threads" or "batch_size".
    public static func checkLimits(threads: Int, batchSize: Int, prefix: StaticString = "") throws(NiNError) {
        guard (1...maxThreads).contains(threads) else { throw .invalid("\(prefix)threads is \(threads), expected 1 to \(maxThreads)") }
        guard (1...maxBatchSize).contains(batchSize) else {
            throw .invalid("\(prefix)batch_size is \(batchSize), expected 1 to \(maxBatchSize)")
        }
    }

    /// Bytes of arena a context of `model` with `batchSize` and `threads` needs.
    public static func arenaBytes(model: NiNModel, batchSize: Int, threads: Int = 1) -> Int {
        makePlan(model: model, batchSize: batchSize, threads: threads).arenaBytes
    }

    /// The plan of a context: tensors, results and the optimized kernels' per-thread scratch,
    /// each layer's as large as its kernel needs and live only while that layer runs.
    static func makePlan(model: NiNModel, batchSize: Int, threads: Int) -> ArenaPlan {
        // In lane layout (several threads, batch > 1) a kernel call covers one image at most.
        let rowsBatch = ArenaPlan.usesLanes(threads: threads, batchSize: batchSize) ? 1 : batchSize
        var scratch: [Int] = []
        for (layer, step) in zip(model.graph.layers, model.steps) {
            scratch.append(layer.kind != .convolution ? 0
                : model.kernels.convolution.scratchBytes(layer.geometry, rowsBatch * layer.output.height, step.packed?.variant ?? 0))
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
            guard let memory = Platform.allocate(bytes: max(plan.arenaBytes, 64), alignment: MemoryPlan.alignment) else {
                throw NiNError(.outOfMemory, "cannot allocate an arena of \(plan.arenaBytes) bytes")
            }
            Platform.commitPages(memory, bytes: plan.arenaBytes)  // (its runs take no page fault)
            arena = memory
            ownsArena = true
        }
        do {
            pool = try WorkerPool(threadCount: threads)
        } catch {
            if ownsArena { Platform.deallocate(arena) }
            throw error
        }
        self.model = model
        self.plan = plan
        self.threads = threads
        self.layerNanoseconds = [UInt64](repeating: 0, count: model.graph.layers.count)
        self.pendingViews = .allocate(capacity: batchSize)
    }

    deinit {
        if ownsArena { Platform.deallocate(arena) }
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
    /// In lane layout each thread prepares the images it runs, as for the C entry point.
    public func run(images: [Image]) throws(NiNError) {
        try checkCount(images.count)
        try withPendingViews(of: images[...], from: 0) { () throws(NiNError) in
            try run(count: images.count) { pendingViews[$0] }
        }
    }

    /// Calls `body` with `pendingViews[first...]` viewing `images`, each borrowed for the call.
    private func withPendingViews(of images: ArraySlice<Image>, from first: Int,
                                  _ body: () throws(NiNError) -> Void) throws(NiNError) {
        guard let image = images.first else { return try body() }
        try image.pixels.withUnsafeBufferPointer { (pixels) throws(NiNError) in
            pendingViews[first] = PixelView(base: pixels.baseAddress!, width: image.width, height: image.height,
                                            channels: image.channels, stride: image.stride)
            try withPendingViews(of: images.dropFirst(), from: first + 1, body)
        }
    }

    /// Runs `count` borrowed pixel views, `view(n)` giving image n (the C entry point; the
    /// caller has checked every view). Allocates nothing.
    /// In lane layout each lane prepares the images it runs, so a batch's preparation is shared
    /// across the threads too; otherwise the images are prepared here first.
    package func run(count: Int, view: (Int) -> PixelView) throws(NiNError) {
        try checkCount(count)
        for n in 0..<count { pendingViews[n] = view(n) }
        execute(count: count, views: UnsafeBufferPointer(start: pendingViews, count: count))
    }

    /// Prepares image `n` of the run in progress from `view` into its slot of the input tensor.
    func prepareInput(_ n: Int, from view: PixelView) {
        let input = arenaPointer(plan.tensorOffset(after: -1), as: UInt8.self)
        prepareImage(view, shape: model.graph.input, into: input + n * model.graph.input.elementCount)
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
        (arena + plan.tensorOffset(after: -1)).copyMemory(from: source, byteCount: need)
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
        (arena + plan.tensorOffset(after: -1)).copyMemory(from: preparedInput, byteCount: need)
        withoutActuallyEscaping(observe) { observe in
            execute(count: count) { layer, bytes in observe(layer, Array(bytes)) }
        }
    }

    func arenaPointer<T>(_ offset: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        (arena + offset).assumingMemoryBound(to: type)
    }
}
