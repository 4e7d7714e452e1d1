// The requantization of the wasm families' tiles: 16 int32 accumulators to 16 bytes, the
// portable family's arithmetic (Sources/NiNPortable/RequantizePortable.swift, bit-exact with the
// reference) on SIMD128 instructions that plain Swift does not reach on wasm32 (a vector
// conversion to float32, pmax/pmin clamps, narrowing stores): ninpriv_wasm_simd.h.

import CNiNWasmSIMD
import NiNKernelCore

/// Requantizes 16 accumulators (channels 0-3, 4-7, 8-11, 12-15 of the block whose `RequantBlock`
/// table is at `r`) and stores the first `channels` bytes at `output`. Not inlined: one copy
/// serves every tile of both wasm families (size), for a call per 16 channels of a tile.
@inline(never)
public func requantizeAndStoreWasm(_ c0: SIMD4<Int32>, _ c1: SIMD4<Int32>, _ c2: SIMD4<Int32>, _ c3: SIMD4<Int32>,
                                   _ r: UnsafeRawPointer, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    @inline(__always) func group(_ acc: SIMD4<Int32>, _ lane: Int) -> SIMD4<Int32> {
        ninpriv_requantize4(acc, r + (RequantBlock.scale + lane), r + (RequantBlock.low + lane),
                            r + (RequantBlock.high + lane), r + (RequantBlock.zeroPoint + lane))
    }
    let bytes = unsafeBitCast(ninpriv_narrow_to_bytes(group(c0, 0), group(c1, 16), group(c2, 32), group(c3, 48)),
                              to: SIMD16<UInt8>.self)
    if channels == 16 {
        UnsafeMutableRawPointer(output).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
    } else {
        for c in 0..<channels { output[c] = bytes[c] }
    }
}
