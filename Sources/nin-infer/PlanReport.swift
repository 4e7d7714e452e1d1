// The text of `nin-infer --plan`: every tensor of the arena with its offset, size and lifetime,
// then the arena size against the lower bound no plan can beat, and where the weights live (read
// in place from the model image, or packed by the kernel family); as text, or as one JSON object.

import NiN

enum PlanReport {
    static func render(_ plan: ArenaPlan, model: NiNModel) -> String {
        let graph = model.graph
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
        lines.append("weights: \(model.weightsReadInPlace) bytes read in place from the model image; "
                     + "\(model.packedBytes) bytes packed by \(model.isa.rawValue) at load")
        return lines.joined(separator: "\n")
    }

    /// The plan as one JSON object: `batch`, `tensors` (name, offset, bytes, first_use,
    /// last_use), `lanes` and `lane_tensors` (offsets inside each lane), `arena_bytes` and
    /// `lower_bound_bytes`, `weights_in_place_bytes` and `packed_bytes`.
    static func json(_ plan: ArenaPlan, model: NiNModel) -> String {
        let graph = model.graph
        func tensors(_ memory: MemoryPlan) -> String {
            let items = memory.requests.enumerated().map { i, request in
                "{\"name\": \(jsonString(request.name)), \"offset\": \(memory.offsets[i]), \"bytes\": \(request.bytes), "
                    + "\"first_use\": \(request.firstUse), \"last_use\": \(request.lastUse)}"
            }
            return "[" + items.joined(separator: ",\n    ") + "]"
        }
        var fields = ["\"batch\": \(plan.batchSize)", "\"layers\": \(graph.layers.count)", "\"tensors\": " + tensors(plan.memory)]
        fields.append("\"lanes\": \(plan.lanes)")
        if let lane = plan.lane { fields.append("\"lane_tensors\": " + tensors(lane)) }
        fields.append("\"arena_bytes\": \(plan.memory.arenaBytes)")
        fields.append("\"lower_bound_bytes\": \(plan.memory.lowerBound)")
        fields.append("\"weights_in_place_bytes\": \(model.weightsReadInPlace)")
        fields.append("\"packed_bytes\": \(model.packedBytes)")
        return "{" + fields.joined(separator: ",\n  ") + "}"
    }

    private static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}
