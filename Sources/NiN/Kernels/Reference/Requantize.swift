// Requantization (docs/QUANTIZATION.md): int32 accumulator -> u8 through one float32 scale per
// channel, rounding half to even, the output zero point and the clamp that fuses ReLU.

/// The float32 scale `Float(m) * 2^-n` of a channel: `m` rounded to float32 (half to even), then
/// an exact power of two (m in [2^30, 2^31) and n in [1, 62] keep it a normal float32).
@inline(__always)
func requantizationScale(multiplier: Int32, shift: Int32) -> Float {
    Float(multiplier) * Float(sign: .plus, exponent: -Int(shift), significand: 1)
}

/// `clamp(rint(Float(acc) * scale) + zeroPoint, low, 255)`: two IEEE float32 operations rounded
/// to nearest even, then a round half to even. The clamp is applied in float first (to
/// `[low - zeroPoint, 255 - zeroPoint]`), which gives the same result, as the optimized kernels do.
@inline(__always)
func requantize(_ acc: Int32, scale: Float, zeroPoint: Int32, low: Int32) -> UInt8 {
    let scaled = (Float(acc) * scale).rounded(.toNearestOrEven)
    let clamped = min(max(scaled, Float(low - zeroPoint)), Float(255 - zeroPoint))
    return UInt8(Int32(clamped) + zeroPoint)
}
