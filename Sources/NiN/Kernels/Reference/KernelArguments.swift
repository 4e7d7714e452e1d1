// The raw-pointer arguments every kernel receives: one tensor in, one tensor out, and for a
// convolution its weights and per-channel requantization arrays. Built by the context per run.

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
    var weights: UnsafePointer<Int8>? = nil
    var bias: UnsafePointer<Int32>? = nil
    var multiplier: UnsafePointer<Int32>? = nil
    var shift: UnsafePointer<Int32>? = nil

    /// Rows of work (batch x output height): the unit a layer is split into across threads.
    var rowCount: Int { batch * outShape.height }
}
