// nin-infer: classifies PNG images with a .nin model and prints the top-K labels, as text or
// JSON; --plan prints the context's arena plan. A bad image gets a one-line reason on stderr,
// the other images still run, and the exit status is 1.

import NiN
import NiNPNG
#if canImport(Glibc)
import Glibc
#endif

@main
enum NinInfer {
    static func main() {
        let options: CommandLineOptions
        do {
            let argv = CommandLine.unsafeArgv
            let arguments = (1..<Int(CommandLine.argc)).map { FilePath(cString: argv[$0]!) }
            options = try CommandLineOptions.parse(arguments)
        } catch {
            printError("nin-infer: \(error.message)\nUsage: nin-infer [--model PATH] [--top K] [--json] [--plan] [--threads N] [--profile N] IMAGE...\nSee 'nin-infer --help'.")
            exit(2)
        }
        if options.help {
            print(CommandLineOptions.usage)
            exit(0)
        }
        exit(run(options))
    }

    /// Classifies every image; returns the exit status.
    static func run(_ options: CommandLineOptions) -> Int32 {
        let modelPath: FilePath
        if let model = options.model { modelPath = model } else if let found = DefaultModel.locate() { modelPath = found } else {
            printError("nin-infer: no default model found (looked at $NIN_MODEL, \(DefaultModel.candidates().joined(separator: ", "))); pass --model PATH")
            return 2
        }
        let loaded: NiNModel
        let context: NiNContext
        do {
            loaded = try NiNModel(path: modelPath)
            context = try NiNContext(model: loaded, threads: options.threads)
        } catch {
            printError("nin-infer: \(modelPath): \(error.message)")
            return 2
        }
        if options.plan { print(PlanReport.render(context.plan, graph: loaded.graph)) }

        var failures = 0
        var records: [String] = []
        let k = min(options.top, loaded.graph.classCount)
        for path in options.images {
            do {
                let image = try PNGDecoder.load(path: path)
                try context.run(images: [image])
                if let runs = options.profile { try printProfile(context, image: image, runs: runs) }
                let best = try context.topK(0, k: k)
                if options.json {
                    let entries = best.map { "{\"index\": \($0.classIndex), \"label\": \(jsonString(loaded.graph.labels[$0.classIndex])), \"probability\": \($0.probability)}" }
                    records.append("{\"image\": \(jsonString(path.description)), \"top\": [\(entries.joined(separator: ", "))]}")
                } else {
                    print(path.description)
                    for entry in best {
                        print("  \(format(entry.probability))  \(loaded.graph.labels[entry.classIndex])")
                    }
                }
            } catch {
                failures += 1
                printError("nin-infer: \(path): \(error.message)")
                if options.json { records.append("{\"image\": \(jsonString(path.description)), \"error\": \(jsonString(error.message))}") }
            }
        }
        if options.json { print("[" + records.joined(separator: ",\n ") + "]") }
        return failures > 0 ? 1 : 0
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
