// Scheduling a run: the layers one after another, each split across the context's worker
// threads by output rows (or, for the optimized convolutions, by tiles of pixels); or, for a
// batch in lane layout, whole images dealt to the threads, each on its lane's tensors. A layer
// reaches the workers as one `LayerCall` value (its fixed `LayerStep`, made at load, and this
// run's tensors); its kernel is the model's family's.

import NiNCPU
import NiNKernelCore
import NiNPlatform

extension NiNContext {
    /// Runs the network over `count` images, then the logits: the input tensor's, or with
    /// `views` those images, each prepared by the thread that runs it. In lane layout a
    /// batch is spread over the threads image by image; otherwise (and for a single image) each
    /// layer is split across the threads by output rows. The caller has invalidated the results.
    func execute(count: Int, views: UnsafeBufferPointer<PixelView>? = nil,
                 observer: ((Int, UnsafeRawBufferPointer) -> Void)? = nil) {
        // The requantization and the logits are float32 arithmetic in round-to-nearest; a host
        // that changed the rounding mode gets it back when the run returns. (Workers set it once.)
        let rounding = ninpriv_fp_round_to_nearest()
        defer { ninpriv_fp_restore(rounding) }
        defer { model.kernels.endRun?() }  // (AMX: the caller's thread releases its tiles)
        let layerCount = model.graph.layers.count
        if plan.runsInLanes(count: count) {
            if let observer {
                // For tests and tools: image by image on lane 0, each layer's outputs gathered.
                var gathered = [[UInt8]](repeating: [], count: layerCount)
                for n in 0..<count {
                    runLayers(image: n, lane: 0, batch: 1, split: true) { layer, bytes in gathered[layer] += bytes }
                }
                for (layer, bytes) in gathered.enumerated() { bytes.withUnsafeBytes { observer(layer, $0) } }
            } else {
                poolWork = .images(views)
                pool.run(self, parts: count)  // (an image a part, on the lane of the thread that claims it)
                poolWork = nil
            }
        } else {
            if let views { for n in 0..<count { prepareInput(n, from: views[n]) } }
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
        for step in model.steps {
            let index = step.index
            let start = profiling && split ? monotonicNanoseconds() : 0
            let call = LayerCall(
                step: step,
                input: UnsafePointer(arenaPointer(plan.tensorOffset(after: index - 1, image: n, lane: t), as: UInt8.self)),
                output: arena + plan.tensorOffset(after: index, image: n, lane: t), batch: batch)
            if split && step.kind != .globalAveragePool {  // (the head's sums: one pass, on this thread)
                poolWork = .layer(call)
                pool.run(self, parts: parts(for: call))
                poolWork = nil
            } else {
                runKernel(call, scratchThread: t)
            }
            if profiling && split { layerNanoseconds[index] = monotonicNanoseconds() &- start }
            if let observer {
                observer(index, UnsafeRawBufferPointer(start: call.output, count: batch * plan.imageBytes[index + 1]))
            }
        }
    }

    /// How many parts a layer is split into: `partsPerThread` per thread, so that a thread slow
    /// to run (a worker whose core another process holds) delays the layer by one small part at
    /// most, the others claiming the rest; but each part gets at least `minimumWorkPerPart`
    /// multiply-accumulates (or window reads, for pools), since waking a worker costs microseconds.
    private func parts(for call: LayerCall) -> Int {
        guard threads > 1 else { return 1 }
        let work = saturatingProduct(call.batch, call.step.workPerImage)
        return max(1, min(threads * partsPerThread, call.rowCount, work / max(minimumWorkPerPart, 1)))
    }

    /// Part `part` of the pool's current work, on thread `thread`: in lane layout image `part`,
    /// whole, on the thread's lane; else a contiguous slice of the current layer's output rows,
    /// with the thread's scratch.
    package func runPart(_ part: Int, of parts: Int, thread: Int) {
        switch poolWork {
        case .images(let views):
            if let views { prepareInput(part, from: views[part]) }
            runLayers(image: part, lane: thread, batch: 1, split: false)
        case .layer(let call):
            runKernel(call, part: part, of: parts, scratchThread: thread)
        case nil:
            break
        }
    }

    /// Runs part `part` of `parts` of one layer's kernel, with thread (or lane) `scratchThread`'s
    /// scratch. A part is a contiguous slice of the output rows, except for the optimized
    /// convolutions, which share out their tiles of pixels (a 13-row layer splits 7/6 by rows,
    /// evenly by tiles).
    private func runKernel(_ call: LayerCall, part: Int = 0, of parts: Int = 1, scratchThread: Int) {
        let rows = call.rowCount, g = call.step.geometry
        let rowRange = (rows * part / parts)..<(rows * (part + 1) / parts)
        switch call.step.kind {
        case .convolution:
            model.kernels.convolution.run(call.convolution(scratch: arena + plan.scratchOffset(layer: call.step.index, thread: scratchThread)), part, parts)
        case .maxPool:
            model.kernels.maxPool(g, call.input, call.output.assumingMemoryBound(to: UInt8.self), rowRange)
        case .averagePool:
            averagePoolReference(g, input: call.input, output: call.output.assumingMemoryBound(to: UInt8.self), rows: rowRange,
                                 zeroPoint: call.step.inputZeroPoint)
        case .globalAveragePool:  // (whole, on one thread: runLayers)
            globalAveragePoolReference(g, input: call.input, sums: call.output.assumingMemoryBound(to: Int32.self),
                                       batch: call.batch, zeroPoint: call.step.inputZeroPoint)
        }
    }
}

/// What one `pool.run` hands the threads, as one value.
enum PoolWork {
    /// Parts of one layer: slices of its output rows (tiles of pixels for the optimized convolutions).
    case layer(LayerCall)
    /// A batch in lane layout: part n is image n, whole, on the lane of the thread that runs
    /// it; with views (one per image), first prepared from its view, else already in the input tensor.
    case images(UnsafeBufferPointer<PixelView>?)
}

/// CLOCK_MONOTONIC in nanoseconds (`Platform`'s clock).
@inline(__always)
func monotonicNanoseconds() -> UInt64 { Platform.monotonicNanoseconds() }
