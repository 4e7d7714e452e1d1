// Requantization (docs/QUANTIZATION.md): int32 accumulator -> u8 with a fixed-point multiplier,
// a rounding right shift (round half up), the output zero point and the clamp that fuses ReLU.

/// `clamp(((acc * m + 2^(n-1)) >> n) + zeroPoint, low, 255)` with a 64-bit product.
@inline(__always)
func requantize(_ acc: Int32, multiplier: Int32, shift: Int32, zeroPoint: Int32, low: Int32) -> UInt8 {
    let product = Int64(acc) * Int64(multiplier) + (Int64(1) << Int64(shift - 1))
    let value = (product >> Int64(shift)) + Int64(zeroPoint)
    return UInt8(truncatingIfNeeded: min(max(value, Int64(low)), 255))
}
