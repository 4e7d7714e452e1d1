// What the engine hands a kernel family, built from its own types: a layer's geometry and a
// convolution's parameters as the model stores them (for `pack`).

import NiNKernelCore

extension ConvolutionGeometry {
    /// The geometry of `window` over an `input` tensor giving `output` (one image's shapes).
    init(input: TensorShape, output: TensorShape, window: Window) {
        self.init(inHeight: input.height, inWidth: input.width, inChannels: input.channels,
                  outHeight: output.height, outWidth: output.width, outChannels: output.channels,
                  kernelHeight: window.kernelHeight, kernelWidth: window.kernelWidth,
                  strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                  padTop: window.padTop, padLeft: window.padLeft)
    }
}

extension Layer {
    /// The layer's sizes and window as the kernels see them.
    var geometry: ConvolutionGeometry { ConvolutionGeometry(input: input, output: output, window: window) }

    /// A convolution's parameters in the model image at `base`.
    func convolutionWeights(base: UnsafeRawPointer) -> ConvolutionWeights {
        ConvolutionWeights(
            outChannels: output.channels, kernelSize: geometry.kernelSize,
            weights: (base + weightsOffset).assumingMemoryBound(to: Int8.self),
            bias: (base + biasOffset).assumingMemoryBound(to: Int32.self),
            multiplier: (base + multiplierOffset).assumingMemoryBound(to: Int32.self),
            shift: (base + shiftOffset).assumingMemoryBound(to: Int32.self),
            inputZeroPoint: inputZeroPoint, outputZeroPoint: outputZeroPoint, relu: relu,
            inputMax: inputMax, outputMax: outputMax,
            quadWeights: quadWeightsOffset == 0 ? nil : (base + quadWeightsOffset).assumingMemoryBound(to: Int8.self))
    }
}
