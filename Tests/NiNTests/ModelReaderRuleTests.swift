// One test per rule of docs/FORMAT.md's "what a reader must check" that ModelReaderTests does
// not already pin: each builds the smallest file that breaks that rule and no other (a tiny
// conv + max pool + GAP model from ModelWriter, patched, checksum re-sealed) and expects
// .badModel with that rule's own message, in full. The rules that allow things (any minor
// version, empty META values, unknown META keys, a GAP just under the int32 bound) load.

import NiN
import NiNKernelCheck
import Testing

/// A model file being patched: little-endian fields, sections found through the table (also
/// used by ModelReaderEdgeTests).
struct Patch {
    var bytes: [UInt8]

    func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
    mutating func put32(_ at: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
    mutating func putFloat(_ at: Int, _ value: Float) { put32(at, value.bitPattern) }
    /// The table entry, offset and size of section `name`.
    func section(_ name: String) -> (entry: Int, offset: Int, size: Int) {
        let code = name.utf8.reversed().reduce(0) { $0 << 8 | Int($1) }
        for i in 0..<u32(12) where u32(64 + 24 * i) == code {
            return (64 + 24 * i, u32(64 + 24 * i + 8), u32(64 + 24 * i + 16))
        }
        fatalError("no section \(name)")
    }
    /// Start of layer record `i` in GRPH.
    func layer(_ i: Int) -> Int { section("GRPH").offset + 32 + 96 * i }
    /// The file with its file size and checksum made right again.
    var sealed: [UInt8] {
        var copy = self
        for i in 0..<8 { copy.bytes[16 + i] = UInt8(truncatingIfNeeded: UInt64(bytes.count) >> (8 * UInt64(i))) }
        copy.put32(24, testCRC32(copy.bytes[64...]))
        return copy.bytes
    }
}

/// Input 1x6x6 (zero point 0); conv 3x3 1 -> 4 with ReLU; max pool 2x2 stride 2; GAP over 4 classes.
func tinyModel(labels: [UInt8]? = nil, metadata: [UInt8]? = Array("name\0tiny\0".utf8)) -> Patch {
    let conv = TestConv(inChannels: 1, outChannels: 4, kernel: (3, 3), stride: (1, 1), pads: (0, 0, 0, 0), relu: true,
                        outputZeroPoint: 0, weights: (0..<36).map { Int8($0 % 7 - 3) }, bias: [10, -20, 30, -40],
                        multiplier: [Int32](repeating: 1 << 30, count: 4), shift: [Int32](repeating: 36, count: 4))
    let pool = TestPool(kernel: (2, 2), stride: (2, 2), pads: (0, 0, 0, 0))
    return Patch(bytes: writeModel([.conv(conv), .maxPool(pool)], inputChannels: 1, height: 6, width: 6, inputZeroPoint: 0,
                                   labels: labels, metadata: metadata))
}

/// Expects `bytes` to be refused as a bad model with exactly `message` (after "model file: ").
func expectRule(_ bytes: [UInt8], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try NiNModel(bytes: bytes)
        Issue.record("accepted a model that breaks: \(message)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == .badModel, sourceLocation: sourceLocation)
        #expect(error.message == "model file: " + message, sourceLocation: sourceLocation)
    }
}

@Test("the tiny model loads, with its labels and metadata")
func tinyModelLoads() throws {
    let model = try NiNModel(bytes: tinyModel().sealed)
    #expect(model.graph.labels == ["c0", "c1", "c2", "c3"])
    #expect(model.graph.metadata.map { "\($0.key)=\($0.value)" } == ["name=tiny"])
}

@Test("allowed: any minor version, empty META values, unknown META keys, GAP just under the bound")
func allowedVariations() throws {
    var file = tinyModel()
    file.bytes[6] = 7  // version 1.7
    _ = try NiNModel(bytes: file.sealed)
    let model = try NiNModel(bytes: tinyModel(metadata: Array("name\0\0x-unknown\0v\0".utf8)).sealed)
    #expect(model.graph.metadata.map { "\($0.key)=\($0.value)" } == ["name=", "x-unknown=v"])
    // A lone GAP over 2896 x 2896 positions: 255 * 8,386,816 < 2^31.
    _ = try NiNModel(bytes: writeModel([], inputChannels: 1, height: 2896, width: 2896, inputZeroPoint: 0))
}

@Test("header and section table rules")
func headerAndTableRules() throws {
    var file = tinyModel()
    file.put32(file.section("WGHT").entry + 4, 1)
    expectRule(file.sealed, "section WGHT: reserved field is not zero")

    let noMeta = tinyModel(metadata: nil)
    file = noMeta
    file.put32(file.section("GRPH").entry, 0x4154_454D)  // GRPH renamed META
    expectRule(file.sealed, "required section GRPH is missing")
    file = noMeta
    file.put32(file.section("WGHT").entry, 0x4154_454D)
    expectRule(file.sealed, "required section WGHT is missing")

    file = tinyModel()
    let end = file.bytes.count
    file.bytes += [UInt8](repeating: 0, count: 63) + [1]
    expectRule(file.sealed, "bytes \(end)..<\(end + 64) after the last section are not zero")
}

@Test("GRPH input record rules")
func inputRecordRules() throws {
    var file = tinyModel()
    let graph = file.section("GRPH")
    file.put32(graph.entry + 16, 16)  // GRPH is 16 bytes (the rest zeroed: padding stays zero)
    for i in (graph.offset + 16)..<(graph.offset + graph.size) { file.bytes[i] = 0 }
    expectRule(file.sealed, "section GRPH has 16 bytes, fewer than the 32-byte input record")

    file = tinyModel()
    file.put32(graph.offset + 12, 0)
    expectRule(file.sealed, "layer_count is 0, expected 1 to 256")

    file = tinyModel()
    file.putFloat(graph.offset + 16, 0)
    expectRule(file.sealed, "input_scale 0.0 is not finite and positive")
    file.putFloat(graph.offset + 16, .infinity)
    expectRule(file.sealed, "input_scale inf is not finite and positive")

    file = tinyModel()
    file.put32(graph.offset + 20, 256)
    expectRule(file.sealed, "input_zero_point 256 is outside 0..255")

    file = tinyModel()
    file.put32(graph.offset + 28, 1)
    expectRule(file.sealed, "GRPH input record: reserved field is not zero")
}

@Test("layer record rules")
func layerRecordRules() throws {
    var file = tinyModel()
    file.put32(file.layer(1) + 4, 1)  // ReLU on the max pool
    expectRule(file.sealed, "layer 1: ReLU flag is only allowed on conv")

    file = tinyModel()
    file.put32(file.layer(0) + 52, 3)  // conv with ReLU, output zero point 3
    expectRule(file.sealed, "layer 0: output_zero_point must be 0 when ReLU is set")

    file = tinyModel()
    file.put32(file.layer(1) + 12, 5)
    expectRule(file.sealed, "layer 1: a pool must keep its 4 channels, not 5")

    file = tinyModel()
    file.putFloat(file.layer(1) + 48, 0.5)
    expectRule(file.sealed, "layer 1: a pool must keep its input's scale and zero point")
    file = tinyModel()
    file.put32(file.layer(1) + 52, 9)
    expectRule(file.sealed, "layer 1: a pool must keep its input's scale and zero point")

    file = tinyModel()
    file.put32(file.layer(1) + 60, 64)
    expectRule(file.sealed, "layer 1: array offsets must be zero for maxpool")

    file = tinyModel()
    file.put32(file.layer(2) + 16, 1)  // GAP with a kernel
    expectRule(file.sealed, "layer 2: gap must have zero kernel, stride and padding")

    file = tinyModel()  // the GAP record becomes a 1x1 max pool: no GAP at the end
    for (field, value) in [(0, 2), (16, 1), (20, 1), (24, 1), (28, 1)] { file.put32(file.layer(2) + field, UInt32(value)) }
    expectRule(file.sealed, "layer 2 is maxpool: the last layer must be gap")

    file = tinyModel()
    let weightScales = file.section("WGHT").offset + file.u32(file.layer(0) + 72)
    file.putFloat(weightScales + 4, -1)
    expectRule(file.sealed, "layer 0: weight_scale[1] = -1.0 is not finite and positive")

    // A lone GAP over 4096 x 4096 positions could overflow its int32 sums.
    expectRule(writeModel([], inputChannels: 1, height: 4096, width: 4096, inputZeroPoint: 0),
               "layer 0: gap over 4096x4096 positions could overflow its int32 sums")
}

@Test("LBLS and META rules")
func stringSectionRules() throws {
    expectRule(tinyModel(labels: Array("c0\0\0c2\0c3\0".utf8)).sealed, "label 1 is empty")
    expectRule(tinyModel(labels: Array("c0\0".utf8) + [0xC3, 0x28, 0] + Array("c2\0c3\0".utf8)).sealed,
               "section LBLS: string 1 is not valid UTF-8")
    expectRule(tinyModel(metadata: Array("name\0tiny\0name\0again\0".utf8)).sealed,
               "section META has the key \"name\" twice")
    expectRule(tinyModel(metadata: Array("name\0tiny\0\0value\0".utf8)).sealed, "section META has an empty key")
    expectRule(tinyModel(metadata: Array("name\0tiny\0dataset\0".utf8)).sealed, "section META has a key without a value")
    expectRule(tinyModel(metadata: Array("name\0tiny".utf8)).sealed, "section META does not end with a NUL byte")
    expectRule(tinyModel(metadata: Array("name\0".utf8) + [0xFF, 0]).sealed, "section META: string 1 is not valid UTF-8")
}

@Test("version 1.1 bounds: output_max and weight_max rules, and what they allow")
func boundRules() throws {
    // Allowed: a narrowed conv, the pool repeating its bound, weights within weight_max.
    var file = tinyModel()  // the conv's weights lie in [-3, 3]
    file.put32(file.layer(0) + 76, 127); file.put32(file.layer(0) + 80, 3); file.put32(file.layer(1) + 76, 127)
    let narrowed = try NiNModel(bytes: file.sealed)
    #expect(narrowed.graph.layers.map(\.outputMax) == [127, 127, 127])  // (a pool and GAP: their input's)
    #expect(narrowed.graph.layers.map(\.inputMax) == [255, 127, 127])
    #expect(narrowed.graph.layers[0].weightMax == 3)

    file = tinyModel()
    file.put32(file.layer(0) + 76, 256)
    expectRule(file.sealed, "layer 0: output_max 256 is outside 0..255")

    file = tinyModel()  // a conv without ReLU and zero point 200 cannot stop at 200
    file.put32(file.layer(0) + 4, 0); file.put32(file.layer(0) + 52, 200); file.put32(file.layer(1) + 52, 200)
    file.put32(file.layer(0) + 76, 200)
    expectRule(file.sealed, "layer 0: output_max 200 must be greater than output_zero_point 200")

    file = tinyModel()
    file.put32(file.layer(0) + 80, 128)
    expectRule(file.sealed, "layer 0: weight_max 128 is outside 0..127")

    file = tinyModel()  // weight 2 of the conv is -1, weight 0 is -3
    file.put32(file.layer(0) + 80, 2)
    expectRule(file.sealed, "layer 0: weight 0 lies outside [-2, 2] (weight_max)")

    file = tinyModel()
    file.put32(file.layer(0) + 76, 127); file.put32(file.layer(1) + 76, 100)
    expectRule(file.sealed, "layer 1: output_max 100 must be 0 or its input's bound 127 for maxpool")

    file = tinyModel()
    file.put32(file.layer(1) + 80, 5)
    expectRule(file.sealed, "layer 1: weight_max must be zero for maxpool")

    file = tinyModel()
    file.put32(file.layer(2) + 76, 255)
    expectRule(file.sealed, "layer 2: output_max must be zero for gap")

    file = tinyModel()
    file.put32(file.layer(0) + 84, 64)
    expectRule(file.sealed, "layer 0: quad_weights_offset is 64 without the quad weights flag")
    file = tinyModel()
    file.put32(file.layer(0) + 88, 1)
    expectRule(file.sealed, "layer 0: reserved bytes 88..95 are not zero")
    file = tinyModel()
    file.put32(file.layer(0) + 4, 1 | 4)
    expectRule(file.sealed, "layer 0: unknown flag bits 0x00000005")
}

@Test("the accumulator bound uses the input's bound and weight_max")
func boundedAccumulatorRule() throws {
    // 1x1 conv over 1 channel: k = 1, so |bias| + in_max * w_max must stay below 2^31.
    let conv = TestConv(inChannels: 1, outChannels: 1, kernel: (1, 1), stride: (1, 1), pads: (0, 0, 0, 0), relu: true,
                        outputZeroPoint: 0, weights: [1], bias: [Int32.max - 255 * 127 + 1],
                        multiplier: [1 << 30], shift: [36])
    expectRule(writeConvModel([conv], height: 2, width: 2, inputZeroPoint: 0),
               "layer 0: channel 0 could overflow the int32 accumulator (|bias| + 255*127*1 >= 2^31)")
    var narrowed = conv
    narrowed.weightMax = 1  // the same bias fits once the weights are bounded by 1
    #expect(throws: Never.self) { try NiNModel(bytes: writeConvModel([narrowed], height: 2, width: 2, inputZeroPoint: 0)) }
}
