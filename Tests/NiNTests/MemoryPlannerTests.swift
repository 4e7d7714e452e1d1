// The arena planner: on random chains and random lifetimes no two simultaneously live buffers
// overlap (checked by brute force), the reported size is exactly the used size, and the plan
// never beats the lower bound; a context's plan gives each layer's kernel scratch that layer's
// step alone.

import NiN
import NiNKernelCheck
import Testing

private func checkPlan(_ plan: MemoryPlan) {
    let requests = plan.requests
    var highest = 0
    for i in requests.indices {
        #expect(plan.offsets[i] % MemoryPlan.alignment == 0)
        highest = max(highest, plan.offsets[i] + requests[i].bytes)
        // Live together: their [firstUse, lastUse] step ranges share a step (written out here,
        // not BufferRequest.livesWith, so a wrong livesWith cannot hide an overlap).
        for j in requests.indices where j > i
            && requests[i].firstUse <= requests[j].lastUse && requests[j].firstUse <= requests[i].lastUse {
            let a = plan.offsets[i]..<(plan.offsets[i] + requests[i].bytes)
            let b = plan.offsets[j]..<(plan.offsets[j] + requests[j].bytes)
            #expect(!a.overlaps(b), "\(requests[i].name) and \(requests[j].name) are live together and overlap")
        }
    }
    let usedAligned = requests.indices.map { plan.offsets[$0] + alignedSize(requests[$0].bytes) }.max() ?? 0
    #expect(plan.arenaBytes == usedAligned, "reported size equals the used size")
    #expect(highest <= plan.arenaBytes)
    #expect(plan.arenaBytes >= plan.lowerBound)
}

private func alignedSize(_ n: Int) -> Int { (n + 63) / 64 * 64 }

@Test("random chains: live buffers never overlap, size is exact")
func randomChains() {
    var rng = SplitMix(state: 42)
    for _ in 0..<300 {
        let length = Int.random(in: 1...12, using: &rng)
        var requests: [BufferRequest] = []
        for step in 0..<length {
            requests.append(BufferRequest(name: "t\(step)", bytes: Int.random(in: 1...5000, using: &rng),
                                          firstUse: step, lastUse: step + 1))
        }
        // Results that live to the end, like logits and confidence maps.
        requests[length - 1].lastUse = length + 1
        requests.append(BufferRequest(name: "out", bytes: Int.random(in: 1...200, using: &rng), firstUse: length, lastUse: length + 1))
        let plan = planMemory(requests)
        checkPlan(plan)
        // A chain reuses memory: no plan needs more than the sum of all buffers.
        #expect(plan.arenaBytes <= requests.reduce(0) { $0 + alignedSize($1.bytes) })
    }
}

@Test("random lifetimes: live buffers never overlap")
func randomLifetimes() {
    var rng = SplitMix(state: 7)
    for _ in 0..<300 {
        let count = Int.random(in: 1...20, using: &rng)
        let requests = (0..<count).map { i -> BufferRequest in
            let first = Int.random(in: 0...10, using: &rng)
            return BufferRequest(name: "b\(i)", bytes: Int.random(in: 1...4096, using: &rng),
                                 firstUse: first, lastUse: first + Int.random(in: 0...4, using: &rng))
        }
        checkPlan(planMemory(requests))
    }
}

@Test("a simple chain reaches its lower bound")
func chainReachesBound() {
    let requests = [
        BufferRequest(name: "a", bytes: 640, firstUse: 0, lastUse: 0),
        BufferRequest(name: "b", bytes: 1280, firstUse: 0, lastUse: 1),
        BufferRequest(name: "c", bytes: 640, firstUse: 1, lastUse: 2),
    ]
    let plan = planMemory(requests)
    checkPlan(plan)
    #expect(plan.lowerBound == 1920)
    #expect(plan.arenaBytes == 1920)
}

@Test("a layer's kernel scratch lives only at that layer's step: it may share bytes with other steps' tensors, never with its own step's")
func scratchLivesAtItsLayer() throws {
    let graph = try NiNModel(bytes: try readBytes(repositoryRoot + "/models/fashion_classic.nin"), isa: .generic).graph
    // A different size per convolution, none for the pools and the head.
    let scratch = graph.layers.enumerated().map { i, layer in layer.kind == .convolution ? 50_000 + 1_000 * i : 0 }
    let convolutions = scratch.indices.filter { scratch[$0] > 0 }
    for (threads, batch) in [(1, 1), (3, 1), (3, 4)] {
        let plan = ArenaPlan(graph: graph, batchSize: batch, threads: threads, scratchBytes: scratch)
        // Lane layout (3 threads, batch 4) plans each lane's chain, its scratch with it, in `lane`.
        let chain = plan.lane ?? plan.memory
        checkPlan(plan.memory)
        checkPlan(chain)
        let scratchRequests = chain.requests.filter { $0.name.hasPrefix("scratch") }
        let perStep = plan.lane == nil ? threads : 1
        #expect(scratchRequests.count == convolutions.count * perStep, "threads \(threads), batch \(batch)")
        for request in scratchRequests {
            #expect(request.firstUse == request.lastUse && request.bytes == scratch[request.firstUse],
                    "\(request.name) lives at steps \(request.firstUse)...\(request.lastUse) with \(request.bytes) bytes")
        }
        // The same chain with each thread's scratch as large as the largest layer's and live at every step:
        // never smaller, and for one image larger (the classic model's 1x1 steps hold two 290 KB tensors).
        let steps = chain.requests.map(\.lastUse).max() ?? 0
        let throughout = chain.requests.filter { !$0.name.hasPrefix("scratch") }
            + (0..<perStep).map { BufferRequest(name: "scratch:\($0)", bytes: scratch.max() ?? 0, firstUse: 0, lastUse: steps) }
        let before = planMemory(throughout).arenaBytes
        #expect(chain.arenaBytes <= before)
        if batch == 1 { #expect(chain.arenaBytes < before, "threads \(threads): \(chain.arenaBytes) against \(before)") }
    }
}
