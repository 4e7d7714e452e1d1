// Where an AMX layer's time goes, on the machine at hand: each layer timed on the AMX hardware
// and on the same driver with its tile instructions as no-ops (`AMXWithoutTiles`), in
// interleaved rounds; the difference is the tiles' own time, set against the tdpbusd peak
// measured on this thread (`KernelFamilyID.measurePeak`). Where the CPU lacks AMX only the work
// outside the tiles is timed (it needs AVX-512 VNNI). `nin-kernel-check --amx-split MODEL`.

import NiN

/// One layer's medians, in milliseconds.
public struct AMXSplitLayer {
    /// The layer's description, e.g. "4 conv 27x27x96 -> 27x27x256".
    public var name: String
    /// Its multiply-accumulates (0 for a pool).
    public var macs: Int
    /// On the AMX hardware (nil where the CPU lacks AMX).
    public var hardwareMs: Double?
    /// On the driver with no-op tiles: everything but the tiles.
    public var withoutTilesMs: Double

    /// A layer's figures.
    public init(name: String, macs: Int, hardwareMs: Double?, withoutTilesMs: Double) {
        self.name = name; self.macs = macs; self.hardwareMs = hardwareMs; self.withoutTilesMs = withoutTilesMs
    }
}

/// Both timings of every layer of a model, and the peak.
public struct AMXSplit {
    /// Threads of the runs, profiled runs per round, interleaved rounds.
    public var threads: Int, runs: Int, rounds: Int
    /// Every layer's medians, in the model's order.
    public var layers: [AMXSplitLayer]
    /// The tdpbusd peak of one thread, nil where the CPU lacks AMX.
    public var peak: KernelPeak?
    /// Why the hardware was not timed, nil if it was.
    public var hardwareMissing: String?

    /// A report from its figures.
    public init(threads: Int, runs: Int, rounds: Int, layers: [AMXSplitLayer], peak: KernelPeak?, hardwareMissing: String?) {
        self.threads = threads; self.runs = runs; self.rounds = rounds; self.layers = layers
        self.peak = peak; self.hardwareMissing = hardwareMissing
    }

    /// The report: a header, one line per layer (hardware, outside the tiles, the tiles by
    /// difference and their share of `threads` x the peak), and the totals.
    public var lines: [String] {
        func ms(_ x: Double) -> String { pad(fixed(x, 4), 10) }
        var out = ["AMX split: \(threads) thread(s), medians of \(runs) runs x \(rounds) interleaved rounds; "
                   + "'outside' is the AMX driver with no-op tiles, 'tiles' the difference"]
        if let peak { out.append("peak: \(fixed(peak.macsPerSecond / 1e9, 1)) GMAC/s per thread (\(peak.instruction), from registers)") }
        if let hardwareMissing { out.append("amx: not timed (\(hardwareMissing)); only the work outside the tiles") }
        out.append(pad("layer", -40) + pad("amx ms", 10) + pad("outside", 10) + pad("tiles", 10) + pad("tiles/peak", 11))
        var totals = (hardware: 0.0, outside: 0.0)
        for layer in layers {
            var line = pad(layer.name, -40)
            totals.outside += layer.withoutTilesMs
            if let hardware = layer.hardwareMs {
                totals.hardware += hardware
                let tiles = hardware - layer.withoutTilesMs
                line += ms(hardware) + ms(layer.withoutTilesMs) + ms(tiles)
                if let peak, layer.macs > 0, tiles > 0 {
                    line += pad(fixed(100 * Double(layer.macs) / (tiles * 1e-3) / (peak.macsPerSecond * Double(threads)), 1) + "%", 11)
                }
            } else {
                line += pad("-", 10) + ms(layer.withoutTilesMs)
            }
            out.append(line)
        }
        out.append(pad("total", -40) + (hardwareMissing == nil ? ms(totals.hardware) : pad("-", 10))
                   + ms(totals.outside) + (hardwareMissing == nil ? ms(totals.hardware - totals.outside) : ""))
        return out
    }
}

/// Times every layer of the model in `bytes` on the AMX hardware (where the CPU has it) and on
/// the driver with no-op tiles, `rounds` interleaved rounds of `runs` profiled runs of one image
/// each, on `threads` threads; medians per layer.
public func amxSplit(modelBytes bytes: [UInt8], runs: Int = 100, rounds: Int = 3, threads: Int = 1) throws(NiNError) -> AMXSplit {
    let withoutTiles = try NiNModel(bytes: bytes, timingWithoutCoreInstructions: .amx)
    var models = [withoutTiles]
    var hardwareMissing: String? = nil
    if KernelFamilyID.amx.isSupported {
        models.insert(try NiNModel(bytes: bytes, isa: .amx), at: 0)
    } else {
        hardwareMissing = KernelFamilyID.amx.unsupportedReason ?? "unsupported"  // (every unsupported family has a reason)
    }
    let graph = withoutTiles.graph
    let input = (0..<graph.input.elementCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    var samples = [[[UInt64]]](repeating: [[UInt64]](repeating: [], count: graph.layers.count), count: models.count)
    let contexts = try models.map { (model) throws(NiNError) in try NiNContext(model: model, threads: threads) }
    for context in contexts { context.profiling = true }
    for _ in 0..<rounds {
        for (m, context) in contexts.enumerated() {
            try context.run(preparedInput: input, count: 1)  // (warm-up)
            for _ in 0..<runs {
                try context.run(preparedInput: input, count: 1)
                for (i, t) in context.layerNanoseconds.enumerated() { samples[m][i].append(t) }
            }
        }
    }
    func median(_ m: Int, _ i: Int) -> Double { Double(samples[m][i].sorted()[samples[m][i].count / 2]) / 1e6 }
    let layers = graph.layers.enumerated().map { i, layer in
        AMXSplitLayer(name: "\(i) \(layer.kind.name) \(layer.input) -> \(layer.output)", macs: layer.macs,
                      hardwareMs: models.count == 2 ? median(0, i) : nil, withoutTilesMs: median(models.count - 1, i))
    }
    return AMXSplit(threads: threads, runs: runs, rounds: rounds, layers: layers,
                    peak: KernelFamilyID.amx.measurePeak(), hardwareMissing: hardwareMissing)
}

/// `x` with `decimals` decimals, without Foundation.
func fixed(_ x: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let n = Int((abs(x) * scale).rounded())
    let whole = n / Int(scale), fraction = String(n % Int(scale))
    return (x < 0 && n > 0 ? "-" : "") + "\(whole)" + (decimals > 0 ? "." + String(repeating: "0", count: decimals - fraction.count) + fraction : "")
}

/// `s` padded with spaces to `width` characters: on the left (right-aligned) for a positive
/// width, on the right for a negative one.
func pad(_ s: String, _ width: Int) -> String {
    let fill = String(repeating: " ", count: max(0, abs(width) - s.count))
    return width < 0 ? s + fill : fill + s
}
