// Replays every committed fuzzing input (fuzz/regressions/{model,png}/) through the path its
// libFuzzer target exercises (fuzz/FuzzModel, fuzz/FuzzPNG): a model is loaded from memory and,
// when it loads and is within the fuzzing budgets, run once; a PNG is decoded and, when it
// decodes, classified. Each must end in a refusal with the right status and a message, or in
// results of the right size. The files are stored as the engine saw them (already re-sealed:
// fuzz/add_regression.py), so no fix-up happens here. A crash fails the whole test run.

import Foundation
import NiN
import NiNPNG
import Testing

private let regressions = repositoryRoot + "/fuzz/regressions"

/// What the model fuzz target does with one input: the class count of a run's logits for each
/// thread count (none when the model is over the target's budgets), or the refusal.
private func loadAndRun(_ bytes: [UInt8]) -> Result<[Int], NiNError> {
    do throws(NiNError) {
        let loaded = bytes.withUnsafeBytes { raw in Result { () throws(NiNError) in try NiNModel(borrowing: raw) } }
        let model = try loaded.get()
        // The budgets of the fuzz target: larger models are not run (docs/SECURITY.md).
        guard NiNContext.arenaBytes(model: model, batchSize: 1, threads: 2) <= 256 << 20,
              model.graph.macs <= 100_000_000 else { return .success([]) }
        var counts: [Int] = []
        for threads in 1...2 {
            let context = try NiNContext(model: model, threads: threads)
            let input = (0..<model.graph.input.elementCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            try context.run(preparedInput: input, count: 1)
            counts.append(try context.logits(0).count - model.graph.classCount)
        }
        return .success(counts)
    } catch {
        return .failure(error)
    }
}

/// What the PNG fuzz target does with one input: the number of top classes, or the refusal.
private func decodeAndClassify(_ bytes: [UInt8], _ context: NiNContext) -> Result<Int, NiNError> {
    do throws(NiNError) {
        let image = try PNGDecoder.decode(bytes)
        try context.run(images: [image])
        return .success(try context.topK(0, k: 1).count)
    } catch {
        return .failure(error)
    }
}

@Test("committed model fuzzing inputs are refused or run")
func modelFuzzRegressions() throws {
    let names = listDirectory(regressions + "/model").filter { $0.hasSuffix(".nin") }
    #expect(!names.isEmpty)
    for name in names {
        switch loadAndRun(try readBytes(regressions + "/model/" + name)) {
        case .success(let extraLogits):
            #expect(extraLogits.allSatisfy { $0 == 0 }, "\(name): logits of the wrong size")
        case .failure(let error):
            #expect(error.code == .badModel, "\(name): \(error.message)")
            #expect(!error.message.isEmpty, "\(name)")
        }
    }
}

@Test("committed PNG fuzzing inputs are refused or classified")
func pngFuzzRegressions() throws {
    let names = listDirectory(regressions + "/png").filter { $0.hasSuffix(".png") }
    #expect(!names.isEmpty)
    let context = try NiNContext(model: try NiNModel(path: repositoryRoot + "/models/fashion_small.nin"))
    for name in names {
        switch decodeAndClassify(try readBytes(regressions + "/png/" + name), context) {
        case .success(let top):
            #expect(top == 1, "\(name)")
        case .failure(let error):
            #expect(error.code == .badImage, "\(name): \(error.message)")
            #expect(!error.message.isEmpty, "\(name)")
        }
    }
}
