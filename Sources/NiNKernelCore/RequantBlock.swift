// The requantization constants of the optimized kernels (docs/QUANTIZATION.md): per block of 16
// output channels, 16-lane tables of float32 scales, clamp bounds and the zero point, laid out
// the same for every family (AVX2 reads each table as two ymm, AVX-512 as one zmm).

/// Layout of the requantization constants of one block of 16 channels, in bytes from its start.
public enum RequantBlock {
    /// float32 x 16: the channel's scale, `Float(m) * 2^-n` (QUANTIZATION.md).
    public static let scale = 0
    /// float32 x 16: `floor - z`, the lowest scaled value kept (floor: z with ReLU, else 0).
    public static let low = 64
    /// float32 x 16: `qmax - z`, the highest (qmax: the layer's `output_max`, 255 unless narrowed).
    public static let high = 128
    /// int32 x 16: the output zero point z.
    public static let zeroPoint = 192
    public static let bytes = 256

    /// Fills the tables of every block of `packed` from `layer`'s multipliers, shifts, zero
    /// point and ReLU flag. Padding channels repeat the last real one; their outputs are never
    /// stored.
    public static func fill(_ packed: PackedConvolution, from layer: ConvolutionWeights) {
        let outC = layer.outChannels
        let floor = layer.relu ? layer.outputZeroPoint : 0
        for block in 0..<(outC + 15) / 16 {
            let table = packed.requant + block * RequantBlock.bytes
            for j in 0..<16 {
                let o = min(block * 16 + j, outC - 1)
                let scale = requantizationScale(multiplier: layer.multiplier[o], shift: layer.shift[o])
                table.storeBytes(of: scale, toByteOffset: RequantBlock.scale + 4 * j, as: Float.self)
                table.storeBytes(of: Float(floor - layer.outputZeroPoint), toByteOffset: RequantBlock.low + 4 * j, as: Float.self)
                table.storeBytes(of: Float(layer.outputMax - layer.outputZeroPoint), toByteOffset: RequantBlock.high + 4 * j, as: Float.self)
                table.storeBytes(of: layer.outputZeroPoint, toByteOffset: RequantBlock.zeroPoint + 4 * j, as: Int32.self)
            }
        }
    }
}

/// The float32 scale `Float(m) * 2^-n` of a channel: `m` rounded to float32 (half to even), then
/// an exact power of two (m in [2^30, 2^31) and n in [1, 62] keep it a normal float32).
@inlinable @inline(__always)
public func requantizationScale(multiplier: Int32, shift: Int32) -> Float {
    Float(multiplier) * Float(sign: .plus, exponent: -Int(shift), significand: 1)
}
