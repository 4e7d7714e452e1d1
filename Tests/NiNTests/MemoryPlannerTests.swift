// The arena planner: on random chains and random lifetimes no two simultaneously live buffers
// overlap (checked by brute force), the reported size is exactly the used size, and the plan
// never beats the lower bound.

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
