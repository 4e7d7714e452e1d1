// The one argument every family's convolution receives: the call's geometry, its tensors, the
// layer's weights as its family packed them, and the calling thread's scratch. Built by the
// engine once per layer and part; a family reinterprets the packed pointers in its own layout.

/// Geometry and pointers of one convolution call; everything is prepared by the caller.
public struct ConvolutionCall {
    public var geometry: ConvolutionGeometry
    /// Output rows of the call (batch x outHeight); a kernel computes part of them.
    public var rowCount: Int
    /// `batch` input images, u8 NHWC.
    public var input: UnsafePointer<UInt8>
    /// `batch` output images, u8 NHWC.
    public var output: UnsafeMutablePointer<UInt8>
    public var inputZeroPoint: Int32
    /// Packed weights, in the layout of the family that packed them (`PackedConvolution`).
    public var weights: UnsafeRawPointer
    /// int32 bias per output channel, padded to a multiple of 16 (as the family packed it).
    public var bias: UnsafePointer<Int32>
    /// Per block of 16 channels, `RequantBlock.bytes` of requantization constants.
    public var requant: UnsafeRawPointer
    /// K rounded up to the family's group (2 for AVX2, 4 for VNNI), in groups.
    public var kGroups: Int
    /// The calling thread's scratch: at least the family's `scratchBytes` for this layer.
    public var scratch: UnsafeMutableRawPointer
    /// The kernel the family's `pack` chose for this layer (`PackedConvolution.variant`).
    public var variant: Int

    /// A call over `rowCount` output rows of `geometry` with the weights of `packed`.
    @inlinable
    public init(geometry: ConvolutionGeometry, rowCount: Int, input: UnsafePointer<UInt8>,
                output: UnsafeMutablePointer<UInt8>, inputZeroPoint: Int32, packed: PackedConvolution,
                scratch: UnsafeMutableRawPointer) {
        self.geometry = geometry; self.rowCount = rowCount; self.input = input; self.output = output
        self.inputZeroPoint = inputZeroPoint
        self.weights = UnsafeRawPointer(packed.weights); self.bias = UnsafePointer(packed.bias)
        self.requant = UnsafeRawPointer(packed.requant); self.kGroups = packed.kGroups; self.scratch = scratch
        self.variant = packed.variant
    }
}
