// The portable requantization of 16 int32 accumulators to 16 bytes (docs/QUANTIZATION.md),
// reading a block's `RequantBlock` tables, in plain Swift SIMD (SSE2: cvtdq2ps, mulps,
// maxps/minps, addps, psubd). Bit-exact with the reference: float32 scaling, a clamp to
// [floor - z, 255 - z], round half to even, + z. The wasmsimd family (Sources/NiNWasmSIMD) uses it
// too.

import NiNKernelCore

/// 1.5 x 2^23: adding it to a float32 of magnitude below 2^22 rounds it to an integer (in the
/// current rounding mode, nearest even: the engine sets it for every run) and leaves that
/// integer in the low mantissa bits, so the float's bit pattern minus this constant's is it.
@usableFromInline let roundingMagic: Float = 12_582_912

/// Requantizes four int32 accumulators of channels `4 * group ..< 4 * group + 4` of a block.
@inline(__always) @usableFromInline
func requantize4(_ acc: SIMD4<Int32>, _ r: UnsafeRawPointer, group: Int) -> SIMD4<Int32> {
    let lane = 16 * group
    let scale = r.loadUnaligned(fromByteOffset: RequantBlock.scale + lane, as: SIMD4<Float>.self)
    let low = r.loadUnaligned(fromByteOffset: RequantBlock.low + lane, as: SIMD4<Float>.self)
    let high = r.loadUnaligned(fromByteOffset: RequantBlock.high + lane, as: SIMD4<Float>.self)
    let z = r.loadUnaligned(fromByteOffset: RequantBlock.zeroPoint + lane, as: SIMD4<Int32>.self)
    // Lane by lane conversion (SIMD4<Float>(acc) would be an out-of-line call): cvtdq2ps.
    var scaled = SIMD4<Float>(Float(acc[0]), Float(acc[1]), Float(acc[2]), Float(acc[3])) * scale
    scaled.replace(with: low, where: scaled .< low)
    scaled.replace(with: high, where: scaled .> high)
    // The clamped value lies in [-255, 255]: the magic addition rounds it half to even, exactly
    // as the reference's `rounded(.toNearestOrEven)` (the bounds are integers, so clamping first
    // gives the same result).
    let rounded = unsafeBitCast(scaled + SIMD4<Float>(repeating: roundingMagic), to: SIMD4<Int32>.self)
    return rounded &- SIMD4<Int32>(repeating: Int32(bitPattern: roundingMagic.bitPattern)) &+ z
}

/// Requantizes 16 accumulators (channels 0-3, 4-7, 8-11, 12-15) and stores the first `channels`
/// bytes at `output`. (Inlinable: the wasmsimd family's tile uses it too.)
@inline(__always) @inlinable
public func requantizeAndStore(_ c0: SIMD4<Int32>, _ c1: SIMD4<Int32>, _ c2: SIMD4<Int32>, _ c3: SIMD4<Int32>,
                        _ r: UnsafeRawPointer, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    let v0 = requantize4(c0, r, group: 0), v1 = requantize4(c1, r, group: 1)
    let v2 = requantize4(c2, r, group: 2), v3 = requantize4(c3, r, group: 3)
    // Every value is in [0, 255]: truncation to bytes is exact.
    let bytes = SIMD16<UInt8>(
        UInt8(truncatingIfNeeded: v0[0]), UInt8(truncatingIfNeeded: v0[1]), UInt8(truncatingIfNeeded: v0[2]), UInt8(truncatingIfNeeded: v0[3]),
        UInt8(truncatingIfNeeded: v1[0]), UInt8(truncatingIfNeeded: v1[1]), UInt8(truncatingIfNeeded: v1[2]), UInt8(truncatingIfNeeded: v1[3]),
        UInt8(truncatingIfNeeded: v2[0]), UInt8(truncatingIfNeeded: v2[1]), UInt8(truncatingIfNeeded: v2[2]), UInt8(truncatingIfNeeded: v2[3]),
        UInt8(truncatingIfNeeded: v3[0]), UInt8(truncatingIfNeeded: v3[1]), UInt8(truncatingIfNeeded: v3[2]), UInt8(truncatingIfNeeded: v3[3]))
    if channels == 16 {
        UnsafeMutableRawPointer(output).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
    } else {
        for c in 0..<channels { output[c] = bytes[c] }
    }
}
