// Format 1.2's quad weights (docs/FORMAT.md): the engine's quad packing is the layout's
// definition (ModelWriter's byte-by-byte `quadBlockedWeights`), the reader refuses a copy that
// differs from the weights anywhere (padding included) or lies outside WGHT, naming the rule,
// and every family gives the same bits on a file with and without them, the quad kernels
// reading them in place (no repacked weights: `packedBytes`, `weightsReadInPlace`).

import NiN
import NiNKernelCheck
import NiNKernelCore
import Testing

@Test("the engine's quad packing equals the layout's definition; a changed byte is found with its channel")
func quadLayoutIsItsDefinition() {
    var rng = SplitMix(state: 12)
    for (n, k) in [(1, 1), (3, 5), (16, 4), (17, 9), (33, 75), (40, 12)] {
        let weights = (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
        let defined = quadBlockedWeights(weights, outChannels: n)
        let kQuads = (k + 3) / 4
        #expect(quadWeightsBytes(outChannels: n, kernelSize: k) == defined.count)
        var packed = [Int8](repeating: 0, count: defined.count)
        weights.withUnsafeBufferPointer { source in
            packed.withUnsafeMutableBytes { writeQuadWeights(source.baseAddress!, outChannels: n, kernelSize: k, blockQuads: kQuads, to: $0.baseAddress!) }
        }
        #expect(packed == defined, "\(n) channels, K \(k)")
        func mismatch(_ quads: [Int8]) -> (byte: Int, channel: Int)? {
            weights.withUnsafeBufferPointer { w in
                quads.withUnsafeBytes { firstQuadMismatch(ohwi: w.baseAddress!, quads: $0.baseAddress!, outChannels: n, kernelSize: k) }
            }
        }
        #expect(mismatch(defined) == nil)
        // Every 7th byte changed in turn (real weights, K padding and padding channels alike).
        for byte in stride(from: 0, to: defined.count, by: 7) {
            var changed = defined
            changed[byte] = changed[byte] == 5 ? 6 : 5
            let found = mismatch(changed)
            #expect(found?.byte == byte && found?.channel == byte / (kQuads * 64) * 16 + byte % 64 / 4, "byte \(byte)")
        }
    }
}

/// The tiny model (ModelReaderRuleTests) with quad weights: input 1x6x6, conv 3x3 1 -> 4
/// (K 9: 3 quads, 4 real channels of a 16-channel block), max pool, GAP.
private func tinyQuadModel() -> Patch {
    var plain = tinyModel()
    let conv = plain.layer(0)
    let quads = quadBlockedWeights((0..<36).map { Int8($0 % 7 - 3) }, outChannels: 4)
    // Rebuilt with ModelWriter's own quad option, so the offsets are the writer's.
    plain = Patch(bytes: writeModel([.conv(TestConv(inChannels: 1, outChannels: 4, kernel: (3, 3), stride: (1, 1), pads: (0, 0, 0, 0),
                                                     relu: true, outputZeroPoint: 0, weights: (0..<36).map { Int8($0 % 7 - 3) },
                                                     bias: [10, -20, 30, -40], multiplier: [Int32](repeating: 1 << 30, count: 4),
                                                     shift: [Int32](repeating: 36, count: 4))),
                                     .maxPool(TestPool(kernel: (2, 2), stride: (2, 2), pads: (0, 0, 0, 0)))],
                                    inputChannels: 1, height: 6, width: 6, inputZeroPoint: 0, quadWeights: true))
    precondition(plain.u32(conv + 4) == 3 && quads.count == 3 * 64)
    return plain
}

@Test("quad weights rules: a copy that differs, misaligned, outside WGHT, or on a pool is refused")
func quadWeightsRules() throws {
    let good = tinyQuadModel()
    #expect(good.bytes[6] == 2)  // version 1.2
    _ = try NiNModel(bytes: good.sealed)
    let conv = good.layer(0)
    let quads = good.section("WGHT").offset + good.u32(conv + 84)

    var file = good
    file.bytes[quads + 64 + 4 * 2 + 1] ^= 1  // quad 1, channel 2's second byte
    expectRule(file.sealed, "layer 0: quad weights byte 73 (channel 2) differs from the weights in quad order")
    file = good
    file.bytes[quads + 64 * 2 + 4 * 1 + 1] = 9  // channel 1's quad 2: K value 9, past K = 9
    expectRule(file.sealed, "layer 0: quad weights byte 133 (channel 1) differs from the weights in quad order")
    file = good
    file.bytes[quads + 4 * 15] = 1  // padding channel 15
    expectRule(file.sealed, "layer 0: quad weights byte 60 (channel 15) differs from the weights in quad order")

    file = good
    file.put32(conv + 84, UInt32(good.u32(conv + 84) + 4))
    expectRule(file.sealed, "layer 0: quad_weights_offset \(good.u32(conv + 84) + 4) is not a multiple of 64")
    file = good
    let wght = good.section("WGHT")
    file.put32(conv + 84, UInt32(wght.size - 128))
    expectRule(file.sealed, "layer 0: quad weights (192 bytes at WGHT+\(wght.size - 128)) end past the end of section WGHT (\(wght.size) bytes)")
    file = good
    file.put32(conv + 84, 0x7FFF_FFC0)
    expectRule(file.sealed, "layer 0: quad weights (192 bytes at WGHT+\(0x7FFF_FFC0)) end past the end of section WGHT (\(wght.size) bytes)")
    file = good
    file.put32(good.layer(1) + 4, 2)  // the max pool
    expectRule(file.sealed, "layer 1: the quad weights flag is only allowed on conv")
}

@Test("every family gives the same bits with quad weights; the quad kernels read them in place")
func quadWeightsInPlace() throws {
    var rng = SplitMix(state: 99)
    var inPlaceFamilies: Set<String> = []
    for trial in 0..<24 {
        var plain = RandomConvolution(trial: trial, using: &rng)
        plain.quadWeights = false
        var quad = plain
        quad.quadWeights = true
        for family in testedFamilies {
            let a = try family.load(plain.model), b = try family.load(quad.model)
            #expect(try runLayers(a, input: plain.input, batch: plain.batch, threads: 2)
                    == runLayers(b, input: plain.input, batch: plain.batch, threads: 2), "\(family.name): \(plain.summary)")
            // What a family packs from the quad copy it does not repack; the rest is unchanged.
            #expect(b.packedBytes <= a.packedBytes && b.weightsReadInPlace >= a.weightsReadInPlace, "\(family.name)")
            if b.packedBytes < a.packedBytes {
                inPlaceFamilies.insert(family.name)
                #expect(b.weightsReadInPlace > a.weightsReadInPlace)
            }
        }
    }
    // Where this CPU runs a quad family, some trial ran it in place (AVX2's vpmaddubsw path takes
    // the trials with 7-bit weights).
    let quadFamilies: Set<String> = ["avx512vnni", "avxvnni", "avx2", "neon", "neondot"]
    let runnableQuad = quadFamilies.intersection(testedFamilies.filter { !$0.emulated }.map(\.name))
    #expect(runnableQuad.isSubset(of: inPlaceFamilies), "in place: \(inPlaceFamilies.sorted())")
    print("quad weights read in place by: \(inPlaceFamilies.sorted().joined(separator: ", "))")
}
