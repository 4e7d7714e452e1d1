// A minimal .nin writer for tests and nin-kernel-check, which need many small random models
// (the real writer is tools/nin_tools/model_format.py). It follows docs/FORMAT.md: header, section table,
// GRPH, WGHT, LBLS, and (1.2) the quad-blocked copy of the weights. No Foundation:
// nin-kernel-check is a static executable.

/// A convolution layer of a test model: its shape, requantization and parameters.
public struct TestConv {
    public var inChannels: Int, outChannels: Int
    /// (height, width) of the kernel and of the stride; pads (top, left, bottom, right).
    public var kernel: (Int, Int), stride: (Int, Int), pads: (Int, Int, Int, Int)
    public var relu: Bool
    public var outputZeroPoint: Int32
    /// OHWI.
    public var weights: [Int8]
    public var bias: [Int32], multiplier: [Int32], shift: [Int32]
    /// FORMAT.md 1.1 bounds (0: 255 and 127, as in a 1.0 file).
    public var outputMax: Int32 = 0, weightMax: Int32 = 0

    /// A layer from all of its fields.
    public init(inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int), pads: (Int, Int, Int, Int),
                relu: Bool, outputZeroPoint: Int32, weights: [Int8], bias: [Int32], multiplier: [Int32], shift: [Int32],
                outputMax: Int32 = 0, weightMax: Int32 = 0) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel; self.stride = stride
        self.pads = pads; self.relu = relu; self.outputZeroPoint = outputZeroPoint; self.weights = weights
        self.bias = bias; self.multiplier = multiplier; self.shift = shift
        self.outputMax = outputMax; self.weightMax = weightMax
    }
}

/// A max pool: kernel (height, width), stride, pads (top, left, bottom, right).
public struct TestPool {
    public var kernel: (Int, Int), stride: (Int, Int), pads: (Int, Int, Int, Int)

    /// A pool from its window.
    public init(kernel: (Int, Int), stride: (Int, Int), pads: (Int, Int, Int, Int)) {
        self.kernel = kernel; self.stride = stride; self.pads = pads
    }
}

/// One layer of a test model before its GAP head.
public enum TestLayer {
    case conv(TestConv)
    case maxPool(TestPool)
}

/// A model of a chain of convolutions followed by GAP; input `convs[0].inChannels x h x w`
/// (1 or 3 channels) with zero point `inputZeroPoint`.
/// `quadWeights`: also store each convolution's weights quad-blocked (format 1.2).
public func writeConvModel(_ convs: [TestConv], height: Int, width: Int, inputZeroPoint: Int32,
                           quadWeights: Bool = false) -> [UInt8] {
    writeModel(convs.map { .conv($0) }, inputChannels: convs[0].inChannels, height: height, width: width,
               inputZeroPoint: inputZeroPoint, quadWeights: quadWeights)
}

/// OHWI weights (`outChannels` rows of K) in format 1.2's quad-blocked layout, written from its
/// definition one byte at a time: channel o's K value k at `[o / 16][k / 4][o % 16][k % 4]`,
/// zeros past K and past the last channel (independent of the engine's word-wise packing).
public func quadBlockedWeights(_ weights: [Int8], outChannels: Int) -> [Int8] {
    let k = weights.count / max(outChannels, 1)
    let kQuads = (k + 3) / 4, blocks = (outChannels + 15) / 16
    var quads = [Int8](repeating: 0, count: blocks * kQuads * 64)
    for o in 0..<outChannels {
        for kk in 0..<k { quads[((o / 16 * kQuads + kk / 4) * 16 + o % 16) * 4 + kk % 4] = weights[o * k + kk] }
    }
    return quads
}

/// A model of a chain of layers followed by GAP; input `inputChannels x h x w` (1 or 3 channels)
/// with zero point `inputZeroPoint`. `labels` and `metadata` are the raw LBLS and META contents
/// (default: labels "c0", "c1", ... and no META). `quadWeights`: also store each convolution's
/// weights quad-blocked (format 1.2).
public func writeModel(_ layers: [TestLayer], inputChannels: Int, height: Int, width: Int, inputZeroPoint: Int32,
                labels labelBytes: [UInt8]? = nil, metadata: [UInt8]? = nil, quadWeights: Bool = false) -> [UInt8] {
    var out = [UInt8]()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    func f32(_ v: Float) { u32(v.bitPattern) }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    func align() { while out.count % 64 != 0 { out.append(0) } }

    // WGHT content
    var weights = [UInt8]()
    func put(_ bytes: [UInt8]) -> UInt32 {
        let at = UInt32(weights.count)
        weights += bytes
        while weights.count % 64 != 0 { weights.append(0) }
        return at
    }
    func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    var channels = inputChannels, scale: Float = 0.02, zeroPoint = inputZeroPoint
    var minor: UInt8 = 0
    var graph = [UInt8]()
    swap(&out, &graph)
    u32(UInt32(inputChannels)); u32(UInt32(height)); u32(UInt32(width)); u32(UInt32(layers.count + 1))
    f32(scale); i32(inputZeroPoint)
    let classCountAt = out.count
    u32(0); u32(0)
    for layer in layers {
        switch layer {
        case .conv(let conv):
            let wOff = put(conv.weights.map { UInt8(bitPattern: $0) })
            let bOff = put(bytes(conv.bias)), mOff = put(bytes(conv.multiplier)), sOff = put(bytes(conv.shift))
            let scaleOff = put(bytes([Float](repeating: 0.01, count: conv.outChannels)))
            let quadOff = quadWeights ? put(quadBlockedWeights(conv.weights, outChannels: conv.outChannels).map { UInt8(bitPattern: $0) }) : 0
            u32(1); u32((conv.relu ? 1 : 0) | (quadWeights ? 2 : 0)); u32(UInt32(conv.inChannels)); u32(UInt32(conv.outChannels))
            u32(UInt32(conv.kernel.0)); u32(UInt32(conv.kernel.1)); u32(UInt32(conv.stride.0)); u32(UInt32(conv.stride.1))
            u32(UInt32(conv.pads.0)); u32(UInt32(conv.pads.1)); u32(UInt32(conv.pads.2)); u32(UInt32(conv.pads.3))
            f32(0.05); i32(conv.outputZeroPoint)
            u32(wOff); u32(bOff); u32(mOff); u32(sOff); u32(scaleOff)
            i32(conv.outputMax); i32(conv.weightMax)
            if conv.outputMax != 0 || conv.weightMax != 0 { minor = max(minor, 1) }
            if quadWeights { minor = 2 }
            u32(quadOff)
            out += [UInt8](repeating: 0, count: 8)
            channels = conv.outChannels; scale = 0.05; zeroPoint = conv.outputZeroPoint
        case .maxPool(let pool):
            u32(2); u32(0); u32(UInt32(channels)); u32(UInt32(channels))
            u32(UInt32(pool.kernel.0)); u32(UInt32(pool.kernel.1)); u32(UInt32(pool.stride.0)); u32(UInt32(pool.stride.1))
            u32(UInt32(pool.pads.0)); u32(UInt32(pool.pads.1)); u32(UInt32(pool.pads.2)); u32(UInt32(pool.pads.3))
            f32(scale); i32(zeroPoint)
            out += [UInt8](repeating: 0, count: 40)
        }
    }
    // gap record
    u32(4); u32(0); u32(UInt32(channels)); u32(UInt32(channels))
    out += [UInt8](repeating: 0, count: 32)
    f32(scale); i32(zeroPoint)
    out += [UInt8](repeating: 0, count: 40)
    for i in 0..<4 { out[classCountAt + i] = UInt8(truncatingIfNeeded: UInt32(channels) >> (8 * UInt32(i))) }
    swap(&out, &graph)

    var labels = [UInt8]()
    for c in 0..<channels { labels += Array("c\(c)".utf8) + [0] }

    var sections: [(UInt32, [UInt8])] = [(0x4850_5247, graph), (0x5448_4757, weights), (0x534C_424C, labelBytes ?? labels)]
    if let metadata { sections.append((0x4154_454D, metadata)) }
    out = Array("NINM".utf8)
    out += [1, 0, minor, 0]  // version 1.0, 1.1 when a layer narrows its bounds, 1.2 with quad weights
    u32(64); u32(UInt32(sections.count)); u64(0); u32(0); u32(0)
    align()
    var offset = 64 + 24 * sections.count
    offset = (offset + 63) / 64 * 64
    var placed: [Int] = []
    for (_, data) in sections {
        placed.append(offset)
        offset = (offset + data.count + 63) / 64 * 64
    }
    for (i, (kind, data)) in sections.enumerated() {
        u32(kind); u32(0); u64(UInt64(placed[i])); u64(UInt64(data.count))
    }
    for (i, (_, data)) in sections.enumerated() {
        while out.count < placed[i] { out.append(0) }
        out += data
    }
    // The file ends where the last section ends.
    let total = out.count
    for i in 0..<8 { out[16 + i] = UInt8(truncatingIfNeeded: UInt64(total) >> (8 * UInt64(i))) }
    let crc = testCRC32(out[64...])
    for i in 0..<4 { out[24 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    return out
}

/// Bitwise CRC-32 (no table), independent of the engine's.
public func testCRC32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}
