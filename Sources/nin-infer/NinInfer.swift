// nin-infer: classifies PNG images (files, directories, or paths on stdin) with a .nin model and
// writes the top-K labels as text, JSON, JSON lines or CSV, streamed in input order; --plan
// prints the context's arena plan. Images run in batches while the next batch is decoded. A bad
// image gets a one-line reason on stderr, the others still run, and the exit status is 1.

import CNiN
import NiN
import NiNPNG
import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)
import NiNCPU

@main
enum NinInfer {
    static func main() {
        let options: CommandLineOptions
        do throws(CommandLineOptions.UsageError) {
            let argv = ninpriv_arguments()  // (no CommandLine in Embedded Swift)
            let arguments = (1..<max(1, Int(ninpriv_argument_count()))).map { FilePath(cString: argv![$0]!) }
            options = try CommandLineOptions.parse(arguments)
        } catch {
            printError("nin-infer: \(error.message)\n\(CommandLineOptions.synopsis)\nSee 'nin-infer --help'.")
            exit(2)
        }
        if options.help {
            print(CommandLineOptions.usage)
            exit(0)
        }
        if options.version {
            print("nin-infer \(NIN_VERSION_STRING)")
            print("kernels: \(KernelFamilyID.preferred.rawValue)")  // what a model loaded now would run
            exit(0)
        }
        if options.listKernels {
            print(options.format == .json ? KernelList.json() : KernelList.text())
            exit(0)
        }
        exit(run(options))
    }

    /// Classifies every image; returns the exit status.
    static func run(_ options: CommandLineOptions) -> Int32 {
        let modelPath: FilePath
        do throws(NiNError) {
            if let given = options.model { modelPath = given } else { modelPath = try DefaultModel.locate(binary: executablePath()) }
        } catch {
            printError("nin-infer: \(error.message); pass --model PATH")
            return 2
        }
        // The images first, so that the default batch is no larger than the run needs: the arena
        // grows with it (a lone image with --threads 4 would otherwise plan 32 images' tensors).
        let (images, listingErrors) = ImageList.expand(options.images)
        let perThreads = 8 * options.threads
        let defaultBatch = options.threads == 1 ? 1 : images.isEmpty ? perThreads : min(perThreads, images.count)
        let batch = options.profile != nil ? 1 : options.batch ?? defaultBatch
        let loaded: NiNModel
        let context: NiNContext
        do {
            loaded = try NiNModel(path: modelPath)
            context = try NiNContext(model: loaded, threads: options.threads, batchSize: batch)
        } catch {
            printError("nin-infer: \(modelPath): \(error.message)")
            return 2
        }
        let graph = loaded.graph
        if let top = options.top, top > graph.classCount {
            printError("nin-infer: --top \(top) is more than the model's \(graph.classCount) classes")
            return 2
        }
        let top = options.top ?? min(5, graph.classCount)
        if options.plan {
            print(options.format == .json ? PlanReport.json(context.plan, model: loaded) : PlanReport.render(context.plan, model: loaded))
            if options.images.isEmpty { return 0 }
        }

        var heatmapClass: Int?
        if let name = options.heatmapClass {
            guard let index = graph.labels.firstIndex(of: name) else {
                printError("nin-infer: --class \(name) is not a class of the model (\(graph.labels.joined(separator: ", ")))")
                return 2
            }
            heatmapClass = index
        }
        var heatmaps = options.heatmapDirectory.map { HeatmapWriter(directory: $0, classIndex: heatmapClass) }
        if let directory = options.heatmapDirectory, let problem = HeatmapWriter.createDirectory(directory) {
            printError("nin-infer: --heatmap \(directory): \(problem)")
            return 2
        }

        for error in listingErrors { printError("nin-infer: \(error.path): \(error.message)") }
        var writer = ResultWriter(format: options.format, labels: graph.labels, top: top)
        var progress = Progress(enabled: options.progress ?? (isatty(STDERR_FILENO) != 0), total: images.count)
        writer.begin()
        let loader = BatchLoader()
        var start = 0
        if !images.isEmpty { loader.start(Array(images[0..<min(batch, images.count)])) }
        while start < images.count {
            let current = loader.finish()
            start += current.paths.count
            if start < images.count { loader.start(Array(images[start..<min(start + batch, images.count)])) }
            var failures = 0
            var ran: NiNError?
            if current.count > 0 {
                do throws(NiNError) {
                    try current.run(on: context)
                    if let runs = options.profile { try printProfile(context, input: prepare(current.image(0), for: graph.input), runs: runs) }
                } catch {
                    ran = error
                }
            }
            var n = 0
            for (path, decodeError) in zip(current.paths, current.errors) {
                var result: ImageResult
                if let decodeError {
                    result = .failed(decodeError)
                } else {
                    do throws(NiNError) {
                        if let ran { throw ran }
                        result = .classified(try context.topK(n, k: top))
                        try heatmaps?.write(context, index: n, image: current.image(n), for: path)
                    } catch {
                        result = .failed(error.message)
                    }
                    n += 1
                }
                if case .failed(let message) = result {
                    failures += 1
                    printError("nin-infer: \(path): \(message)")
                }
                writer.write(path, result)
            }
            progress.advance(by: current.paths.count, failures: failures)
        }
        writer.end()
        progress.finish()
        return progress.failed > 0 || !listingErrors.isEmpty ? 1 : 0
    }
}

/// The resolved path of this executable (/proc/self/exe).
func executablePath() -> FilePath? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    return FilePath(bytes: buffer[0..<n].map { UInt8(bitPattern: $0) })
}

/// Runs the prepared `input` (one image) `runs` times with profiling on and prints each layer's
/// median time; for a convolution also its GMAC/s and, where the family has a peak loop, the
/// share of `threads` x the family's measured single-thread peak (`KernelPeak`) it reaches.
func printProfile(_ context: NiNContext, input: [UInt8], runs: Int) throws(NiNError) {
    let graph = context.model.graph
    var samples = [[UInt64]](repeating: [], count: graph.layers.count)
    context.profiling = true
    defer { context.profiling = false }
    for _ in 0..<runs {
        try context.run(preparedInput: input, count: 1)
        for (i, t) in context.layerNanoseconds.enumerated() { samples[i].append(t) }
    }
    var total: UInt64 = 0
    print("profile: \(runs) run(s), kernels \(context.model.isa.rawValue), \(context.threads) thread(s); median per layer")
    let peak = profilePeak(context.model.isa)
    if let peak {
        print("peak: \(fourDecimals(Float(peak.macsPerSecond / 1e9))) GMAC/s per thread (\(peak.instruction), from registers); "
              + "% of peak: GMAC/s over \(context.threads) x that, MACs counting padding taps")
    } else {
        print("peak: none (kernels \(context.model.isa.rawValue) have no peak loop)")
    }
    for (i, layer) in graph.layers.enumerated() {
        let median = samples[i].sorted()[runs / 2]
        total += median
        var rate = ""
        if layer.macs > 0 && median > 0 {
            let gmacs = Double(layer.macs) / Double(median)
            rate = "  \(fourDecimals(Float(gmacs))) GMAC/s"
            if let peak { rate += "  \(oneDecimal(100 * gmacs * 1e9 / (peak.macsPerSecond * Double(context.threads))))% of peak" }
        }
        let kernel = layer.kind == .convolution ? "  [\(context.model.kernelName(layer: i))]" : ""
        print("  \(i) \(layer.kind.name) \(layer.input) -> \(layer.output): \(fourDecimals(Float(Double(median) / 1e6))) ms\(rate)\(kernel)")
    }
    print("  total: \(fourDecimals(Float(Double(total) / 1e6))) ms")
}

/// The peak of each family `printProfile` met, measured once per process.
nonisolated(unsafe) private var measuredPeaks: [KernelFamilyID: KernelPeak?] = [:]

private func profilePeak(_ isa: KernelFamilyID) -> KernelPeak? {
    if let known = measuredPeaks[isa] { return known }
    let peak = isa.measurePeak()
    measuredPeaks[isa] = peak
    return peak
}

func printError(_ message: String) {
    fputs(message + "\n", ninpriv_stderr())
}

/// Probability with four decimals, without Foundation.
func fourDecimals(_ p: Float) -> String {
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
