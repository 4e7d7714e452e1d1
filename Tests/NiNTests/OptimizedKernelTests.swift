// Optimized kernels equal the reference kernels bit for bit: hundreds of random convolutions
// (kernel, stride, padding, channel counts, zero points, multipliers and shifts, with and
// without ReLU) and max pools (1-100 channels, odd sizes, strides, padding) run on every kernel
// family this CPU has and compared byte for byte, including the saturating corners of
// requantization and exact ties (x.5 before rounding, which must go to even).

import NiN
import NiNKernelCheck
import Testing

@Test("a requested kernel family is used when the CPU has it, else the best one below it")
func isaSelection() throws {
    let path = repositoryRoot + "/Tests/golden/net/pools/model.nin"
    #expect(try NiNModel(path: path, isa: .generic).isa == .generic)
    #expect(try NiNModel(path: path, isa: .portable).isa == .portable)  // (every build and CPU has it)
    // Each family falls back to the next one down the table the CPU has (in the end the
    // portable family, which every build has); a family the build lacks gives the best it has.
    let order = KernelFamilyID.built
    #expect(Array(order.suffix(2)) == [.portable, .generic])
    for (i, family) in order.enumerated() {
        let expected = order[i...].first(where: \.isSupported)
        #expect(try NiNModel(path: path, isa: family).isa == expected, "asked for \(family)")
    }
    for family in KernelFamilyID.allCases where !order.contains(family) {
        #expect(try NiNModel(path: path, isa: family).isa == order.first(where: \.isSupported), "asked for \(family)")
    }
    // Only AMX has an emulator; asking another family's is refused with a reason.
    let bytes = try readBytes(path)
    #expect(throws: NiNError.self) { try NiNModel(bytes: bytes, emulating: .generic) }
    if KernelFamilyID.emulated.contains(.amx) { #expect(try NiNModel(bytes: bytes, emulating: .amx).isa == .amx) }
}

/// Runs `input` (`batch` images) through `bytes` on every family this CPU has, and on the
/// instruction emulators (AMX) where this CPU runs them, with 1 and 3 threads; returns each
/// run's layer outputs back to back (the reference's first), and checks each model got its family.
private func runOnEveryFamily(_ bytes: [UInt8], input: [UInt8], batch: Int) throws -> [[UInt8]] {
    var results: [[UInt8]] = []
    for family in testedFamilies {
        let model = try family.load(bytes)
        for threads in [1, 3] {
            results.append(try runLayers(model, input: input, batch: batch, threads: threads))
        }
    }
    return results
}

/// The int32 accumulators of `conv` over a u8 NHWC `input` of `batch` images of h x w, with input
/// zero point `zIn` (padding contributes nothing): QUANTIZATION.md's sum, written out plainly.
private func accumulators(_ conv: TestConv, input: ArraySlice<UInt8>, batch: Int, height h: Int, width w: Int,
                          zIn: Int32) -> [Int32] {
    let (kh, kw) = conv.kernel, (sh, sw) = conv.stride, c = conv.inChannels
    let oh = (h + conv.pads.0 + conv.pads.2 - kh) / sh + 1, ow = (w + conv.pads.1 + conv.pads.3 - kw) / sw + 1
    var result: [Int32] = []
    let base = input.startIndex
    for n in 0..<batch {
        for oy in 0..<oh {
            for ox in 0..<ow {
                for o in 0..<conv.outChannels {
                    var acc = Int64(conv.bias[o])
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let iy = oy * sh - conv.pads.0 + ky, ix = ox * sw - conv.pads.1 + kx
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            for i in 0..<c {
                                let x = Int64(input[base + ((n * h + iy) * w + ix) * c + i]) - Int64(zIn)
                                acc += x * Int64(conv.weights[((o * kh + ky) * kw + kx) * c + i])
                            }
                        }
                    }
                    result.append(Int32(acc))
                }
            }
        }
    }
    return result
}

@Test("random convolutions: every optimized family equals the reference bit for bit",
      .enabled(if: KernelFamilyID.allCases.contains { $0 != .generic && $0.isSupported },
               "needs an optimized kernel family (the portable one is in every build)"))
func randomConvolutions() throws {
    var rng = SplitMix(state: 2026)
    var compared = 0
    var varied = 0  // trials whose outputs are not all one value: the comparison proves something
    var ties = 0    // outputs whose scaled accumulator is exactly x.5 inside the output range
    // The kernels' special cases the trials reach: rows read in place, padding skipped, K not a
    // whole AMX tile (a K tail), channel blocks not whole (partial tiles).
    var inPlace = 0, skipping = 0, kTails = 0, partialBlocks = 0
    // im2col's paths for kernel rows (kw x C bytes) inside the image: under 8 bytes, 8 to 16
    // (copied kernel row by kernel row, the last exactly), longer.
    var shortRows = 0, vectorRows = 0, longRows = 0
    var kernels: [String: Int] = [:]  // trials per kernel of a family with several (AVX2's)
    for trial in 0..<300 {
        let random = RandomConvolution(trial: trial, using: &rng)
        let g = random.conv, quadsTimesFour = (g.kernel.0 * g.kernel.1 * g.inChannels + 3) / 4 * 4
        if g.kernel == (1, 1) && g.stride == (1, 1) && g.pads == (0, 0, 0, 0) && g.inChannels % 4 == 0 { inPlace += 1 }
        if random.middleZeroPoint == 0 && g.inChannels % 4 == 0 && (g.pads.0 > 0 || g.pads.1 > 0) { skipping += 1 }
        if quadsTimesFour % 64 != 0 { kTails += 1 }
        if g.outChannels % 16 != 0 { partialBlocks += 1 }
        if !(g.kernel == (1, 1) && g.stride == (1, 1)) {
            let run = g.kernel.1 * g.inChannels
            if run < 8 { shortRows += 1 } else if run <= 16 { vectorRows += 1 } else { longRows += 1 }
        }
        let (conv, batch, n, relu) = (random.conv, random.batch, random.conv.outChannels, random.conv.relu)
        let (h, w, c, tieTrial) = (random.height, random.width, random.conv.inChannels, random.tieTrial)
        let results = try runOnEveryFamily(random.model, input: random.input, batch: batch)
        if KernelFamilyID.avx2Supported { kernels[try NiNModel(bytes: random.model, isa: .avx2).kernelName(layer: 1), default: 0] += 1 }
        let tested = results[0].count - batch * n * 4
        if tieTrial {  // count the ties the comparison went through
            let front = results[0].prefix(batch * h * w * c)
            let accs = accumulators(conv, input: front, batch: batch, height: h, width: w, zIn: random.middleZeroPoint)
            for (i, acc) in accs.enumerated() {
                let o = i % n
                let scaled = Double(acc) * Double(conv.multiplier[o]) / Double(sign: .plus, exponent: Int(conv.shift[o]), significand: 1)
                let low = Double(relu ? 0 : -conv.outputZeroPoint), high = Double((conv.outputMax == 0 ? 255 : conv.outputMax) - conv.outputZeroPoint)
                if scaled - scaled.rounded(.down) == 0.5 && scaled > low && scaled < high { ties += 1 }
            }
        }
        let distinct = Set(results[0].prefix(tested)).count
        if distinct > 1 { varied += 1 }
        #expect(results.allSatisfy { $0 == results[0] },
                "trial \(trial): \(random.summary)")
        compared += results[0].count
    }
    #expect(compared > 10_000)
    #expect(varied >= 270, "only \(varied) of 300 trials produced varied outputs")
    #expect(ties >= 1000, "only \(ties) outputs were exact ties")
    #expect(inPlace >= 10 && skipping >= 20 && kTails >= 100 && partialBlocks >= 100,
            "in place \(inPlace), padding skipped \(skipping), K tails \(kTails), partial blocks \(partialBlocks)")
    #expect(shortRows >= 30 && vectorRows >= 30 && longRows >= 30,
            "im2col kernel rows: under 8 bytes \(shortRows), 8 to 16 \(vectorRows), longer \(longRows)")
    if KernelFamilyID.avx2Supported {  // each of the AVX2 family's kernels was compared
        for variant in ["int16", "maddubs, 2-product int16 sums", "maddubs, 4-product int16 sums"] {
            #expect(kernels["avx2 (\(variant))", default: 0] >= 30, "avx2 (\(variant)) ran in too few trials: \(kernels)")
        }
    }
    print("random convolutions: \(compared) bytes compared, \(ties) exact ties, "
          + "im2col kernel rows \(shortRows)/\(vectorRows)/\(longRows), families: "
          + testedFamilies.map(\.name).joined(separator: ", ") + "; avx2 kernels: \(kernels)")
}

@Test("random max pools: every optimized family equals the reference bit for bit")
func randomMaxPools() throws {
    var rng = SplitMix(state: 2027)
    var compared = 0, vectorChannels = 0
    for trial in 0..<200 {
        // 1-100 channels: below, at and above the 32-lane vectors, with leftovers.
        let c = trial < 100 ? trial + 1 : Int.random(in: 1...100, using: &rng)
        if c >= 32 { vectorChannels += 1 }
        let kh = Int.random(in: 1...5, using: &rng), kw = Int.random(in: 1...5, using: &rng)
        let h = 2 * Int.random(in: (kh / 2)...(kh / 2 + 6), using: &rng) + 1
        let w = 2 * Int.random(in: (kw / 2)...(kw / 2 + 6), using: &rng) + 1
        let pool = TestPool(kernel: (kh, kw), stride: (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng)),
                            pads: (Int.random(in: 0..<kh, using: &rng), Int.random(in: 0..<kw, using: &rng),
                                   Int.random(in: 0..<kh, using: &rng), Int.random(in: 0..<kw, using: &rng)))
        // A 1x1 conv from the 1 or 3 input channels makes the pool's c channels, spread over 0...255.
        let inC = Bool.random(using: &rng) ? 1 : 3
        let front = TestConv(
            inChannels: inC, outChannels: c, kernel: (1, 1), stride: (1, 1), pads: (0, 0, 0, 0),
            relu: false, outputZeroPoint: 128,
            weights: (0..<(c * inC)).map { _ in Int8.random(in: -127...127, using: &rng) },
            bias: (0..<c).map { _ in Int32.random(in: -3000...3000, using: &rng) },
            multiplier: (0..<c).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) },
            shift: (0..<c).map { _ in Int32.random(in: 36...38, using: &rng) })
        let bytes = writeModel([.conv(front), .maxPool(pool)], inputChannels: inC, height: h, width: w, inputZeroPoint: 0)
        let batch = Int.random(in: 1...3, using: &rng)
        let input = (0..<(batch * h * w * inC)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let results = try runOnEveryFamily(bytes, input: input, batch: batch)
        #expect(results.allSatisfy { $0 == results[0] },
                "trial \(trial): c \(c) \(h)x\(w) kernel \(pool.kernel) stride \(pool.stride) pads \(pool.pads)")
        compared += results[0].count
    }
    #expect(vectorChannels >= 120)
    print("random max pools: \(compared) bytes compared, families: " + testedFamilies.map(\.name).joined(separator: ", "))
}
