// Requantization (docs/QUANTIZATION.md): int32 accumulator -> u8 through one float32 scale per
// channel, rounding half to even, the output zero point and the clamp that fuses ReLU.

// (The scale of a channel, `requantizationScale`, is shared with the optimized kernels' tables:
// Sources/NiNKernelCore/RequantBlock.swift.)

/// `clamp(rint(Float(acc) * scale) + zeroPoint, low, high)`: two IEEE float32 operations rounded
/// to nearest even, then a round half to even. The clamp is applied in float first (to
/// `[low - zeroPoint, high - zeroPoint]`), which gives the same result, as the optimized kernels
/// do. `high` is the layer's `output_max` (255 unless the model narrows it, FORMAT.md).
@inline(__always)
func requantize(_ acc: Int32, scale: Float, zeroPoint: Int32, low: Int32, high: Int32) -> UInt8 {
    let scaled = (Float(acc) * scale).rounded(.toNearestOrEven)
    let clamped = min(max(scaled, Float(low - zeroPoint)), Float(high - zeroPoint))
    return UInt8(Int32(clamped) + zeroPoint)
}
