// The model reader's numeric limits at their edges (docs/FORMAT.md; docs/SECURITY.md,
// "Limits", lists each limit with its test here): for every bound one file right at it, which
// loads (or, where no valid file can reach the bound, is refused by the next rule only), and
// one just past it, refused with that rule's message in full. Files come from ModelWriter, or
// from ModelReaderRuleTests' tiny model, patched and re-sealed.

import NiN
import NiNKernelCheck
import Testing

/// Loads `bytes`, recording the refusal as an issue; nil if refused.
@discardableResult
private func expectLoads(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> NiNModel? {
    do {
        return try NiNModel(bytes: bytes)
    } catch {
        Issue.record("refused at the bound: \(error.message)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A convolution whose weights are all 1 (or `weights`), bias 0, multiplier 2^30, shift 36, no
/// ReLU, output zero point 0: valid unless a test changes a field.
private func edgeConv(inChannels: Int = 1, outChannels: Int = 1, kernel: (Int, Int) = (1, 1), stride: (Int, Int) = (1, 1),
                      pads: (Int, Int, Int, Int) = (0, 0, 0, 0), weights: [Int8]? = nil) -> TestConv {
    let k = kernel.0 * kernel.1 * inChannels
    return TestConv(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, pads: pads,
                    relu: false, outputZeroPoint: 0, weights: weights ?? [Int8](repeating: 1, count: outChannels * k),
                    bias: [Int32](repeating: 0, count: outChannels), multiplier: [Int32](repeating: 1 << 30, count: outChannels),
                    shift: [Int32](repeating: 36, count: outChannels))
}

/// A model of one convolution and its GAP, on a 1-channel `height` x `width` input.
private func oneConv(_ conv: TestConv, height: Int = 1, width: Int = 1, inputZeroPoint: Int32 = 0) -> [UInt8] {
    writeModel([.conv(conv)], inputChannels: conv.inChannels, height: height, width: width, inputZeroPoint: inputZeroPoint)
}

@Test("section_count: 1 and 16 pass the count rule, 0 and 17 are refused by it")
func readerSectionCountEdge() throws {
    var file = tinyModel()
    let graphOffset = file.section("GRPH").offset
    file.put32(12, 16)  // the table's 12 more entries would overlap GRPH: the next rule refuses
    expectRule(file.sealed, "section GRPH at byte \(graphOffset) overlaps the section table or the previous section (which ends at \(64 + 16 * 24))")
    file.put32(12, 17)
    expectRule(file.sealed, "section_count is 17, expected 1 to 16")
    file.put32(12, 1)  // GRPH alone
    expectRule(file.sealed, "required section WGHT is missing")
    file.put32(12, 0)
    expectRule(file.sealed, "section_count is 0, expected 1 to 16")
}

@Test("input: 1 and 4096 on a side and 1 or 3 channels load; 0 and 4097 on a side, 0, 2 and 4 channels are refused")
func readerInputSizeEdge() throws {
    for channels in [0, 2, 4] {
        expectRule(writeModel([], inputChannels: channels, height: 1, width: 1, inputZeroPoint: 0),
                   "input channels is \(channels), expected 1 or 3")
    }
    expectLoads(writeModel([], inputChannels: 1, height: 4096, width: 1, inputZeroPoint: 0))
    expectLoads(writeModel([], inputChannels: 1, height: 1, width: 4096, inputZeroPoint: 0))
    expectLoads(writeModel([], inputChannels: 3, height: 1, width: 1, inputZeroPoint: 0))
    expectRule(writeModel([], inputChannels: 1, height: 4097, width: 1, inputZeroPoint: 0), "input size 4097x1 is outside 1..4096")
    expectRule(writeModel([], inputChannels: 1, height: 1, width: 4097, inputZeroPoint: 0), "input size 1x4097 is outside 1..4096")
    expectRule(writeModel([], inputChannels: 1, height: 1, width: 0, inputZeroPoint: 0), "input size 1x0 is outside 1..4096")
}

@Test("layer_count: 256 layers load, 257 are refused")
func readerLayerCountEdge() throws {
    let pool = TestLayer.maxPool(TestPool(kernel: (1, 1), stride: (1, 1), pads: (0, 0, 0, 0)))
    let model = expectLoads(writeModel([TestLayer](repeating: pool, count: 255), inputChannels: 1, height: 1, width: 1, inputZeroPoint: 0))
    #expect(model?.graph.layers.count == 256)
    expectRule(writeModel([TestLayer](repeating: pool, count: 256), inputChannels: 1, height: 1, width: 1, inputZeroPoint: 0),
               "layer_count is 257, expected 1 to 256")
}

@Test("out_channels: 4096 load, 4097 are refused")
func readerOutChannelsEdge() throws {
    let model = expectLoads(oneConv(edgeConv(outChannels: 4096)))
    #expect(model?.graph.classCount == 4096)
    expectRule(oneConv(edgeConv(outChannels: 4097)), "layer 0: out_channels is 4097, expected 1 to 4096")
}

@Test("kernel and stride: 64 load, 65 are refused")
func readerKernelStrideEdge() throws {
    expectLoads(oneConv(edgeConv(kernel: (64, 64)), height: 64, width: 64))
    expectLoads(oneConv(edgeConv(stride: (64, 64)), height: 64, width: 64))
    expectRule(oneConv(edgeConv(kernel: (65, 64)), height: 65, width: 64), "layer 0: kernel 65x64 is outside 1..64")
    expectRule(oneConv(edgeConv(kernel: (64, 65)), height: 64, width: 65), "layer 0: kernel 64x65 is outside 1..64")
    expectRule(oneConv(edgeConv(stride: (65, 1)), height: 64, width: 64), "layer 0: stride 65x1 is outside 1..64")
    expectRule(oneConv(edgeConv(stride: (1, 65)), height: 64, width: 64), "layer 0: stride 1x65 is outside 1..64")
}

@Test("padding: kernel - 1 on every side loads, the kernel's size on any one side is refused")
func readerPaddingEdge() throws {
    expectLoads(oneConv(edgeConv(kernel: (3, 3), pads: (2, 2, 2, 2))))
    for side in 0..<4 {  // top, left, bottom, right
        let pads = (0..<4).map { $0 == side ? 3 : 0 }
        expectRule(oneConv(edgeConv(kernel: (3, 3), pads: (pads[0], pads[1], pads[2], pads[3])), height: 4, width: 4),
                   "layer 0: padding (\(pads.map(String.init).joined(separator: ","))) must be smaller than the kernel")
    }
}

@Test("output size: a kernel as large as its padded input loads (1x1 out), one larger is refused")
func readerOutputSizeEdge() throws {
    let model = expectLoads(oneConv(edgeConv(kernel: (7, 7), pads: (1, 1, 1, 1)), height: 5, width: 5))
    #expect(model.map { [$0.graph.layers[0].output.height, $0.graph.layers[0].output.width] } == [1, 1])
    expectRule(oneConv(edgeConv(kernel: (7, 7), pads: (1, 1, 0, 1)), height: 5, width: 5),
               "layer 0: kernel 7x7 does not fit its padded 5x5 input")
}

@Test("zero points: 255 loads, 256 is refused (input and output)")
func readerZeroPointEdges() throws {
    expectLoads(oneConv(edgeConv(), inputZeroPoint: 255))
    expectRule(oneConv(edgeConv(), inputZeroPoint: 256), "input_zero_point 256 is outside 0..255")
    var conv = edgeConv()
    conv.outputZeroPoint = 255
    expectLoads(oneConv(conv))
    conv.outputZeroPoint = 256
    expectRule(oneConv(conv), "layer 0: output_zero_point 256 is outside 0..255")
}

@Test("output_max: 255 and output_zero_point + 1 load; 256 and output_zero_point are refused")
func readerOutputMaxEdges() throws {
    var conv = edgeConv()
    conv.outputMax = 255
    #expect(expectLoads(oneConv(conv))?.graph.layers[0].outputMax == 255)
    conv.outputMax = 256
    expectRule(oneConv(conv), "layer 0: output_max 256 is outside 0..255")
    conv.outputZeroPoint = 200
    conv.outputMax = 201
    #expect(expectLoads(oneConv(conv))?.graph.layers[0].outputMax == 201)
    conv.outputMax = 200
    expectRule(oneConv(conv), "layer 0: output_max 200 must be greater than output_zero_point 200")
}

@Test("weights: weight_max 127 loads, 128 is refused; weights at +-weight_max load, one past is refused")
func readerWeightEdges() throws {
    // 2 x 9 x 9 weights: two 64-weight blocks of the vector check, then 34 checked one by one.
    // A block holding a weight past the bound is checked one by one from its start, so a weight
    // at the bound before it must not be the one reported.
    /// 162 weights of 1, but for the (index, value) pairs of `special`.
    func weights(_ special: [(Int, Int8)]) -> [Int8] {
        var w = [Int8](repeating: 1, count: 162)
        for (i, v) in special { w[i] = v }
        return w
    }
    /// The one-conv model on a 9x9 input.
    func model(_ conv: TestConv) -> [UInt8] { oneConv(conv, height: 9, width: 9) }
    var conv = edgeConv(outChannels: 2, kernel: (9, 9), weights: weights([(3, 127), (64, -127), (70, 127), (150, -127)]))
    expectLoads(model(conv))  // weight_max 0: [-127, 127]
    conv.weightMax = 127
    #expect(expectLoads(model(conv))?.graph.layers[0].weightMax == 127)
    conv.weightMax = 128
    expectRule(model(conv), "layer 0: weight_max 128 is outside 0..127")
    conv.weightMax = 0
    conv.weights = weights([(64, -127), (100, -128)])
    expectRule(model(conv), "layer 0: weight 100 is -128; weights must lie in [-127, 127]")

    conv.weightMax = 5
    conv.weights = weights([(3, 5), (64, -5), (70, 5), (150, -5)])
    #expect(expectLoads(model(conv))?.graph.layers[0].weightMax == 5)
    conv.weights = weights([(64, 5), (70, -6)])
    expectRule(model(conv), "layer 0: weight 70 lies outside [-5, 5] (weight_max)")
    conv.weights = weights([(150, -5), (160, 6)])
    expectRule(model(conv), "layer 0: weight 160 lies outside [-5, 5] (weight_max)")
}

@Test("multiplier: 2^30 and 2^31 - 1 load, 2^30 - 1 and 2^31 are refused")
func readerMultiplierEdge() throws {
    var conv = edgeConv()
    for m in [Int32(1 << 30), Int32.max] {
        conv.multiplier = [m]
        expectLoads(oneConv(conv))
    }
    conv.multiplier = [(1 << 30) - 1]
    expectRule(oneConv(conv), "layer 0: multiplier[0] = 1073741823 is outside [2^30, 2^31)")
    conv.multiplier = [Int32.min]  // the u32 2^31
    expectRule(oneConv(conv), "layer 0: multiplier[0] = -2147483648 is outside [2^30, 2^31)")
}

@Test("shift: 1 and 62 load, 0 and 63 are refused")
func readerShiftEdge() throws {
    var conv = edgeConv()
    for n: Int32 in [1, 62] {
        conv.shift = [n]
        expectLoads(oneConv(conv))
    }
    for n: Int32 in [0, 63] {
        conv.shift = [n]
        expectRule(oneConv(conv), "layer 0: shift[0] = \(n) is outside 1..62")
    }
}

@Test("accumulator: |bias| + in_max * w_max * k = 2^31 - 1 loads, 2^31 is refused (either sign, narrowed bounds)")
func readerAccumulatorEdge() throws {
    // A 3x3 conv over 3 channels (k = 27) on the 255-bounded input; then the same after a conv
    // whose output_max of 100 bounds its input, with weight_max 7.
    for (inMax, weightMax) in [(255, 127), (100, 7)] {
        var conv = edgeConv(inChannels: 3, kernel: (3, 3))
        conv.weightMax = weightMax == 127 ? 0 : Int32(weightMax)
        let worst = inMax * weightMax * 27
        var layers: [TestLayer] = []
        var first = edgeConv(inChannels: 1, outChannels: 3)
        first.outputMax = Int32(inMax)
        if inMax != 255 { layers.append(.conv(first)) }
        /// The model with the tested conv's bias set to `bias`.
        func model(bias: Int) -> [UInt8] {
            var c = conv
            c.bias = [Int32(bias)]
            return writeModel(layers + [.conv(c)], inputChannels: inMax != 255 ? 1 : 3, height: 3, width: 3, inputZeroPoint: 0)
        }
        let index = layers.count
        let bound = Int(Int32.max) - worst
        for bias in [bound, -bound] { expectLoads(model(bias: bias)) }
        for bias in [bound + 1, -(bound + 1)] {
            expectRule(model(bias: bias),
                       "layer \(index): channel 0 could overflow the int32 accumulator (|bias| + \(inMax)*\(weightMax)*27 >= 2^31)")
        }
    }
}

@Test("GAP: 255 x H x W below 2^31 loads, the next size above is refused")
func readerGapEdge() throws {
    // The largest H x W (each at most 4096) with 255 H W < 2^31, and the smallest with it above.
    let limit = (Int(Int32.max)) / 255
    let sides = 1...4096
    let at = sides.compactMap { h in limit / h <= 4096 ? (h, limit / h) : nil }.max { $0.0 * $0.1 < $1.0 * $1.1 }!
    let past = sides.compactMap { h in (limit + h) / h <= 4096 ? (h, (limit + h) / h) : nil }.min { $0.0 * $0.1 < $1.0 * $1.1 }!
    #expect(255 * at.0 * at.1 < 1 << 31 && 255 * past.0 * past.1 >= 1 << 31)
    expectLoads(writeModel([], inputChannels: 1, height: at.0, width: at.1, inputZeroPoint: 0))
    expectRule(writeModel([], inputChannels: 1, height: past.0, width: past.1, inputZeroPoint: 0),
               "layer 0: gap over \(past.0)x\(past.1) positions could overflow its int32 sums")
}
