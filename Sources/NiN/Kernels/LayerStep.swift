// One layer as a run calls its kernel: everything about the call that does not change from run
// to run (the geometry, what it computes, the input zero point, the convolution's parameters as
// its family packed them, the work per image), made once when the model is loaded. A run adds
// only the tensors and the number of images (`LayerCall`).

import NiNKernelCore

/// A layer's fixed kernel arguments (the model's `steps`, one per layer).
struct LayerStep {
    /// The layer's index in the graph.
    let index: Int
    /// What the layer computes.
    let kind: LayerKind
    /// Its sizes and window, per image.
    let geometry: ConvolutionGeometry
    /// The input's zero point (a convolution subtracts it; an average pool pads with it).
    let inputZeroPoint: Int32
    /// A convolution's parameters as its family's `pack` made them (nil for pools).
    let packed: PackedConvolution?
    /// Work per image: multiply-accumulates for a convolution, window reads for a pool (how
    /// finely a layer is worth splitting across threads).
    let workPerImage: Int

    /// The step of `layer` (at `index`), with `packed` for a convolution.
    init(_ layer: Layer, index: Int, packed: PackedConvolution?) {
        self.index = index
        kind = layer.kind
        geometry = layer.geometry
        inputZeroPoint = layer.inputZeroPoint
        self.packed = packed
        workPerImage = layer.kind == .convolution
            ? layer.macs : layer.output.elementCount * layer.window.kernelHeight * layer.window.kernelWidth
    }
}

/// One layer of one run, as the calling thread hands it to the workers: the layer's step and
/// the tensors of this run (`batch` images, u8 NHWC; the head writes int32 sums).
struct LayerCall {
    let step: LayerStep
    let input: UnsafePointer<UInt8>
    let output: UnsafeMutableRawPointer
    let batch: Int

    /// Rows of work (batch x output height): the unit a layer is split into across threads.
    var rowCount: Int { batch * step.geometry.outHeight }

    /// The convolution call of this layer on its packed parameters, with `scratch`.
    func convolution(scratch: UnsafeMutableRawPointer) -> ConvolutionCall {
        ConvolutionCall(geometry: step.geometry, rowCount: rowCount, input: input,
                        output: output.assumingMemoryBound(to: UInt8.self), inputZeroPoint: step.inputZeroPoint,
                        packed: step.packed!, scratch: scratch)  // (a convolution's step always has it: Model.swift)
    }
}
