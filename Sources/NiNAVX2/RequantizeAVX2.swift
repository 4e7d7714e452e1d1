// The AVX2 requantization of 16 int32 accumulators to 16 bytes (docs/QUANTIZATION.md), reading
// a block's `RequantBlock` tables as two ymm each, and the store of a tile row's bytes. Public
// and inlinable: the AVX-VNNI family (ymm too) inlines them with its own flags.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Stores the first `channels` of 16 requantized bytes.
@inlinable @inline(__always)
public func store(_ bytes: __m128i, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    if channels == 16 {
        _mm_storeu_si128(UnsafeMutableRawPointer(output).assumingMemoryBound(to: __m128i.self), bytes)
    } else {
        withUnsafeBytes(of: bytes) { raw in
            for c in 0..<channels { output[c] = raw[c] }
        }
    }
}

/// Requantizes 16 int32 accumulators (channels 0-7 in `lo`, 8-15 in `hi`) to 16 bytes, exactly as
/// the reference (QUANTIZATION.md): float32 scaling, a clamp to [floor - z, 255 - z], conversion
/// rounding half to even (the default MXCSR mode), + z.
@inlinable @inline(__always)
public func requantize16(_ lo: __m256i, _ hi: __m256i, _ r: UnsafeRawPointer) -> __m128i {
    let v0 = requantize8(lo, r, group: 0)
    let v1 = requantize8(hi, r, group: 1)
    // Values are in [0, 255]; packs works within 128-bit lanes: dword order [0,1,4,5,2,3,6,7]
    // restores channel order.
    let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
    let words = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(v0, v1), order)
    let bytes = _mm256_packus_epi16(words, words)
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, order))
}

@inlinable @inline(__always)
public func requantize8(_ acc: __m256i, _ r: UnsafeRawPointer, group: Int) -> __m256i {
    let lane = 32 * group
    func load(_ offset: Int) -> __m256 { _mm256_loadu_ps((r + offset + lane).assumingMemoryBound(to: Float.self)) }
    let scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), load(RequantBlock.scale))
    let clamped = _mm256_min_ps(_mm256_max_ps(scaled, load(RequantBlock.low)), load(RequantBlock.high))
    let z = _mm256_loadu_si256((r + RequantBlock.zeroPoint + lane).assumingMemoryBound(to: __m256i.self))
    return _mm256_add_epi32(_mm256_cvtps_epi32(clamped), z)
}
