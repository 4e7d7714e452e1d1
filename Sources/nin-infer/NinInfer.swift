// nin-infer: classifies PNG images with a .nin model and prints the top-K labels, as text or
// JSON; --plan prints the context's arena plan. A bad image gets a one-line reason on stderr,
// the other images still run, and the exit status is 1.

import ArgumentParser
import NiN
import NiNPNG
#if canImport(Glibc)
import Glibc
#endif

@main
struct NinInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nin-infer",
        abstract: "Classify PNG images with an int8 Network-in-Network model.",
        discussion: "Without --model, the shipped default model is used: $NIN_MODEL, else models/\(DefaultModel.fileName) of the nin checkout (or install) this binary belongs to.")

    @Argument(help: "PNG images to classify.")
    var images: [String] = []

    @Option(name: .long, help: "Path of the .nin model.")
    var model: String?

    @Option(name: .long, help: "How many classes to print per image.")
    var top: Int = 5

    @Flag(name: .long, help: "Print results as JSON.")
    var json = false

    @Flag(name: .long, help: "Print the arena plan: every tensor's offset, size and lifetime.")
    var plan = false

    @Option(name: .long, help: "Worker threads per inference.")
    var threads: Int = 1

    @Option(name: .long, help: "Run each image N times and print per-layer times (median over the runs).")
    var profile: Int?

    func validate() throws {
        guard !images.isEmpty || plan else { throw ValidationError("give at least one IMAGE (or --plan)") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1 to 256") }
    }

    func run() throws {
        let modelPath: String
        if let model { modelPath = model } else if let found = DefaultModel.locate() { modelPath = found } else {
            printError("nin-infer: no default model found (looked at $NIN_MODEL, \(DefaultModel.candidates().joined(separator: ", "))); pass --model PATH")
            throw ExitCode(2)
        }
        let loaded: NiNModel
        let context: NiNContext
        do {
            loaded = try NiNModel(path: modelPath)
            context = try NiNContext(model: loaded, threads: threads)
        } catch {
            printError("nin-infer: \(modelPath): \(error.message)")
            throw ExitCode(2)
        }
        if plan { print(PlanReport.render(context.plan, graph: loaded.graph)) }

        var failures = 0
        var records: [String] = []
        let k = min(top, loaded.graph.classCount)
        for path in images {
            do {
                let image = try PNGDecoder.load(path: path)
                try context.run(images: [image])
                if let runs = profile { try printProfile(context, image: image, runs: max(runs, 1)) }
                let best = try context.topK(0, k: k)
                if json {
                    let entries = best.map { "{\"index\": \($0.classIndex), \"label\": \(jsonString(loaded.graph.labels[$0.classIndex])), \"probability\": \($0.probability)}" }
                    records.append("{\"image\": \(jsonString(path)), \"top\": [\(entries.joined(separator: ", "))]}")
                } else {
                    print(path)
                    for entry in best {
                        print("  \(format(entry.probability))  \(loaded.graph.labels[entry.classIndex])")
                    }
                }
            } catch {
                failures += 1
                printError("nin-infer: \(path): \(error.message)")
                if json { records.append("{\"image\": \(jsonString(path)), \"error\": \(jsonString(error.message))}") }
            }
        }
        if json { print("[" + records.joined(separator: ",\n ") + "]") }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Runs `image` `runs` times with profiling on and prints each layer's median time.
func printProfile(_ context: NiNContext, image: Image, runs: Int) throws(NiNError) {
    let graph = context.model.graph
    var samples = [[UInt64]](repeating: [], count: graph.layers.count)
    context.profiling = true
    defer { context.profiling = false }
    for _ in 0..<runs {
        try context.run(images: [image])
        for (i, t) in context.layerNanoseconds.enumerated() { samples[i].append(t) }
    }
    var total: UInt64 = 0
    print("profile: \(runs) run(s), kernels \(context.model.isa.rawValue), \(context.threads) thread(s); median per layer")
    for (i, layer) in graph.layers.enumerated() {
        let median = samples[i].sorted()[runs / 2]
        total += median
        let gmacs = layer.macs > 0 && median > 0 ? "  \(format(Float(Double(layer.macs) / Double(median)))) GMAC/s" : ""
        print("  \(i) \(layer.kind.name) \(layer.input) -> \(layer.output): \(format(Float(Double(median) / 1e6))) ms\(gmacs)")
    }
    print("  total: \(format(Float(Double(total) / 1e6))) ms")
}

func printError(_ message: String) {
    fputs(message + "\n", stderr)
}

/// Probability with four decimals, without Foundation.
func format(_ p: Float) -> String {
    let scaled = Int((Double(p) * 10000).rounded())
    let whole = scaled / 10000, fraction = scaled % 10000
    let digits = String(fraction)
    return "\(whole)." + String(repeating: "0", count: 4 - digits.count) + digits
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 {
                let hexDigits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hexDigits.count) + hexDigits
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
