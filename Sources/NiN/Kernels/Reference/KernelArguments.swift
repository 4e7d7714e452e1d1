// The raw-pointer arguments of the reference kernels, as TFLite Micro's op parameters: every
// layer's tensors and window (`KernelArguments`), and a convolution's stored parameters
// (`ConvolutionParameters`: weights and per-channel requantization arrays). Built by the
// context for each layer of a run.

/// Pointers and shapes of one layer's call. `input`/`output` hold `batch` images, NHWC.
struct KernelArguments {
    var input: UnsafePointer<UInt8>
    var output: UnsafeMutableRawPointer
    var inShape: TensorShape
    var outShape: TensorShape
    var batch: Int
    var window: Window
    var inputZeroPoint: Int32
    var outputZeroPoint: Int32
    /// Lowest output value: the zero point with ReLU, else 0.
    var low: Int32
    /// Highest output value of a convolution: its `output_max` (255 unless narrowed).
    var high: Int32

    /// Rows of work (batch x output height): the unit a layer is split into across threads.
    var rowCount: Int { batch * outShape.height }
}

/// A convolution's parameters in the model image: OHWI int8 weights, and per output channel the
/// int32 bias and the requantization multiplier and shift (docs/QUANTIZATION.md).
struct ConvolutionParameters {
    var weights: UnsafePointer<Int8>
    var bias: UnsafePointer<Int32>
    var multiplier: UnsafePointer<Int32>
    var shift: UnsafePointer<Int32>
}
