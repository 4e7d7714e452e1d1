// Random damage to real model files: thousands of byte mutations (checksum re-sealed, so the
// deeper rules are reached). Every mutant is either refused with .badModel, or loads and runs
// to a status (results or a NiNError; the test process surviving is the assertion that nothing
// crashes). A mutant whose changes all lie outside GRPH and WGHT (labels, metadata, the minor
// version) computes the same logits as the original, bit for bit.

import Foundation
import NiN
import NiNKernelCheck
import Testing

/// The section ranges of a well-formed model file (its table read directly).
private func sectionRanges(_ bytes: [UInt8]) -> [String: Range<Int>] {
    func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
    var result: [String: Range<Int>] = [:]
    for i in 0..<u32(12) {
        let entry = 64 + 24 * i
        let name = String(decoding: bytes[entry..<(entry + 4)], as: UTF8.self)
        result[name] = u32(entry + 8)..<(u32(entry + 8) + u32(entry + 16))
    }
    return result
}

/// The logits of `model` on a fixed input (one image), or the error its context or run gave.
private func logitsOnFixedInput(_ model: NiNModel) -> Result<[UInt32], NiNError> {
    Result { () throws(NiNError) -> [UInt32] in
        let context = try NiNContext(model: model)
        let input = (0..<model.graph.input.elementCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        try context.run(preparedInput: input, count: 1)
        let logits = try context.logits(0)
        #expect(logits.count == model.graph.classCount)
        return logits.map(\.bitPattern)
    }
}

@Test("mutated models are refused or run to a status, never crash; untouched weights give the same logits",
      arguments: ["k11s4_batch3", "zin_padding", "pools", "nonsquare", "no_weights", "gap_only"])
func fuzzModel(name: String) throws {
    let pristine = try readBytes(repositoryRoot + "/Tests/golden/net/\(name)/model.nin")
    let sections = sectionRanges(pristine)
    let computing = [sections["GRPH"]!, sections["WGHT"]!]
    let expected = try logitsOnFixedInput(try NiNModel(bytes: pristine)).get()
    var rng = SplitMix(state: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
    var refused = 0, ran = 0, runErrors = 0, untouchedRuns = 0, tooLarge = 0
    for _ in 0..<400 {
        var bytes = pristine
        var changed: [Int] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            // Mostly the structured part (header, table, graph records), sometimes anywhere.
            let limit = Bool.random(using: &rng) ? min(bytes.count, 1024) : bytes.count
            let at = Int.random(in: 0..<limit, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            default: bytes[at] = [0, 1, 0x7F, 0x80, 0xFF].randomElement(using: &rng)!
            }
            changed.append(at)
        }
        let crc = testCRC32(bytes[64...])
        for i in 0..<4 { bytes[24 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        let model: NiNModel
        do {
            model = try NiNModel(bytes: bytes)
        } catch {
            refused += 1
            #expect(error.code == .badModel, "\(error.message)")
            #expect(!error.message.isEmpty)
            continue
        }
        // A mutant may describe a huge network (e.g. a 4096 x 4096 input); its run is skipped
        // and counted, and such mutants must stay rare.
        guard NiNContext.arenaBytes(model: model, batchSize: 1) < 256 << 20, model.graph.macs < 200_000_000 else {
            tooLarge += 1
            continue
        }
        ran += 1
        let untouched = changed.allSatisfy { at in !computing.contains { $0.contains(at) } }
        switch logitsOnFixedInput(model) {
        case .success(let logits):
            if untouched {
                untouchedRuns += 1
                #expect(logits == expected, "bytes \(changed) changed outside GRPH and WGHT, yet the logits differ")
            }
        case .failure(let error):
            runErrors += 1
            #expect(!error.message.isEmpty)
            #expect(!untouched, "bytes \(changed) changed outside GRPH and WGHT, yet the run failed: \(error.message)")
        }
    }
    #expect(refused > 0 && untouchedRuns > 0)
    #expect(ran > 0 && tooLarge <= 20, "\(ran) mutants ran, \(tooLarge) were too large to run")
    print("fuzz \(name): \(refused) refused, \(ran) ran (\(untouchedRuns) with GRPH and WGHT untouched, \(runErrors) run errors), \(tooLarge) too large to run")
}
