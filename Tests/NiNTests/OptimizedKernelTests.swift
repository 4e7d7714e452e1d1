// Optimized kernels equal the reference kernels bit for bit: hundreds of random convolutions
// (kernel, stride, padding, channel counts, zero points, multipliers and shifts, with and
// without ReLU) and max pools (1-100 channels, odd sizes, strides, padding) run on every kernel
// family this CPU has and compared byte for byte, including the saturating corners of
// requantization and exact ties (x.5 before rounding, which must go to even).

import NiN
import Testing

@Test("a requested kernel family is used when the CPU has it, else the best one below it")
func isaSelection() throws {
    let path = repositoryRoot + "/Tests/golden/net/pools/model.nin"
    #expect(try NiNModel(path: path, isa: .generic).isa == .generic)
    #expect(try NiNModel(path: path, isa: .portable).isa == .portable)  // (every build and CPU has it)
    // Below AVX2 comes the portable family; a build without the x86 families gives it too.
    #expect(try NiNModel(path: path, isa: .avx2).isa == (KernelISA.avx2Supported ? .avx2 : .portable))
    let vnni = try NiNModel(path: path, isa: .avx512vnni).isa
    #expect(vnni == (KernelISA.avx512vnniSupported ? .avx512vnni : KernelISA.avx2Supported ? .avx2 : .portable))
}

/// Runs `input` (`batch` images) through `bytes` on every family this CPU has, with 1 and 3
/// threads; returns each run's layer outputs back to back, and checks each model got its family.
private func runOnEveryFamily(_ bytes: [UInt8], input: [UInt8], batch: Int) throws -> [[UInt8]] {
    var results: [[UInt8]] = []
    for family in testedKernelFamilies {
        let model = try NiNModel(bytes: bytes, isa: family)
        #expect(model.isa == family, "asked for \(family), got \(model.isa)")
        for threads in [1, 3] {
            let context = try NiNContext(model: model, threads: threads, batchSize: batch)
            context.minimumWorkPerPart = 1
            var layers: [UInt8] = []
            try context.run(preparedInput: input, count: batch) { _, out in layers += out }
            results.append(layers)
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
      .enabled(if: KernelISA.allCases.contains { $0 != .generic && $0.isSupported },
               "needs an optimized kernel family (the portable one is in every build)"))
func randomConvolutions() throws {
    var rng = SplitMix(state: 2026)
    var compared = 0
    var varied = 0  // trials whose outputs are not all one value: the comparison proves something
    var ties = 0    // outputs whose scaled accumulator is exactly x.5 inside the output range
    for trial in 0..<300 {
        // Every fifth trial is a pointwise (1x1, stride 1, unpadded) conv, which kernels may run in place.
        let pointwise = trial % 5 == 1
        let kh = pointwise ? 1 : Int.random(in: 1...7, using: &rng), kw = pointwise ? 1 : Int.random(in: 1...7, using: &rng)
        let c = [1, 2, 3, 4, 5, 8, 12, 16, 17, 32, 33][Int.random(in: 0..<11, using: &rng)]
        let n = [1, 3, 8, 15, 16, 17, 31, 40][Int.random(in: 0..<8, using: &rng)]
        let h = Int.random(in: kh...(kh + 12), using: &rng), w = Int.random(in: kw...(kw + 12), using: &rng)
        let relu = Bool.random(using: &rng)
        let k = kh * kw * c
        var conv = TestConv(
            inChannels: c, outChannels: n, kernel: (kh, kw),
            stride: pointwise ? (1, 1) : (Int.random(in: 1...4, using: &rng), Int.random(in: 1...4, using: &rng)),
            pads: (Int.random(in: 0..<kh, using: &rng), Int.random(in: 0..<kw, using: &rng),
                   Int.random(in: 0..<kh, using: &rng), Int.random(in: 0..<kw, using: &rng)),
            relu: relu, outputZeroPoint: relu ? 0 : Int32.random(in: 0...255, using: &rng),
            weights: (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) },
            bias: (0..<n).map { _ in Int32.random(in: -100_000...100_000, using: &rng) },
            multiplier: (0..<n).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) },
            shift: (0..<n).map { _ in Int32.random(in: 1...62, using: &rng) })
        // Mostly plausible shifts (outputs spread over 0..255), some extremes.
        if trial % 4 != 0 {
            // acc is typically ~ 64 * 64 * sqrt(k); acc * m / 2^n ~ 128 needs n ~ log2(acc) + 23.
            var typicalAcc = 4096.0 * Double(k).squareRoot()
            var shift: Int32 = 23
            while typicalAcc > 1 { typicalAcc /= 2; shift += 1 }
            conv.shift = (0..<n).map { _ in max(1, min(62, shift + Int32.random(in: -2...2, using: &rng))) }
        }
        // Every fourth trial makes exact ties: small weights and dyadic scales j * 2^-(b + s)
        // (m = j * 2^(30 - b), j odd, n = 30 + b + s), so about one accumulator in 2^(b + s) lands
        // on x.5; rounding half to even and half away from zero then differ.
        let tieTrial = trial % 4 == 3
        if tieTrial {
            conv.weights = (0..<(n * k)).map { _ in Int8.random(in: -3...3, using: &rng) }
            conv.bias = (0..<n).map { _ in Int32.random(in: -500...500, using: &rng) }
            let spread = 300.0 * Double(k).squareRoot()  // typical |acc| for |x - z| ~ 100, |w| ~ 2
            var s: Int32 = 0
            while Double(1 << s) * 128 < spread { s += 1 }
            for o in 0..<n {
                let b = Int32.random(in: 0...3, using: &rng)
                let j = Int32.random(in: (1 << b)..<(2 << b), using: &rng) | 1
                conv.multiplier[o] = j << (30 - b)
                conv.shift[o] = max(1, 30 + b + max(s, b == 0 ? 1 : 0))
            }
        }
        // The input has 1 or 3 channels: a random 1x1 conv (also compared) feeds the conv under test.
        // Its output zero point, the tested conv's input zero point, is mostly 0 (as after a ReLU,
        // which lets kernels skip the padding) and sometimes not (then the front has no ReLU).
        let inC = Bool.random(using: &rng) ? 1 : 3
        let zIn = Bool.random(using: &rng) ? 0 : Int32.random(in: 0...255, using: &rng)
        let zMid = trial % 3 == 2 ? Int32.random(in: 1...255, using: &rng) : 0
        let front = TestConv(
            inChannels: inC, outChannels: c, kernel: (1, 1), stride: (1, 1), pads: (0, 0, 0, 0),
            relu: zMid == 0 && (!Bool.random(using: &rng) || conv.outputZeroPoint == 0), outputZeroPoint: zMid,
            weights: (0..<(c * inC)).map { _ in Int8.random(in: -127...127, using: &rng) },
            bias: (0..<c).map { _ in Int32.random(in: -3000...3000, using: &rng) },
            multiplier: (0..<c).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) },
            shift: (0..<c).map { _ in Int32.random(in: 36...40, using: &rng) })
        let bytes = writeConvModel([front, conv], height: h, width: w, inputZeroPoint: zIn)
        let batch = Int.random(in: 1...3, using: &rng)
        let input = (0..<(batch * h * w * inC)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let results = try runOnEveryFamily(bytes, input: input, batch: batch)
        let tested = results[0].count - batch * n * 4
        if tieTrial {  // count the ties the comparison went through
            let front = results[0].prefix(batch * h * w * c)
            let accs = accumulators(conv, input: front, batch: batch, height: h, width: w, zIn: zMid)
            for (i, acc) in accs.enumerated() {
                let o = i % n
                let scaled = Double(acc) * Double(conv.multiplier[o]) / Double(sign: .plus, exponent: Int(conv.shift[o]), significand: 1)
                let low = Double(relu ? 0 : -conv.outputZeroPoint), high = Double(255 - conv.outputZeroPoint)
                if scaled - scaled.rounded(.down) == 0.5 && scaled > low && scaled < high { ties += 1 }
            }
        }
        let distinct = Set(results[0].prefix(tested)).count
        if distinct > 1 { varied += 1 }
        #expect(results.allSatisfy { $0 == results[0] },
                "trial \(trial): k \(kh)x\(kw) s \(conv.stride) pads \(conv.pads) c \(c) n \(n) relu \(relu) zIn \(zIn) zMid \(zMid)")
        compared += results[0].count
    }
    #expect(compared > 10_000)
    #expect(varied >= 270, "only \(varied) of 300 trials produced varied outputs")
    #expect(ties >= 1000, "only \(ties) outputs were exact ties")
    print("random convolutions: \(compared) bytes compared, \(ties) exact ties, families: "
          + testedKernelFamilies.map(\.rawValue).joined(separator: ", "))
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
    print("random max pools: \(compared) bytes compared, families: " + testedKernelFamilies.map(\.rawValue).joined(separator: ", "))
}
