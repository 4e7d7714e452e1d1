// Random damage to real model files: thousands of byte mutations (checksum re-sealed, so the
// deeper rules are reached). Every mutant is either refused with .badModel or loads and runs;
// the test process surviving is the assertion that nothing crashes.

import Foundation
import NiN
import Testing


@Test("mutated models are refused or run, never crash",
      arguments: ["k11s4_batch3", "zin_padding", "pools", "nonsquare", "no_weights", "gap_only"])
func fuzzModel(name: String) throws {
    let pristine = try readBytes(repositoryRoot + "/Tests/golden/net/\(name)/model.nin")
    var rng = SplitMix(state: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
    var refused = 0, loaded = 0
    for _ in 0..<400 {
        var bytes = pristine
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            // Mostly the structured part (header, table, graph records), sometimes anywhere.
            let limit = Bool.random(using: &rng) ? min(bytes.count, 1024) : bytes.count
            let at = Int.random(in: 0..<limit, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            default: bytes[at] = [0, 1, 0x7F, 0x80, 0xFF].randomElement(using: &rng)!
            }
        }
        let crc = testCRC32(bytes[64...])
        for i in 0..<4 { bytes[24 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        do {
            let model = try NiNModel(bytes: bytes)
            loaded += 1
            // Keep the run small: skip mutants whose tensors became huge.
            guard NiNContext.arenaBytes(model: model, batchSize: 1) < 64 << 20,
                  model.graph.macs < 50_000_000 else { continue }
            let context = try NiNContext(model: model)
            let input = [UInt8](repeating: 77, count: model.graph.input.elementCount)
            try context.run(preparedInput: input, count: 1)
            #expect(try context.logits(0).count == model.graph.classCount)
        } catch {
            refused += 1
            #expect(error.code == .badModel, "\(error.message)")
        }
    }
    #expect(refused > 0)
}
