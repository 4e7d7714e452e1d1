// The AVX-512 requantization of 16 int32 accumulators to 16 bytes (docs/QUANTIZATION.md),
// reading a block's `RequantBlock` tables as one zmm each, and the masked store of a tile row.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Stores the first `channels` (1 to 16) of 16 requantized bytes with one masked store: no
/// branch, and no call that would make the compiler spill the tile's accumulators. (Public for
/// the AMX family's epilogue.)
@inlinable @inline(__always)
public func storeBytes(_ bytes: __m128i, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    _mm_mask_storeu_epi8(output, __mmask16(truncatingIfNeeded: (1 << channels) - 1), bytes)
}

/// Which requantization a layer's outputs take (`requantize16`), from its block's tables.
public enum RequantPath {
    /// Any zero point, clamp and range: 7 operations.
    case general
    /// Zero point 0 (as after a ReLU in a 7-bit model, outputs 0 to 127): the general path
    /// without its add of the zero point, 6 operations.
    case zeroPointZero
    /// A ReLU layer with zero point 0 and the full range up to 255 (every layer of an 8-bit NiN
    /// but a last one without ReLU): no upper clamp and no zero point, 5 operations.
    case reluFromZero
}

/// The requantization path of a block's `RequantBlock` tables (their first channel's entries,
/// which every channel of a layer shares).
@inlinable @inline(__always)
public func requantPath(_ r: UnsafeRawPointer) -> RequantPath {
    guard r.load(fromByteOffset: RequantBlock.zeroPoint, as: Int32.self) == 0 else { return .general }
    let relu = r.load(fromByteOffset: RequantBlock.low, as: Float.self) == 0 && r.load(fromByteOffset: RequantBlock.high, as: Float.self) == 255
    return relu ? .reluFromZero : .zeroPointZero
}

/// Requantizes one pixel's 16 int32 accumulators to 16 bytes, exactly as the reference
/// (QUANTIZATION.md): float32 scaling, a clamp to [floor - z, qmax - z], conversion rounding half
/// to even (the default MXCSR mode), + z, and a narrowing `vpmovusdb`: 7 operations. With z = 0
/// the add goes (6). For a ReLU layer with z = 0 and qmax 255 (`.reluFromZero`), 5: the clamp
/// at 0, then the unsigned conversion, which gives 2^32 - 1 for values beyond its range, and
/// `vpmovusdb`'s saturation are the clamp at 255.
@inlinable @inline(__always)
public func requantize16(_ acc: __m512i, _ r: UnsafeRawPointer, _ path: RequantPath) -> __m128i {
    func load(_ offset: Int) -> __m512 { _mm512_loadu_ps(r + offset) }
    let scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), load(RequantBlock.scale))
    if path == .reluFromZero {
        return _mm512_cvtusepi32_epi8(_mm512_cvtps_epu32(_mm512_max_ps(scaled, _mm512_setzero_ps())))
    }
    let clamped = _mm512_min_ps(_mm512_max_ps(scaled, load(RequantBlock.low)), load(RequantBlock.high))
    if path == .zeroPointZero { return _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(clamped)) }
    let z = _mm512_loadu_si512(r + RequantBlock.zeroPoint)
    return _mm512_cvtusepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(clamped), z))
}
