// The typed, validated description of a network: tensor shapes, windows and layers.

/// The shape of one image's tensor: height x width x channels, channels innermost.
public struct TensorShape: Equatable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    /// Makes a shape.
    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Number of elements of one image.
    public var elementCount: Int { height * width * channels }

    /// "HxWxC", in the order of the layout.
    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// A sliding window: kernel, stride and padding on each side.
public struct Window: Equatable, Sendable {
    public var kernelHeight = 0, kernelWidth = 0
    public var strideHeight = 0, strideWidth = 0
    public var padTop = 0, padLeft = 0, padBottom = 0, padRight = 0

    /// Output size along one axis, or nil when the window does not fit even once.
    public static func outputSize(input: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int) -> Int? {
        let span = input + padBefore + padAfter - kernel
        return span < 0 ? nil : span / stride + 1
    }
}

/// What a layer computes.
public enum LayerKind: Sendable, Equatable {
    case convolution
    case maxPool
    case averagePool
    case globalAveragePool

    /// A short name for messages and plans.
    public var name: String { String(decoding: UnsafeBufferPointer(start: staticName.utf8Start, count: staticName.utf8CodeUnitCount), as: UTF8.self) }

    /// `name` as a static string (for error messages: no String is made).
    var staticName: StaticString {
        switch self {
        case .convolution: "conv"
        case .maxPool: "maxpool"
        case .averagePool: "avgpool"
        case .globalAveragePool: "gap"
        }
    }
}

/// One validated layer. Array offsets are byte offsets from the start of the model image.
public struct Layer: Sendable {
    public var kind: LayerKind
    /// ReLU fused into the requantization clamp (convolutions only).
    public var relu: Bool
    public var input: TensorShape
    public var output: TensorShape
    public var window: Window
    public var inputScale: Float
    public var inputZeroPoint: Int32
    public var outputScale: Float
    public var outputZeroPoint: Int32
    /// The largest value the layer's input can hold: 255 for the network's input, else the
    /// bound of the layer that produced it (FORMAT.md 1.1 `output_max`; 255 in 1.0 files).
    public var inputMax: Int32 = 255
    /// The largest value the layer writes (`output_max`, QUANTIZATION.md's qmax): the clamp's
    /// upper end for a convolution, `inputMax` for a pool.
    public var outputMax: Int32 = 255
    /// The bound on the magnitude of every weight (`weight_max`; 127 in 1.0 files).
    public var weightMax: Int32 = 127
    /// int8 OHWI weights (convolution only; 0 otherwise).
    var weightsOffset = 0
    /// The same weights quad-blocked (`[ceil(out/16)][ceil(K/4)][16][4]`, format 1.2), when the
    /// file carries them: what the quad families read in place instead of packing a copy. 0 when
    /// it does not (no array starts at byte 0 of an image: the header does).
    var quadWeightsOffset = 0
    /// int32 bias, int32 multiplier, int32 shift, float32 weight scale, one per output channel.
    var biasOffset = 0, multiplierOffset = 0, shiftOffset = 0, weightScaleOffset = 0

    /// Multiply-accumulates per image (0 for pools).
    public var macs: Int {
        kind == .convolution ? output.elementCount * window.kernelHeight * window.kernelWidth * input.channels : 0
    }
}

/// A validated network: the input, the layers and the strings of the model file.
public struct ModelGraph: Sendable {
    public var input: TensorShape
    public var inputScale: Float
    public var inputZeroPoint: Int32
    public var layers: [Layer]
    public var labels: [String]
    /// Byte offset of each label's first byte (NUL-terminated in the image).
    var labelOffsets: [Int]
    /// Metadata pairs in file order; `metadataValueOffsets[i]` is where pair i's NUL-terminated
    /// value starts in the image.
    public var metadata: [(key: String, value: String)]
    var metadataValueOffsets: [Int]
    /// Byte range of the WGHT section in the model image.
    var weightsSection: Range<Int> = 0..<0

    /// Number of classes (the logits' length).
    public var classCount: Int { layers[layers.count - 1].output.channels }
    /// Multiply-accumulates per image, over every convolution.
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    /// Shape of the confidence maps: the input of the final global average pool.
    public var mapShape: TensorShape { layers[layers.count - 1].input }
}
