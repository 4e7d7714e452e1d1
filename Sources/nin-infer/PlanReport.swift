// The text of `nin-infer --plan`: every tensor of the arena with its offset, size and lifetime,
// then the arena size against the lower bound no plan can beat.

import NiN

enum PlanReport {
    static func render(_ plan: ArenaPlan, graph: ModelGraph) -> String {
        let memory = plan.memory
        var lines = ["arena plan (batch \(plan.batchSize)): step i runs layer i; step \(graph.layers.count) holds the results"]
        lines.append(pad("tensor", 16) + pad("offset", 10, right: true) + pad("bytes", 10, right: true) + "  live steps")
        for (i, request) in memory.requests.enumerated() {
            lines.append(pad(request.name, 16) + pad(String(memory.offsets[i]), 10, right: true)
                         + pad(String(request.bytes), 10, right: true) + "  \(request.firstUse)...\(request.lastUse)")
        }
        if let lane = plan.lane {
            lines.append("inside each of the \(plan.lanes) lanes (one image at a time per thread):")
            for (i, request) in lane.requests.enumerated() {
                lines.append("  " + pad(request.name, 14) + pad(String(lane.offsets[i]), 10, right: true)
                             + pad(String(request.bytes), 10, right: true) + "  \(request.firstUse)...\(request.lastUse)")
            }
        }
        lines.append("arena: \(memory.arenaBytes) bytes; lower bound (largest set of simultaneously live tensors): \(memory.lowerBound) bytes")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
