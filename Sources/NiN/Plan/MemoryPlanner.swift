// The greedy arena planner (in the manner of TFLite Micro's GreedyMemoryPlanner): tensors are
// placed largest first, each at the lowest 64-byte-aligned offset that does not overlap any
// already placed tensor whose lifetime overlaps its own.

/// A buffer to place: its size and the steps during which it must hold its contents.
public struct BufferRequest: Sendable, Equatable {
    /// What a buffer holds; its name is spelled only when asked for (no String is built while
    /// planning, which on a microcontroller kept String formatting out of the firmware).
    enum Label: Sendable, Equatable {
        case text(String)
        /// Layer `index`'s output: "index:kind".
        case layerOutput(Int, LayerKind)
        /// One of a kind per thread or lane: "base:number".
        case numbered(String, Int)
    }

    var label: Label
    public var bytes: Int
    /// First and last step (inclusive) at which the buffer is live.
    public var firstUse: Int
    public var lastUse: Int

    /// Makes a request.
    public init(name: String, bytes: Int, firstUse: Int, lastUse: Int) {
        self.init(label: .text(name), bytes: bytes, firstUse: firstUse, lastUse: lastUse)
    }

    init(label: Label, bytes: Int, firstUse: Int, lastUse: Int) {
        self.label = label
        self.bytes = bytes
        self.firstUse = firstUse
        self.lastUse = lastUse
    }

    /// The buffer's name, e.g. "input", "3:conv" (layer 3's output) or "scratch:0".
    public var name: String {
        switch label {
        case .text(let text): text
        case .layerOutput(let index, let kind): "\(index):\(kind.name)"
        case .numbered(let base, let number): "\(base):\(number)"
        }
    }

    /// True when both buffers are live at some common step.
    public func livesWith(_ other: BufferRequest) -> Bool {
        firstUse <= other.lastUse && other.firstUse <= lastUse
    }
}

/// Where each request landed, the arena size and the lower bound any plan must reach.
public struct MemoryPlan: Sendable {
    public var requests: [BufferRequest]
    /// Offset of `requests[i]` in the arena, a multiple of `alignment`.
    public var offsets: [Int]
    /// Bytes the arena needs: the highest end of any placed buffer.
    public var arenaBytes: Int
    /// The largest total of simultaneously live (aligned) buffers at any step: no plan can be smaller.
    public var lowerBound: Int

    public static let alignment = 64
}

/// Rounds `bytes` up to the plan alignment.
@inline(__always)
func alignUp(_ bytes: Int, _ alignment: Int = MemoryPlan.alignment) -> Int {
    (bytes + alignment - 1) / alignment * alignment
}

/// Places `requests` greedily (largest first; ties by first use, then by index).
public func planMemory(_ requests: [BufferRequest]) -> MemoryPlan {
    var order = Array(requests.indices)
    insertionSort(&order) { a, b in
        let ra = requests[a], rb = requests[b]
        if ra.bytes != rb.bytes { return ra.bytes > rb.bytes }
        if ra.firstUse != rb.firstUse { return ra.firstUse < rb.firstUse }
        return a < b
    }
    var offsets = [Int](repeating: 0, count: requests.count)
    var placed: [Int] = []  // indices already placed
    var arenaBytes = 0
    for index in order {
        let request = requests[index]
        let size = alignUp(request.bytes)
        // Live neighbours, by offset: slide past each one we would collide with.
        var neighbours = placed.filter { requests[$0].livesWith(request) }
        insertionSort(&neighbours) { offsets[$0] < offsets[$1] }
        var candidate = 0
        for other in neighbours {
            let start = offsets[other], end = start + alignUp(requests[other].bytes)
            if candidate + size <= start { break }
            candidate = max(candidate, end)
        }
        offsets[index] = candidate
        placed.append(index)
        arenaBytes = max(arenaBytes, candidate + size)
    }
    var lowerBound = 0
    if let lastStep = requests.map({ $0.lastUse }).max(), let firstStep = requests.map({ $0.firstUse }).min() {
        for step in firstStep...lastStep {
            let live = requests.filter { $0.firstUse <= step && step <= $0.lastUse }.reduce(0) { $0 + alignUp($1.bytes) }
            lowerBound = max(lowerBound, live)
        }
    }
    return MemoryPlan(requests: requests, offsets: offsets, arenaBytes: arenaBytes, lowerBound: lowerBound)
}
