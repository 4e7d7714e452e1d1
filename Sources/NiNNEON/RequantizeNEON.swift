// The arm64 requantization of 16 int32 accumulators to 16 bytes (docs/QUANTIZATION.md) with
// NEON intrinsics, reading a block's `RequantBlock` tables: scvtf, fmul, fmax/fmin against the
// clamp bounds, fcvtns (round half to even, whatever the rounding mode), + z, then two narrowing
// moves. Bit-exact with the reference. Shared by the arm64 families (neon, neondot): inlined
// into each with its own flags.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// The requantization of one group of four channels of a block (channels `4 * group ..< 4 *
/// group + 4`), its `RequantBlock` rows loaded once: a tile of several pixels requantizes each
/// pixel's group with the same registers.
public struct Requant4NEON {
    public var scale: SIMD4<Float>, low: SIMD4<Float>, high: SIMD4<Float>, z: SIMD4<Int32>

    /// Group `group`'s scale, clamp bounds and zero point from the `RequantBlock` table at `r`.
    @inlinable @inline(__always)
    public init(_ r: UnsafeRawPointer, group: Int) {
        let lane = 16 * group
        scale = r.loadUnaligned(fromByteOffset: RequantBlock.scale + lane, as: SIMD4<Float>.self)
        low = r.loadUnaligned(fromByteOffset: RequantBlock.low + lane, as: SIMD4<Float>.self)
        high = r.loadUnaligned(fromByteOffset: RequantBlock.high + lane, as: SIMD4<Float>.self)
        z = r.loadUnaligned(fromByteOffset: RequantBlock.zeroPoint + lane, as: SIMD4<Int32>.self)
    }

    /// `clamp(Float(acc) * scale, low, high)` rounded half to even, + z.
    @inlinable @inline(__always)
    public func callAsFunction(_ acc: SIMD4<Int32>) -> SIMD4<Int32> {
        // (the bounds are integers, so clamping before rounding gives the reference's result)
        let scaled = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(acc), scale), low), high)
        return vaddq_s32(vcvtnq_s32_f32(scaled), z)
    }
}

/// Requantizes four int32 accumulators of channels `4 * group ..< 4 * group + 4` of a block:
/// `clamp(Float(acc) * scale, low, high)` rounded half to even, + z.
@inlinable @inline(__always)
public func requantize4NEON(_ acc: SIMD4<Int32>, _ r: UnsafeRawPointer, group: Int) -> SIMD4<Int32> {
    Requant4NEON(r, group: group)(acc)
}

/// Stores the first `channels` of 16 requantized values (channels 0-3, 4-7, 8-11, 12-15, each
/// in [0, 255]) as bytes at `output`.
@inlinable @inline(__always)
public func storeRequantizedNEON(_ r0: SIMD4<Int32>, _ r1: SIMD4<Int32>, _ r2: SIMD4<Int32>, _ r3: SIMD4<Int32>,
                                 _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    let low = vcombine_s16(vmovn_s32(r0), vmovn_s32(r1))
    let high = vcombine_s16(vmovn_s32(r2), vmovn_s32(r3))
    // Every value is in [0, 255]: the saturating narrowing is exact.
    let bytes: SIMD16<UInt8> = vcombine_u8(vqmovun_s16(low), vqmovun_s16(high))
    if channels == 16 {
        UnsafeMutableRawPointer(output).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
    } else {
        for c in 0..<channels { output[c] = bytes[c] }
    }
}

/// Requantizes 16 accumulators (channels 0-3, 4-7, 8-11, 12-15) and stores the first
/// `channels` bytes at `output`.
@inlinable @inline(__always)
public func requantizeAndStoreNEON(_ c0: SIMD4<Int32>, _ c1: SIMD4<Int32>, _ c2: SIMD4<Int32>, _ c3: SIMD4<Int32>,
                                   _ r: UnsafeRawPointer, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    storeRequantizedNEON(requantize4NEON(c0, r, group: 0), requantize4NEON(c1, r, group: 1),
                         requantize4NEON(c2, r, group: 2), requantize4NEON(c3, r, group: 3), output, channels)
}
