// The 2 x 16 tile body of both wasm families: two output pixels x 16 channels over the K groups
// a tile's taps reach (a group: an int16 pair for wasmsimd, a quad of bytes for wasmrelaxed; 4
// bytes of a pixel's im2col row, 64 bytes of weights for 16 channels, either way), 8 channels at
// a time, two groups per loop step, K in L1-sized segments (both halves per segment); then requantized (RequantizeWasmSIMD.swift) and stored. The
// family says how one or two groups of 4 channels multiply (`WasmGroupProducts`).

import NiNKernelCore

/// How a wasm family multiplies K groups: `w` 4 channels' weights of a group (16 bytes), `x` one
/// pixel's group broadcast to every lane; lane i of the result: channel i's exact sum, in int32.
public protocol WasmGroupProducts {
    /// One group's products.
    static func one(_ w: SIMD4<Int32>, _ x: SIMD4<Int32>) -> SIMD4<Int32>
    /// Two consecutive groups' products (`wa`, `xa` the first).
    static func two(_ wa: SIMD4<Int32>, _ xa: SIMD4<Int32>, _ wb: SIMD4<Int32>, _ xb: SIMD4<Int32>) -> SIMD4<Int32>
}

/// `rows` (1 or 2) output pixels x 16 channels (`channels` real, 0 stores nothing): int32
/// accumulators from `bias` (plus `pixelTerm0` and `pixelTerm1`, a per-pixel term of every
/// channel, for pixel 0 and pixel 1; 0 unless a family's products need one) over the K groups of
/// `taps` of the im2col rows at `a0` and `a1` against one block of `weights`, requantized with
/// the block's table at `requant` and stored at `output`'s rows from `channel`. Pixel 1's row
/// must be readable even when `rows` is 1.
@inlinable @inline(__always)
public func tile2x16Wasm<Products: WasmGroupProducts>(
    _ products: Products.Type, _ a0: UnsafeRawPointer, _ a1: UnsafeRawPointer, taps: TileTaps, weights: UnsafeRawPointer,
    bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int, rows: Int, channels: Int,
    pixelTerm0: Int32 = 0, pixelTerm1: Int32 = 0
) {
    guard channels > 0 else { return }
    let b = UnsafeRawPointer(bias)
    let bias0 = b.loadUnaligned(as: SIMD4<Int32>.self), bias1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
    let bias2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self), bias3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
    let term0 = SIMD4<Int32>(repeating: pixelTerm0), term1 = SIMD4<Int32>(repeating: pixelTerm1)
    var c00 = bias0 &+ term0, c01 = bias1 &+ term0, c02 = bias2 &+ term0, c03 = bias3 &+ term0
    var c10 = bias0 &+ term1, c11 = bias1 &+ term1, c12 = bias2 &+ term1, c13 = bias3 &+ term1
    // Each K run in segments of at most `tileSegmentGroups` groups, both channel halves per
    // segment: the second half's loads then hit the cache lines the first half brought into L1
    // (a group's 16 channels share one 64-byte line), where a whole run's lines (up to 38 KB a
    // block on the classic model's 5x5 layer) would have left L1 before the second half.
    if taps.count == 1 && taps.length <= tileSegmentGroups {  // one segment (pointwise layers): no loop
        sums2x8(products, a0, a1, taps: taps, weights: weights, &c00, &c01, &c10, &c11)
        sums2x8(products, a0, a1, taps: taps, weights: weights + 32, &c02, &c03, &c12, &c13)
    } else {
        sumsInSegments(products, a0, a1, taps: taps, weights: weights, &c00, &c01, &c02, &c03, &c10, &c11, &c12, &c13)
    }
    requantizeAndStoreWasm(c00, c01, c02, c03, requant, output.row(0) + channel, channels)
    if rows > 1 { requantizeAndStoreWasm(c10, c11, c12, c13, requant, output.row(1) + channel, channels) }
}

/// `sums2x8` over both 8-channel halves of a block, segment by segment (`tileSegmentGroups`):
/// c00 to c03 for pixel 0, c10 to c13 for pixel 1.
@inlinable @inline(__always)
func sumsInSegments<Products: WasmGroupProducts>(
    _ products: Products.Type, _ a0: UnsafeRawPointer, _ a1: UnsafeRawPointer, taps: TileTaps, weights: UnsafeRawPointer,
    _ c00: inout SIMD4<Int32>, _ c01: inout SIMD4<Int32>, _ c02: inout SIMD4<Int32>, _ c03: inout SIMD4<Int32>,
    _ c10: inout SIMD4<Int32>, _ c11: inout SIMD4<Int32>, _ c12: inout SIMD4<Int32>, _ c13: inout SIMD4<Int32>
) {
    for start in taps.runStarts {
        var first = start, left = taps.length
        while left > 0 {
            let segment = TileTaps(first: first, count: 1, length: min(left, tileSegmentGroups), stride: 0)
            sums2x8(products, a0, a1, taps: segment, weights: weights, &c00, &c01, &c10, &c11)
            sums2x8(products, a0, a1, taps: segment, weights: weights + 32, &c02, &c03, &c12, &c13)
            first &+= segment.length; left &-= segment.length
        }
    }
}

/// The most K groups of a tile's segment (an even count, so segments keep groups paired): 8 KB
/// of a block's weights, and 2 x 512 bytes of its pixels' rows, well within a 32 KB L1.
@inlinable var tileSegmentGroups: Int { 128 }

/// Adds to c00, c01 (pixel 0, row at `a0`) and c10, c11 (pixel 1, at `a1`) the products of 8
/// channels (the weights at `weights`: 2 vectors of 4 channels per group, groups 64 bytes apart)
/// over the K groups of `taps`, two groups at a time, a run's odd last group alone. 8 channels,
/// not 16: V8 loads a loop's vectors before it computes, and 16 channels' 8 weight vectors, 4
/// broadcasts and 8 accumulators would not fit x86's 16 vector registers (spills cost more than
/// broadcasting twice). Not inlined: one copy per family serves all its tiles (size).
@inlinable @inline(never)
public func sums2x8<Products: WasmGroupProducts>(
    _ products: Products.Type, _ a0: UnsafeRawPointer, _ a1: UnsafeRawPointer, taps: TileTaps, weights: UnsafeRawPointer,
    _ c00: inout SIMD4<Int32>, _ c01: inout SIMD4<Int32>, _ c10: inout SIMD4<Int32>, _ c11: inout SIMD4<Int32>
) {
    for start in taps.runStarts {
        // Typed pointers stepped per two groups: the loads' constant offsets then fold into
        // wasm's offset field (with tools/wasm/build.sh's -disable-lsr), so V8 adds no address.
        var w = weights.assumingMemoryBound(to: SIMD4<Int32>.self) + 4 &* start
        var x0 = a0.assumingMemoryBound(to: Int32.self) + start, x1 = a1.assumingMemoryBound(to: Int32.self) + start
        let end = x0 + taps.length, pairsEnd = x0 + (taps.length & ~1)
        while x0 < pairsEnd {
            let w0a = w[0], w1a = w[1], w0b = w[4], w1b = w[5]
            let x0a = SIMD4<Int32>(repeating: x0[0]), x0b = SIMD4<Int32>(repeating: x0[1])
            let x1a = SIMD4<Int32>(repeating: x1[0]), x1b = SIMD4<Int32>(repeating: x1[1])
            c00 &+= Products.two(w0a, x0a, w0b, x0b); c01 &+= Products.two(w1a, x0a, w1b, x0b)
            c10 &+= Products.two(w0a, x1a, w0b, x1b); c11 &+= Products.two(w1a, x1a, w1b, x1b)
            w += 8; x0 += 2; x1 += 2
        }
        if x0 < end {
            let w0 = w[0], w1 = w[1]
            let x0a = SIMD4<Int32>(repeating: x0[0]), x1a = SIMD4<Int32>(repeating: x1[0])
            c00 &+= Products.one(w0, x0a); c01 &+= Products.one(w1, x0a)
            c10 &+= Products.one(w0, x1a); c11 &+= Products.one(w1, x1a)
        }
    }
}
