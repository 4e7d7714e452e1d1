// Bit-exact equality with the numpy reference (tools/nin_tools/reference.py, vectors by tools/make_golden.py):
// every layer output of every golden network, the logits' bit patterns, and image preparation.

import Foundation
import NiN
import NiNPNG
import Testing

private let golden = repositoryRoot + "/Tests/golden"

private var netCases: [String] { listDirectory(golden + "/net") }
/// Networks with FORMAT.md 1.1 bounds (7-bit activations and weights, and mixed).
private var boundsCases: [String] { listDirectory(golden + "/bounds") }
private var preprocessCases: [String] { listDirectory(golden + "/preprocess") }

@Test("golden network cases exist")
func goldenCasesExist() {
    #expect(netCases.count >= 8)
    #expect(boundsCases.count >= 2)
    #expect(preprocessCases.count >= 10)
}

/// Runs `input` through `model` with `threads` workers and checks every layer and the logits.
private func checkNetwork(directory: String, threads: Int, isa: KernelFamilyID? = nil) throws {
    let model = try NiNModel(path: directory + "/model.nin", isa: isa)
    let input = try readBytes(directory + "/input.u8")
    let batch = input.count / model.graph.input.elementCount
    #expect(batch * model.graph.input.elementCount == input.count)
    let context = try NiNContext(model: model, threads: threads, batchSize: batch)
    context.minimumWorkPerPart = 1  // split even these small layers, so the split itself is tested
    var outputs: [[UInt8]] = []
    try context.run(preparedInput: input, count: batch) { _, bytes in outputs.append(bytes) }
    #expect(outputs.count == model.graph.layers.count)
    for (i, output) in outputs.enumerated() {
        let expected = try readBytes(directory + "/layer_\(i).bin")
        #expect(output == expected, "layer \(i) (\(model.graph.layers[i].kind.name)) differs from the numpy reference")
    }
    let expectedLogits = float32Values(try readBytes(directory + "/logits.f32")).map(\.bitPattern)
    var logits: [UInt32] = []
    for n in 0..<batch { logits += try context.logits(n).map(\.bitPattern) }
    #expect(logits == expectedLogits, "logits differ bit for bit")
    // The same input without an observer: with several threads and images the images run in
    // parallel, each on its own lane; logits and confidence maps must not change. A run of
    // other pixels first, so that an image left out of the lanes cannot pass on stale results.
    try context.run(preparedInput: input.map { 255 - $0 }, count: batch) { _, _ in }
    #expect(try (0..<batch).flatMap { n throws(NiNError) in try context.logits(n).map(\.bitPattern) } != expectedLogits)
    try context.run(preparedInput: input, count: batch)
    var again: [UInt32] = []
    for n in 0..<batch { again += try context.logits(n).map(\.bitPattern) }
    #expect(again == expectedLogits, "logits differ when run without an observer")
    let layers = model.graph.layers.count
    let mapsGolden = layers >= 2 ? try readBytes(directory + "/layer_\(layers - 2).bin") : input
    let mapSize = model.graph.mapShape.elementCount
    for n in 0..<batch {
        #expect(try context.confidenceMaps(n).values == Array(mapsGolden[(n * mapSize)..<((n + 1) * mapSize)]))
    }
    // Probabilities: softmax of the logits, within float tolerance.
    for n in 0..<batch {
        let p = try context.probabilities(n)
        let l = try context.logits(n)
        let largest = l.max()!
        let e = l.map { Foundation.exp(Double($0 - largest)) }
        let total = e.reduce(0, +)
        for c in p.indices { #expect(abs(Double(p[c]) - e[c] / total) < 1e-5) }
    }
}

@Test("networks equal the numpy reference bit for bit", arguments: netCases)
func goldenNetwork(name: String) throws {
    try checkNetwork(directory: golden + "/net/" + name, threads: 1)
}

@Test("any thread count gives the same bits", arguments: [2, 3])
func goldenNetworkThreads(threads: Int) throws {
    for name in netCases { try checkNetwork(directory: golden + "/net/" + name, threads: threads) }
}

@Test("networks with narrowed bounds equal the numpy reference on every kernel family", arguments: [1, 3])
func goldenBounds(threads: Int) throws {
    for name in boundsCases {
        for family in testedKernelFamilies {
            try checkNetwork(directory: golden + "/bounds/" + name, threads: threads, isa: family)
        }
    }
}

@Test("image preparation equals the numpy reference", arguments: preprocessCases)
func goldenPreprocess(name: String) throws {
    let directory = golden + "/preprocess/" + name
    func numbers(_ file: String) throws -> [Int] {
        try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Int($0)! }
    }
    let dims = try numbers("image.txt"), target = try numbers("target.txt")
    let image = try Image(width: dims[1], height: dims[0], channels: dims[2], pixels: try readBytes(directory + "/image.u8"))
    let shape = TensorShape(height: target[1], width: target[2], channels: target[0])
    #expect(prepare(image, for: shape) == (try readBytes(directory + "/prepared.u8")))
}

/// Every shipped golden case on disk, "model/image".
private var shippedGoldenCases: [String] {
    listDirectory(golden + "/shipped").flatMap { model in
        listDirectory(golden + "/shipped/" + model).filter { $0.hasSuffix(".input.u8") }
            .map { model + "/" + String($0.dropLast(".input.u8".count)) }
    }
}

/// The cases this run checks: all of them, except that under the portable kernels (a debug
/// build runs them at about 4 s per image of the 227x227 model) a model of more than 100 M
/// MACs is checked on its first two example images only. The optimized run, the C and the
/// Python tests cover the other images of such a model.
private var shippedCases: [String] {
    guard KernelFamilyID.preferred == .generic else { return shippedGoldenCases }
    var large: [String: Bool] = [:]
    var seen: [String: Int] = [:]
    return shippedGoldenCases.filter { name in
        let model = String(name.split(separator: "/")[0])
        if large[model] == nil {
            let graph = try? NiNModel(path: repositoryRoot + "/models/\(model).nin").graph
            large[model] = (graph?.macs ?? 0) > 100_000_000
        }
        seen[model, default: 0] += 1
        return !large[model]! || seen[model]! <= 2
    }
}

@Test("shipped models on the example PNGs: decode, prepare, run, all equal the numpy reference",
      arguments: shippedCases)
func goldenShipped(name: String) throws {
    let parts = name.split(separator: "/").map(String.init)
    let (modelName, image) = (parts[0], parts[1])
    let prefix = golden + "/shipped/" + name
    let model = try NiNModel(path: repositoryRoot + "/models/\(modelName).nin")
    let context = try NiNContext(model: model)
    // The PNG decoder and the preprocessing give the reference's input bytes...
    let decoded = try PNGDecoder.load(path: repositoryRoot + "/examples/images/\(image).png")
    let input = try readBytes(prefix + ".input.u8")
    #expect(prepare(decoded, for: model.graph.input) == input)
    // ...and every layer and the logits equal it bit for bit.
    // (Large models keep only the last two layers' vectors: the confidence maps and the sums.)
    var outputs: [[UInt8]] = []
    try context.run(preparedInput: input, count: 1) { _, bytes in outputs.append(bytes) }
    var compared = 0
    for (i, output) in outputs.enumerated() where FileManager.default.fileExists(atPath: prefix + ".layer_\(i).bin") {
        #expect(output == (try readBytes(prefix + ".layer_\(i).bin")), "layer \(i) differs")
        compared += 1
    }
    #expect(compared >= min(2, outputs.count))
    try context.run(images: [decoded])
    let logits = try context.logits(0).map(\.bitPattern)
    #expect(logits == float32Values(try readBytes(prefix + ".logits.f32")).map(\.bitPattern))
    // The image's true class (its file name) is the top-1 class.
    let label = try context.topK(0, k: 1)[0].classIndex
    let expected = image.split(separator: "_").dropFirst(2).joined(separator: "_")
    let normalized = model.graph.labels[label].lowercased().map { $0.isLetter ? $0 : "_" }
    #expect(String(normalized) == expected)
}

@Test("golden shipped cases exist for every shipped model and example image")
func shippedCasesExist() {
    let models = listDirectory(repositoryRoot + "/models").filter { $0.hasSuffix(".nin") }
        .map { String($0.dropLast(".nin".count)) }
    let images = listDirectory(repositoryRoot + "/examples/images").filter { $0.hasSuffix(".png") }
    #expect(!models.isEmpty && !images.isEmpty)
    #expect(Set(listDirectory(golden + "/shipped")) == Set(models))
    #expect(shippedGoldenCases.count == models.count * images.count)
}

@Test("a batch of images given as Image values: each lane prepares its own, the same bits as one by one")
func batchOfImagesPreparedPerLane() throws {
    let model = try NiNModel(path: repositoryRoot + "/models/fashion_small.nin")
    let names = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/examples/images")
        .filter { $0.hasSuffix(".png") }.sorted().prefix(5)
    var images = try names.map { try PNGDecoder.load(path: repositoryRoot + "/examples/images/" + $0) }
    // And one of another size and channel count, with a row stride wider than its pixels.
    let (w, h) = (37, 23)
    images.append(try Image(width: w, height: h, channels: 3,
                            pixels: (0..<(h * (3 * w + 5))).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 4) }, stride: 3 * w + 5))
    let alone = try NiNContext(model: model)
    var expected: [[UInt32]] = []
    for image in images {
        try alone.run(images: [image])
        expected.append(try alone.logits(0).map(\.bitPattern))
    }
    for threads in [1, 3] {
        let context = try NiNContext(model: model, threads: threads, batchSize: images.count)
        try context.run(images: images)
        for n in images.indices {
            #expect(try context.logits(n).map(\.bitPattern) == expected[n], "image \(n) of the batch, \(threads) thread(s)")
        }
    }
    #expect(Set(expected).count == images.count, "the images give different logits, so a mix-up would show")
}
