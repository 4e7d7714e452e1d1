// Random convolutions for comparing kernel families with the reference bit for bit: the
// generator (kernels, strides, padding, channel counts, zero points, multipliers and shifts,
// exact ties), the classic NiN's layer geometries, and running a model on one family. Shared by
// the Swift tests (OptimizedKernelTests) and nin-kernel-check, which run the same trials.

import NiN

/// One random convolution and what feeds it: a 1x1 `front` conv from 1 or 3 input channels
/// (also compared) makes the `conv` under test's input, whose zero point is mostly 0 (as after a
/// ReLU, which lets kernels skip the padding) and sometimes not.
public struct RandomConvolution {
    public var front: TestConv, conv: TestConv
    /// Input height and width; the model's input zero point; the tested conv's input zero point.
    public var height: Int, width: Int, inputZeroPoint: Int32, middleZeroPoint: Int32
    /// Whether the trial makes exact ties (x.5 before rounding).
    public var tieTrial: Bool
    /// Images per run, and the u8 input of all of them.
    public var batch: Int, input: [UInt8]
    /// Whether the model file also carries the weights quad-blocked (format 1.2; odd trials),
    /// which the quad families then read in place instead of packing them.
    public var quadWeights = false

    /// The model file of `front` then `conv` (then GAP).
    public var model: [UInt8] {
        writeConvModel([front, conv], height: height, width: width, inputZeroPoint: inputZeroPoint, quadWeights: quadWeights)
    }

    /// Trial `trial` of the random-convolution test, from `rng`: every fifth a pointwise conv
    /// (1x1, stride 1, unpadded), every fourth one with extreme shifts, every fourth (offset 3)
    /// with exact ties: small weights and dyadic scales; odd trials store the weights quad-blocked
    /// too (format 1.2, read in place by the quad families). FORMAT.md 1.1 bounds, which let the
    /// AVX2 family use vpmaddubsw (Sources/NiNAVX2/MaddubsBound.swift): a third of the trials
    /// have 7-bit weights (|w| <= 63) on inputs up to 127 (four-product int16 sums), a third
    /// 7-bit weights on inputs up to 255 (two-product sums), a third 8-bit weights (the int16
    /// kernel, unless the weights happen to be small); some narrow the output range.
    public init(trial: Int, using rng: inout SplitMix) {
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
        let bounds = trial % 3
        if bounds != 0 {
            conv.weightMax = 63
            conv.weights = (0..<(n * k)).map { _ in Int8.random(in: -63...63, using: &rng) }
        }
        if trial % 4 != 3 && conv.outputZeroPoint < 255 && Bool.random(using: &rng) {  // not in tie trials
            conv.outputMax = Int32.random(in: (conv.outputZeroPoint + 1)...255, using: &rng)
        }
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
            conv.weightMax = 0
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
        let inC = Bool.random(using: &rng) ? 1 : 3
        let zIn = Bool.random(using: &rng) ? 0 : Int32.random(in: 0...255, using: &rng)
        let zMid = trial % 3 == 2 ? Int32.random(in: 1...255, using: &rng) : 0
        front = TestConv(
            inChannels: inC, outChannels: c, kernel: (1, 1), stride: (1, 1), pads: (0, 0, 0, 0),
            relu: zMid == 0 && (!Bool.random(using: &rng) || conv.outputZeroPoint == 0), outputZeroPoint: zMid,
            weights: (0..<(c * inC)).map { _ in Int8.random(in: -127...127, using: &rng) },
            bias: (0..<c).map { _ in Int32.random(in: -3000...3000, using: &rng) },
            multiplier: (0..<c).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) },
            shift: (0..<c).map { _ in Int32.random(in: 36...40, using: &rng) })
        if bounds == 1 && zMid < 127 { front.outputMax = 127 }
        self.conv = conv
        height = h; width = w; inputZeroPoint = zIn; middleZeroPoint = zMid; self.tieTrial = tieTrial
        batch = Int.random(in: 1...3, using: &rng)
        input = (0..<(batch * h * w * inC)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        quadWeights = trial % 2 == 1
    }

    /// A convolution of the classic NiN's geometry `layer` (`classicLayers`), random weights
    /// with plausible shifts, fed by a ReLU 1x1 front conv from one input channel; batch 1.
    public init(classic layer: ClassicLayer, using rng: inout SplitMix) {
        let (c, n, kernel, stride, pad, size) = (layer.inChannels, layer.outChannels, layer.kernel, layer.stride, layer.pad, layer.inputSize)
        let k = kernel * kernel * c
        var typicalAcc = 4096.0 * Double(k).squareRoot()
        var shift: Int32 = 23
        while typicalAcc > 1 { typicalAcc /= 2; shift += 1 }
        conv = TestConv(
            inChannels: c, outChannels: n, kernel: (kernel, kernel), stride: (stride, stride), pads: (pad, pad, pad, pad),
            relu: true, outputZeroPoint: 0,
            weights: (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) },
            bias: (0..<n).map { _ in Int32.random(in: -100_000...100_000, using: &rng) },
            multiplier: (0..<n).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) },
            shift: (0..<n).map { _ in max(1, min(62, shift + Int32.random(in: -2...2, using: &rng))) })
        front = TestConv(
            inChannels: 1, outChannels: c, kernel: (1, 1), stride: (1, 1), pads: (0, 0, 0, 0), relu: true, outputZeroPoint: 0,
            weights: (0..<c).map { _ in Int8.random(in: -127...127, using: &rng) },
            bias: (0..<c).map { _ in Int32.random(in: -3000...3000, using: &rng) },
            multiplier: (0..<c).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) },
            shift: (0..<c).map { _ in Int32.random(in: 36...40, using: &rng) })
        height = size; width = size; inputZeroPoint = 0; middleZeroPoint = 0; tieTrial = false
        batch = 1
        input = (0..<(size * size)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// A one-line description of the tested conv, for a failure message.
    public var summary: String {
        "k \(conv.kernel.0)x\(conv.kernel.1) s (\(conv.stride.0), \(conv.stride.1)) "
            + "pads (\(conv.pads.0), \(conv.pads.1), \(conv.pads.2), \(conv.pads.3)) c \(conv.inChannels) n \(conv.outChannels) "
            + "\(height)x\(width) batch \(batch) relu \(conv.relu) zIn \(inputZeroPoint) zMid \(middleZeroPoint)"
            + " max \(front.outputMax)/\(conv.outputMax) wmax \(conv.weightMax)" + (quadWeights ? " quad weights" : "")
    }
}

/// A convolution layer of the classic NiN (227 x 227 input): channels, square kernel, stride,
/// padding and square input size.
public struct ClassicLayer {
    public var inChannels: Int, outChannels: Int, kernel: Int, stride: Int, pad: Int, inputSize: Int
}

/// The classic NiN's distinct convolutions (models/fashion_classic.arch.json, 10 classes).
public let classicLayers: [ClassicLayer] = [
    ClassicLayer(inChannels: 1, outChannels: 96, kernel: 11, stride: 4, pad: 0, inputSize: 227),
    ClassicLayer(inChannels: 96, outChannels: 96, kernel: 1, stride: 1, pad: 0, inputSize: 55),
    ClassicLayer(inChannels: 96, outChannels: 256, kernel: 5, stride: 1, pad: 2, inputSize: 27),
    ClassicLayer(inChannels: 256, outChannels: 256, kernel: 1, stride: 1, pad: 0, inputSize: 27),
    ClassicLayer(inChannels: 256, outChannels: 384, kernel: 3, stride: 1, pad: 1, inputSize: 13),
    ClassicLayer(inChannels: 384, outChannels: 384, kernel: 1, stride: 1, pad: 0, inputSize: 13),
    ClassicLayer(inChannels: 384, outChannels: 10, kernel: 3, stride: 1, pad: 1, inputSize: 6),
    ClassicLayer(inChannels: 10, outChannels: 10, kernel: 1, stride: 1, pad: 0, inputSize: 6),
]

/// A kernel family to compare: a `KernelFamilyID` on this CPU, or (`emulated`) on its instruction
/// emulator.
public struct CheckedFamily: Equatable {
    public var isa: KernelFamilyID, emulated: Bool

    /// A family on its hardware, or on its emulator.
    public init(isa: KernelFamilyID, emulated: Bool = false) { self.isa = isa; self.emulated = emulated }

    /// Its name: the NIN_ISA value, with "-emulator" for the emulated one.
    public var name: String { emulated ? isa.rawValue + "-emulator" : isa.rawValue }

    /// Every family this build and CPU can run, best first: the optimized ones on their hardware,
    /// then the emulated ones, then generic (the reference) last.
    public static var runnable: [CheckedFamily] {
        KernelFamilyID.allCases.filter { $0 != .generic && $0.isSupported }.map { CheckedFamily(isa: $0) }
            + KernelFamilyID.emulated.map { CheckedFamily(isa: $0, emulated: true) } + [CheckedFamily(isa: .generic)]
    }

    /// Loads `model` for this family; throws if the model loaded with another family.
    public func load(_ model: [UInt8]) throws(NiNError) -> NiNModel {
        let loaded = emulated ? try NiNModel(bytes: model, emulating: isa) : try NiNModel(bytes: model, isa: isa)
        guard loaded.isa == isa else { throw NiNError(.invalidArgument, "asked for \(name), got \(loaded.isa.rawValue)") }
        return loaded
    }
}

/// Runs `input` (`batch` images) through `model` with `threads` threads, splitting every layer
/// as finely as the threads allow; returns every layer's output back to back.
public func runLayers(_ model: NiNModel, input: [UInt8], batch: Int, threads: Int) throws(NiNError) -> [UInt8] {
    let context = try NiNContext(model: model, threads: threads, batchSize: batch)
    context.minimumWorkPerPart = 1
    var layers: [UInt8] = []
    try context.run(preparedInput: input, count: batch) { _, out in layers += out }
    return layers
}
