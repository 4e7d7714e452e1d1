// The raw-pointer arguments of a layer's call, as TFLite Micro's op parameters: its tensors and
// window (`KernelArguments`). Built by the context for each layer of a run; the pools of the
// reference read it as it is, a family's kernels the values made from it (KernelInputs.swift).

/// Pointers and shapes of one layer's call. `input`/`output` hold `batch` images, NHWC.
struct KernelArguments {
    var input: UnsafePointer<UInt8>
    var output: UnsafeMutableRawPointer
    var inShape: TensorShape
    var outShape: TensorShape
    var batch: Int
    var window: Window
    /// The input's zero point (a convolution subtracts it; an average pool pads with it).
    var inputZeroPoint: Int32

    /// Rows of work (batch x output height): the unit a layer is split into across threads.
    var rowCount: Int { batch * outShape.height }
}
