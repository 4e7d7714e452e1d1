// Optimized kernels equal the reference kernels bit for bit: hundreds of random convolutions
// (kernel, stride, padding, channel counts, zero points, multipliers and shifts, with and
// without ReLU) run on both kernel families and compared byte for byte, including the
// saturating corners of requantization.

import NiN
import Testing

@Test("a requested kernel family is used when the CPU has it, else the best one below it")
func isaSelection() throws {
    let path = repositoryRoot + "/Tests/golden/net/pools/model.nin"
    #expect(try NiNModel(path: path, isa: .generic).isa == .generic)
    #expect(try NiNModel(path: path, isa: .avx2).isa == (KernelISA.avx2Supported ? .avx2 : .generic))
    let vnni = try NiNModel(path: path, isa: .avx512vnni).isa
    #expect(vnni == (KernelISA.avx512vnniSupported ? .avx512vnni : KernelISA.avx2Supported ? .avx2 : .generic))
    print("kernel families on this CPU: avx2 \(KernelISA.avx2Supported), avx512vnni \(KernelISA.avx512vnniSupported)")
}

@Test("random convolutions: every optimized family equals the reference bit for bit",
      .enabled(if: KernelISA.allCases.contains { $0 != .generic && $0.isSupported },
               "needs a CPU that runs an optimized kernel family"))
func randomConvolutions() throws {
    var rng = SplitMix(state: 2026)
    var compared = 0
    var varied = 0  // trials whose outputs are not all one value: the comparison proves something
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
        // Every family (generic first: the reference), so a new family is compared as soon as it exists.
        let models = try KernelISA.allCases.map { try NiNModel(bytes: bytes, isa: $0) }
        let batch = Int.random(in: 1...3, using: &rng)
        let input = (0..<(batch * h * w * inC)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var results: [[UInt8]] = []
        for model in models {
            for threads in [1, 3] {
                let context = try NiNContext(model: model, threads: threads, batchSize: batch)
                context.minimumWorkPerPart = 1
                var layers: [UInt8] = []
                try context.run(preparedInput: input, count: batch) { _, out in layers += out }
                results.append(layers)
            }
        }
        let tested = results[0].count - batch * n * 4
        let distinct = Set(results[0].prefix(tested)).count
        if distinct > 1 { varied += 1 }
        #expect(results.allSatisfy { $0 == results[0] },
                "trial \(trial): k \(kh)x\(kw) s \(conv.stride) pads \(conv.pads) c \(c) n \(n) relu \(relu) zIn \(zIn) zMid \(zMid)")
        compared += results[0].count
    }
    #expect(compared > 10_000)
    #expect(varied >= 270, "only \(varied) of 300 trials produced varied outputs")
}
