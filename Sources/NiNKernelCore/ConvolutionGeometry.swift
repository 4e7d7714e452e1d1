// The shape of one convolution (or pooling) call: input and output sizes and the window. Every
// kernel family reads it; the engine builds it from a layer.

/// The shape of one convolution call: input and output sizes and the window (a pooling call
/// uses it too, with `outChannels == inChannels`).
public struct ConvolutionGeometry {
    public var inHeight: Int, inWidth: Int, inChannels: Int
    public var outHeight: Int, outWidth: Int, outChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padTop: Int, padLeft: Int

    /// A geometry from its twelve sizes.
    public init(inHeight: Int, inWidth: Int, inChannels: Int, outHeight: Int, outWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int) {
        self.inHeight = inHeight; self.inWidth = inWidth; self.inChannels = inChannels
        self.outHeight = outHeight; self.outWidth = outWidth; self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padTop = padTop; self.padLeft = padLeft
    }

    /// A 1x1 convolution with stride 1 (an NiN block's "pointwise" layers): its im2col is its
    /// input, so every family reads the input rows in place instead.
    public var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 }
    /// K, the length of one output pixel's dot product: kernelHeight x kernelWidth x inChannels.
    @inlinable
    public var kernelSize: Int { kernelHeight * kernelWidth * inChannels }
}
