// Reads and validates a .nin image (docs/FORMAT.md). Nothing in a file is trusted: every count,
// offset, size, shape and the checksum is checked before use, and the first broken rule is
// reported by name.

import NiNKernelCore
import NiNPlatform

/// Parses and validates a model image. The bytes must stay alive while the graph's offsets are used.
/// `isFileMapping`: the bytes are a private read-only file mapping (`Platform.mapReadOnly`), whose
/// pages the reader drops once read (`ByteReader.doneReading`); never for other memory.
public func readModelGraph(_ bytes: UnsafeRawBufferPointer, isFileMapping: Bool = false) throws(NiNError) -> ModelGraph {
    var r = ByteReader(bytes: bytes)
    r.isFileMapping = isFileMapping
    let sections = try readHeaderAndSections(r)
    guard let graph = sections[.graph] else { throw .badModel("required section GRPH is missing") }
    guard let weights = sections[.weights] else { throw .badModel("required section WGHT is missing") }
    guard let labels = sections[.labels] else { throw .badModel("required section LBLS is missing") }
    guard weights.count % ModelFormat.alignment == 0 else {
        throw .badModel("section WGHT has \(weights.count) bytes, not a multiple of 64")
    }
    try checkPaddingIsZero(r, sections)

    var result = try readGraph(r, graph, weights)
    result.weightsSection = weights
    let strings = try readLabels(r, labels, count: result.classCount)
    result.labels = strings.map { $0.string }
    result.labelOffsets = strings.map { $0.offset }
    if let meta = sections[.metadata] {
        let pairs = try readStrings(r, meta, what: "META")
        guard pairs.count % 2 == 0 else { throw .badModel("section META has a key without a value") }
        for i in stride(from: 0, to: pairs.count, by: 2) {
            guard !pairs[i].string.isEmpty else { throw .badModel("section META has an empty key") }
            guard !stride(from: 0, to: i, by: 2).contains(where: { r.sameCString(pairs[$0].offset, pairs[i].offset) }) else {
                throw .badModel("section META has the key \"\(pairs[i].string)\" twice")
            }
            result.metadata.append((key: pairs[i].string, value: pairs[i + 1].string))
            result.metadataValueOffsets.append(pairs[i + 1].offset)
        }
    }
    return result
}

private func readHeaderAndSections(_ r: ByteReader) throws(NiNError) -> SectionTable {
    guard r.count >= ModelFormat.headerBytes else {
        throw .badModel("file has \(r.count) bytes, fewer than the 64-byte header")
    }
    for i in 0..<4 where r.bytes[i] != ModelFormat.magic[i] {
        throw .badModel("bad magic: not a .nin file (expected \"NINM\")")
    }
    let major = r.u16(4)
    guard major == ModelFormat.versionMajor else {
        throw .badModel("format version \(major).\(r.u16(6)) is not supported (this reader reads 1.x)")
    }
    guard r.u32(8) == UInt32(ModelFormat.headerBytes) else { throw .badModel("header_bytes is \(r.u32(8)), expected 64") }
    let fileBytes = r.u64(16)
    guard fileBytes == UInt64(r.count) else {
        throw .badModel("header says the file has \(fileBytes) bytes but it has \(r.count) (truncated or padded)")
    }
    guard r.isZero(28, 36) else { throw .badModel("reserved header bytes 28..63 are not zero") }
    let sectionCount = Int(clamping: r.u32(12))
    guard (1...ModelFormat.maxSections).contains(sectionCount) else {
        throw .badModel("section_count is \(sectionCount), expected 1 to \(ModelFormat.maxSections)")
    }
    let tableEnd = ModelFormat.headerBytes + sectionCount * ModelFormat.sectionEntryBytes
    guard tableEnd <= r.count else {
        throw .badModel("section table needs \(tableEnd) bytes but the file has \(r.count)")
    }
    let stored = r.u32(24)
    // (in 256 KB steps, each let go of once summed: the weights are read again layer by layer)
    var actual: UInt32 = 0
    for start in stride(from: ModelFormat.headerBytes, to: r.count, by: 256 << 10) {
        let chunk = start..<min(start + (256 << 10), r.count)
        actual = crc32(UnsafeRawBufferPointer(rebasing: r.bytes[chunk]), continuing: actual)
        r.doneReading(chunk)
    }
    guard stored == actual else {
        throw .badModel("checksum mismatch: header says 0x\(hex: stored), contents give 0x\(hex: actual) (file corrupted)")
    }

    var sections = SectionTable()
    var previousEnd = tableEnd
    for index in 0..<sectionCount {
        let entry = ModelFormat.headerBytes + index * ModelFormat.sectionEntryBytes
        let kindRaw = r.u32(entry)
        guard let kind = ModelFormat.Section(rawValue: kindRaw) else {
            throw .badModel("section \(index) has unknown kind 0x\(hex: kindRaw)")
        }
        guard r.u32(entry + 4) == 0 else { throw .badModel("section \(kind.name): reserved field is not zero") }
        let offset = r.u64(entry + 8), size = r.u64(entry + 16)
        guard sections[kind] == nil else { throw .badModel("section \(kind.name) appears twice") }
        guard offset % UInt64(ModelFormat.alignment) == 0 else {
            throw .badModel("section \(kind.name) starts at byte \(offset), not a multiple of 64")
        }
        guard offset >= UInt64(previousEnd) else {
            throw .badModel("section \(kind.name) at byte \(offset) overlaps the section table or the previous section (which ends at \(previousEnd))")
        }
        guard offset <= UInt64(r.count), size <= UInt64(r.count) - offset else {
            throw .badModel("section \(kind.name) ends at byte \(offset &+ size) but the file has \(r.count) bytes")
        }
        sections[kind] = Int(offset)..<Int(offset + size)
        previousEnd = Int(offset + size)
    }
    return sections
}

/// Bytes between the section table and the sections, between sections and after the last one
/// must be zero, so that a file has one byte image per model.
private func checkPaddingIsZero(_ r: ByteReader, _ sections: SectionTable) throws(NiNError) {
    var position = ModelFormat.headerBytes + sections.count * ModelFormat.sectionEntryBytes
    var ordered = sections.values
    insertionSort(&ordered) { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
    for range in ordered {
        guard r.isZero(position, range.lowerBound - position) else {
            throw .badModel("padding bytes \(position)..<\(range.lowerBound) before a section are not zero")
        }
        position = range.upperBound
    }
    guard r.isZero(position, r.count - position) else {
        throw .badModel("bytes \(position)..<\(r.count) after the last section are not zero")
    }
}

private func readGraph(_ r: ByteReader, _ graph: Range<Int>, _ weights: Range<Int>) throws(NiNError) -> ModelGraph {
    guard graph.count >= ModelFormat.inputRecordBytes else {
        throw .badModel("section GRPH has \(graph.count) bytes, fewer than the 32-byte input record")
    }
    let g = graph.lowerBound
    let channels = Int(clamping: r.u32(g)), height = Int(clamping: r.u32(g + 4)), width = Int(clamping: r.u32(g + 8))
    let layerCount = Int(clamping: r.u32(g + 12))
    let inputScale = r.f32(g + 16), inputZero = r.i32(g + 20)
    let classCount = Int(clamping: r.u32(g + 24))
    guard channels == 1 || channels == 3 else { throw .badModel("input channels is \(channels), expected 1 or 3") }
    guard (1...ModelFormat.maxInputSide).contains(height), (1...ModelFormat.maxInputSide).contains(width) else {
        throw .badModel("input size \(height)x\(width) is outside 1..4096")
    }
    guard (1...ModelFormat.maxLayers).contains(layerCount) else {
        throw .badModel("layer_count is \(layerCount), expected 1 to 256")
    }
    guard inputScale.isFinite, inputScale > 0 else { throw .badModel("input_scale \(inputScale) is not finite and positive") }
    guard (0...255).contains(inputZero) else { throw .badModel("input_zero_point \(inputZero) is outside 0..255") }
    guard r.u32(g + 28) == 0 else { throw .badModel("GRPH input record: reserved field is not zero") }
    let expected = ModelFormat.inputRecordBytes + ModelFormat.layerRecordBytes * layerCount
    guard graph.count == expected else {
        throw .badModel("section GRPH has \(graph.count) bytes but \(layerCount) layers need exactly \(expected)")
    }

    var shape = TensorShape(height: height, width: width, channels: channels)
    var scale = inputScale, zero = inputZero, bound: Int32 = 255
    var layers: [Layer] = []
    layers.reserveCapacity(layerCount)
    for index in 0..<layerCount {
        let base = g + ModelFormat.inputRecordBytes + index * ModelFormat.layerRecordBytes
        let layer = try readLayer(r, base: base, index: index, isLast: index == layerCount - 1,
                                  input: shape, inputScale: scale, inputZeroPoint: zero, inputMax: bound,
                                  weights: weights)
        layers.append(layer)
        shape = layer.output
        scale = layer.outputScale
        zero = layer.outputZeroPoint
        bound = layer.outputMax
    }
    guard layers[layerCount - 1].kind == .globalAveragePool else {
        throw .badModel("layer \(layerCount - 1) is \(layers[layerCount - 1].kind.staticName): the last layer must be gap")
    }
    guard classCount == shape.channels else {
        throw .badModel("class_count is \(classCount) but the last layer has \(shape.channels) channels")
    }
    return ModelGraph(input: TensorShape(height: height, width: width, channels: channels),
                      inputScale: inputScale, inputZeroPoint: inputZero, layers: layers,
                      labels: [], labelOffsets: [], metadata: [], metadataValueOffsets: [])
}

private func readLayer(_ r: ByteReader, base: Int, index: Int, isLast: Bool, input: TensorShape,
                       inputScale: Float, inputZeroPoint: Int32, inputMax: Int32,
                       weights: Range<Int>) throws(NiNError) -> Layer {
    func fail(_ text: ErrorMessage) -> NiNError { .badModel("layer \(index): \(text)") }
    let op = r.u32(base), flags = r.u32(base + 4)
    let kind: LayerKind
    switch op {
    case ModelFormat.opConv: kind = .convolution
    case ModelFormat.opMaxPool: kind = .maxPool
    case ModelFormat.opAvgPool: kind = .averagePool
    case ModelFormat.opGlobalAveragePool: kind = .globalAveragePool
    default: throw fail("unknown op \(op)")
    }
    guard flags & ~(ModelFormat.flagReLU | ModelFormat.flagQuadWeights) == 0 else {
        throw fail("unknown flag bits 0x\(hex: flags)")
    }
    let relu = flags & ModelFormat.flagReLU != 0
    guard !relu || kind == .convolution else { throw fail("ReLU flag is only allowed on conv") }
    // Version 1.2's quad-blocked copy of the weights (the offset is 0 without the flag).
    let hasQuadWeights = flags & ModelFormat.flagQuadWeights != 0
    guard !hasQuadWeights || kind == .convolution else { throw fail("the quad weights flag is only allowed on conv") }
    let quadOffset = Int(clamping: r.u32(base + 84))
    guard hasQuadWeights || quadOffset == 0 else { throw fail("quad_weights_offset is \(quadOffset) without the quad weights flag") }
    guard r.isZero(base + 88, 8) else { throw fail("reserved bytes 88..95 are not zero") }
    // Version 1.1's bounds (0: the 1.0 meaning, 255 and 127).
    let outputMaxField = r.u32(base + 76), weightMaxField = r.u32(base + 80)
    let inChannels = Int(clamping: r.u32(base + 8)), outChannels = Int(clamping: r.u32(base + 12))
    guard inChannels == input.channels else {
        throw fail("in_channels is \(inChannels) but its input has \(input.channels) channels")
    }
    guard (1...ModelFormat.maxChannels).contains(outChannels) else {
        throw fail("out_channels is \(outChannels), expected 1 to \(ModelFormat.maxChannels)")
    }
    var window = Window()
    window.kernelHeight = Int(clamping: r.u32(base + 16)); window.kernelWidth = Int(clamping: r.u32(base + 20))
    window.strideHeight = Int(clamping: r.u32(base + 24)); window.strideWidth = Int(clamping: r.u32(base + 28))
    window.padTop = Int(clamping: r.u32(base + 32)); window.padLeft = Int(clamping: r.u32(base + 36))
    window.padBottom = Int(clamping: r.u32(base + 40)); window.padRight = Int(clamping: r.u32(base + 44))
    let outScale = r.f32(base + 48), outZero = r.i32(base + 52)
    let offsets = (0..<5).map { Int(clamping: r.u32(base + 56 + 4 * $0)) }

    var output: TensorShape
    if kind == .globalAveragePool {
        guard isLast else { throw fail("gap must be the last layer") }
        guard window == Window() else { throw fail("gap must have zero kernel, stride and padding") }
        guard Int64(255) * Int64(input.height) * Int64(input.width) < Int64(1) << 31 else {  // (Int64: Int has 32 bits on wasm32)
            throw fail("gap over \(input.height)x\(input.width) positions could overflow its int32 sums")
        }
        output = TensorShape(height: 1, width: 1, channels: inChannels)
    } else {
        guard (1...ModelFormat.maxKernel).contains(window.kernelHeight), (1...ModelFormat.maxKernel).contains(window.kernelWidth) else {
            throw fail("kernel \(window.kernelHeight)x\(window.kernelWidth) is outside 1..64")
        }
        guard (1...ModelFormat.maxStride).contains(window.strideHeight), (1...ModelFormat.maxStride).contains(window.strideWidth) else {
            throw fail("stride \(window.strideHeight)x\(window.strideWidth) is outside 1..64")
        }
        guard window.padTop < window.kernelHeight, window.padBottom < window.kernelHeight,
              window.padLeft < window.kernelWidth, window.padRight < window.kernelWidth else {
            throw fail("padding (\(window.padTop),\(window.padLeft),\(window.padBottom),\(window.padRight)) must be smaller than the kernel")
        }
        guard let oh = Window.outputSize(input: input.height, kernel: window.kernelHeight, stride: window.strideHeight,
                                         padBefore: window.padTop, padAfter: window.padBottom),
              let ow = Window.outputSize(input: input.width, kernel: window.kernelWidth, stride: window.strideWidth,
                                         padBefore: window.padLeft, padAfter: window.padRight) else {
            throw fail("kernel \(window.kernelHeight)x\(window.kernelWidth) does not fit its padded \(input.height)x\(input.width) input")
        }
        output = TensorShape(height: oh, width: ow, channels: outChannels)
    }
    guard outScale.isFinite, outScale > 0 else { throw fail("output_scale \(outScale) is not finite and positive") }
    guard (0...255).contains(outZero) else { throw fail("output_zero_point \(outZero) is outside 0..255") }
    guard !relu || outZero == 0 else { throw fail("output_zero_point must be 0 when ReLU is set") }

    var layer = Layer(kind: kind, relu: relu, input: input, output: output, window: window,
                      inputScale: inputScale, inputZeroPoint: inputZeroPoint,
                      outputScale: outScale, outputZeroPoint: outZero)
    layer.inputMax = inputMax
    guard kind == .convolution else {
        guard weightMaxField == 0 else { throw fail("weight_max must be zero for \(kind.staticName)") }
        guard outputMaxField == 0 || (kind != .globalAveragePool && outputMaxField == UInt32(inputMax)) else {
            throw fail(kind == .globalAveragePool ? "output_max must be zero for gap"
                       : "output_max \(outputMaxField) must be 0 or its input's bound \(inputMax) for \(kind.staticName)")
        }
        layer.outputMax = inputMax
        guard outChannels == inChannels else { throw fail("a pool must keep its \(inChannels) channels, not \(outChannels)") }
        guard outScale == inputScale, outZero == inputZeroPoint else {
            throw fail("a pool must keep its input's scale and zero point")
        }
        guard offsets.allSatisfy({ $0 == 0 }) else { throw fail("array offsets must be zero for \(kind.staticName)") }
        return layer
    }

    guard outputMaxField <= 255 else { throw fail("output_max \(outputMaxField) is outside 0..255") }
    layer.outputMax = outputMaxField == 0 ? 255 : Int32(outputMaxField)
    guard outputMaxField == 0 || layer.outputMax > outZero else {
        throw fail("output_max \(layer.outputMax) must be greater than output_zero_point \(outZero)")
    }
    guard weightMaxField <= 127 else { throw fail("weight_max \(weightMaxField) is outside 0..127") }
    layer.weightMax = weightMaxField == 0 ? 127 : Int32(weightMaxField)
    let k = window.kernelHeight * window.kernelWidth * inChannels
    let names = ["weights", "bias", "multiplier", "shift", "weight_scale"]
    let sizes = [outChannels * k, 4 * outChannels, 4 * outChannels, 4 * outChannels, 4 * outChannels]
    var absolute: [Int] = []
    for i in 0..<5 {
        guard offsets[i] % ModelFormat.alignment == 0 else {
            throw fail("\(names[i])_offset \(offsets[i]) is not a multiple of 64")
        }
        guard offsets[i] <= weights.count, sizes[i] <= weights.count - offsets[i] else {
            throw fail("\(names[i]) (\(sizes[i]) bytes at WGHT+\(offsets[i])) ends past the end of section WGHT (\(weights.count) bytes)")
        }
        absolute.append(weights.lowerBound + offsets[i])
    }
    layer.weightsOffset = absolute[0]; layer.biasOffset = absolute[1]
    layer.multiplierOffset = absolute[2]; layer.shiftOffset = absolute[3]; layer.weightScaleOffset = absolute[4]

    let worstProducts = Int64(inputMax) * Int64(layer.weightMax) * Int64(k)
    for o in 0..<outChannels {
        let bias = Int64(r.i32(layer.biasOffset + 4 * o))
        let m = r.i32(layer.multiplierOffset + 4 * o), n = r.i32(layer.shiftOffset + 4 * o)
        let ws = r.f32(layer.weightScaleOffset + 4 * o)
        guard m >= 1 << 30 else { throw fail("multiplier[\(o)] = \(m) is outside [2^30, 2^31)") }
        guard (1...62).contains(n) else { throw fail("shift[\(o)] = \(n) is outside 1..62") }
        guard ws.isFinite, ws > 0 else { throw fail("weight_scale[\(o)] = \(ws) is not finite and positive") }
        guard abs(bias) + worstProducts <= Int64(Int32.max) else {
            throw fail("channel \(o) could overflow the int32 accumulator (|bias| + \(inputMax)*\(layer.weightMax)*\(k) >= 2^31)")
        }
    }
    // -128 is the one int8 the contract leaves out; memchr scans the 2 MB of a classic model in
    // a fraction of a millisecond (a checked byte loop took 20 M instructions).
    if let start = r.bytes.baseAddress, outChannels * k > 0,
       let found = Platform.firstByte(0x80, in: start + layer.weightsOffset, count: outChannels * k) {
        throw fail("weight \(UnsafeRawPointer(found) - (start + layer.weightsOffset)) is -128; weights must lie in [-127, 127]")
    }
    if layer.weightMax < 127, let start = r.bytes.baseAddress,
       let index = firstWeight(beyond: layer.weightMax, (start + layer.weightsOffset).assumingMemoryBound(to: Int8.self),
                               count: outChannels * k) {
        throw fail("weight \(index) lies outside [-\(layer.weightMax), \(layer.weightMax)] (weight_max)")
    }
    r.doneReading(layer.weightsOffset..<(layer.weightsOffset + outChannels * k))
    if hasQuadWeights {
        let size = quadWeightsBytes(outChannels: outChannels, kernelSize: k)
        guard quadOffset % ModelFormat.alignment == 0 else {
            throw fail("quad_weights_offset \(quadOffset) is not a multiple of 64")
        }
        guard quadOffset <= weights.count, size <= weights.count - quadOffset else {
            throw fail("quad weights (\(size) bytes at WGHT+\(quadOffset)) end past the end of section WGHT (\(weights.count) bytes)")
        }
        layer.quadWeightsOffset = weights.lowerBound + quadOffset
        // (the copy must be the weights: else families would disagree, a silent wrong answer)
        if let start = r.bytes.baseAddress,
           let bad = firstQuadMismatch(ohwi: (start + layer.weightsOffset).assumingMemoryBound(to: Int8.self),
                                       quads: start + weights.lowerBound + quadOffset, outChannels: outChannels, kernelSize: k) {
            throw fail("quad weights byte \(bad.byte) (channel \(bad.channel)) differs from the weights in quad order")
        }
        r.doneReading(layer.weightsOffset..<(layer.weightsOffset + outChannels * k))
        r.doneReading(weights.lowerBound + quadOffset..<(weights.lowerBound + quadOffset + size))
    }
    return layer
}

private func readLabels(_ r: ByteReader, _ range: Range<Int>, count: Int) throws(NiNError) -> [(string: String, offset: Int)] {
    let labels = try readStrings(r, range, what: "LBLS")
    guard labels.count == count else {
        throw .badModel("section LBLS has \(labels.count) labels but the model has \(count) classes")
    }
    for (i, label) in labels.enumerated() where label.string.isEmpty {
        throw .badModel("label \(i) is empty")
    }
    return labels
}

/// Splits a section into NUL-terminated UTF-8 strings; the section must end with a NUL.
private func readStrings(_ r: ByteReader, _ range: Range<Int>, what: StaticString) throws(NiNError) -> [(string: String, offset: Int)] {
    var result: [(string: String, offset: Int)] = []
    var start = range.lowerBound
    for i in range where r.bytes[i] == 0 {
        let slice = UnsafeRawBufferPointer(rebasing: r.bytes[start..<i])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw .badModel("section \(what): string \(result.count) is not valid UTF-8")
        }
        result.append((s, start))
        start = i + 1
    }
    guard start == range.upperBound else {
        throw .badModel("section \(what) does not end with a NUL byte")
    }
    return result
}

/// The index of the first of `count` weights whose magnitude exceeds `bound`, or nil. Finds the
/// largest magnitude of each 256 weights in a loop the compiler vectorizes (a byte max), then
/// looks for the one from the first block beyond `bound` (a SIMD64 compare took 2 ms of a 20 ms
/// cold start on the classic model's 2 MB; `@_optimize(speed)`: the Embedded build compiles this
/// module for size, which leaves loops scalar).
@_optimize(speed)
private func firstWeight(beyond bound: Int32, _ weights: UnsafePointer<Int8>, count: Int) -> Int? {
    var i = 0
    while i + 256 <= count {
        var largest: UInt8 = 0
        for j in i..<(i + 256) {
            let w = weights[j], sign = w >> 7
            largest = max(largest, UInt8(bitPattern: (w ^ sign) &- sign))  // |w| (128 for -128)
        }
        if Int32(largest) > bound { break }
        i += 256
    }
    while i < count {
        if abs(Int32(weights[i])) > bound { return i }
        i += 1
    }
    return nil
}
