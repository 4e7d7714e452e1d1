// The ARMv8.0 NEON microkernels: 2 output pixels x 16 channels, and 1 x 16, over quad-packed
// weights. Two quads at a time: SMULL/SMULL2 form one quad's s8 x s8 products (8 int16 each),
// SMLAL/SMLAL2 add the next quad's (|w| <= 127 and |x - 128| <= 128: two products sum to at
// most 32,512 in magnitude, exact in int16; 7-bit inputs taken as they are, at most 32,258),
// SADALP adds the int16 pairs into int32 partial sums, and one ADDP per 4 channels folds the
// partial sums at the end.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// The quad at `p` as s8, in both halves of 8 bytes: shifted (x XOR 0x80 = x - 128), or as it is
/// where the layer's inputs are at most 127 (`shifted` false; a constant at every call, so the
/// XOR folds away).
@inline(__always)
func quadNEON(_ p: UnsafeRawPointer, shifted: Bool) -> SIMD8<Int8> {
    let quad = p.loadUnaligned(as: UInt32.self) ^ (shifted ? 0x8080_8080 : 0)
    return unsafeBitCast(SIMD2<UInt32>(repeating: quad), to: SIMD8<Int8>.self)
}

/// One pixel's 16 channels as int32 partial sums: for the weight vector of channels 4j ..< 4j+4,
/// `low[j]` holds channels 4j and 4j+1, `high[j]` 4j+2 and 4j+3, each as two sums over K.
struct PartialSums16NEON {
    var l0 = SIMD4<Int32>(), l1 = SIMD4<Int32>(), l2 = SIMD4<Int32>(), l3 = SIMD4<Int32>()
    var h0 = SIMD4<Int32>(), h1 = SIMD4<Int32>(), h2 = SIMD4<Int32>(), h3 = SIMD4<Int32>()

    /// Adds the products of quad `x0` with the 16 channels' weights at `w0` and of `x1` with those at `w1`.
    @inline(__always)
    mutating func add(_ w0: UnsafeRawPointer, _ x0: SIMD8<Int8>, _ w1: UnsafeRawPointer, _ x1: SIMD8<Int8>) {
        @inline(__always) func load(_ p: UnsafeRawPointer) -> SIMD16<Int8> { p.loadUnaligned(as: SIMD16<Int8>.self) }
        @inline(__always) func low(_ acc: SIMD4<Int32>, _ a: SIMD16<Int8>, _ b: SIMD16<Int8>) -> SIMD4<Int32> {
            vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_low_s8(a), x0), vget_low_s8(b), x1))
        }
        @inline(__always) func high(_ acc: SIMD4<Int32>, _ a: SIMD16<Int8>, _ b: SIMD16<Int8>) -> SIMD4<Int32> {
            vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_high_s8(a), x0), vget_high_s8(b), x1))
        }
        var a = load(w0), b = load(w1)
        l0 = low(l0, a, b); h0 = high(h0, a, b)
        a = load(w0 + 16); b = load(w1 + 16)
        l1 = low(l1, a, b); h1 = high(h1, a, b)
        a = load(w0 + 32); b = load(w1 + 32)
        l2 = low(l2, a, b); h2 = high(h2, a, b)
        a = load(w0 + 48); b = load(w1 + 48)
        l3 = low(l3, a, b); h3 = high(h3, a, b)
    }

    /// Adds the products of the quads of `taps` from `row` (one pixel's K bytes).
    @inline(__always)
    mutating func add(_ row: UnsafeRawPointer, taps: TileTaps, weights: UnsafeRawPointer, shifted: Bool) {
        for start in taps.runStarts {
            var w = weights + 64 &* start, x = row + 4 &* start
            var left = taps.length
            while left >= 2 {
                add(w, quadNEON(x, shifted: shifted), w + 64, quadNEON(x + 4, shifted: shifted))
                w += 128; x += 8; left &-= 2
            }
            if left > 0 { add(w, quadNEON(x, shifted: shifted), w, SIMD8<Int8>()) }
        }
    }

    /// The 16 sums plus `bias`, requantized and stored (the first `channels` bytes at `output`).
    @inline(__always)
    func store(bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>, channels: Int) {
        @inline(__always) func group(_ l: SIMD4<Int32>, _ h: SIMD4<Int32>, _ j: Int) -> SIMD4<Int32> {
            vpaddq_s32(l, h) &+ UnsafeRawPointer(bias + 4 * j).loadUnaligned(as: SIMD4<Int32>.self)
        }
        requantizeAndStoreNEON(group(l0, h0, 0), group(l1, h1, 1), group(l2, h2, 2), group(l3, h3, 3),
                               requant, output, channels)
    }
}

/// Two output pixels x 16 channels (`t.channels` real, 1 to 16) over the K quads of `t.taps`,
/// then requantized and stored at the pixels' rows of `t.output`, from `t.channel`.
@inline(__always)
func tile2x16NEON(_ t: QuadTileArguments, shifted: Bool) {
    let taps = t.taps, bias = t.bias, requant = t.requant, output = t.output, channel = t.channel, channels = t.channels
    var p0 = PartialSums16NEON(), p1 = PartialSums16NEON()
    let w = UnsafeRawPointer(t.weights), r0 = UnsafeRawPointer(t.rows), r1 = r0 + t.kPadded
    for start in taps.runStarts {
        var wq = w + 64 &* start, x0 = r0 + 4 &* start, x1 = r1 + 4 &* start
        var left = taps.length
        while left >= 2 {
            p0.add(wq, quadNEON(x0, shifted: shifted), wq + 64, quadNEON(x0 + 4, shifted: shifted))
            p1.add(wq, quadNEON(x1, shifted: shifted), wq + 64, quadNEON(x1 + 4, shifted: shifted))
            wq += 128; x0 += 8; x1 += 8; left &-= 2
        }
        if left > 0 {
            p0.add(wq, quadNEON(x0, shifted: shifted), wq, SIMD8<Int8>())
            p1.add(wq, quadNEON(x1, shifted: shifted), wq, SIMD8<Int8>())
        }
    }
    p0.store(bias: bias, requant: requant, output: output.row(0) + channel, channels: channels)
    p1.store(bias: bias, requant: requant, output: output.row(1) + channel, channels: channels)
}

/// One output pixel x 16 channels (`t.channels` real, 0 stores nothing), requantized and stored
/// at `t.pixelOutput`.
@inline(__always)
func pixel1x16NEON(_ t: QuadTileArguments, shifted: Bool) {
    guard t.channels > 0 else { return }
    var sums = PartialSums16NEON()
    sums.add(UnsafeRawPointer(t.rows), taps: t.taps, weights: UnsafeRawPointer(t.weights), shifted: shifted)
    sums.store(bias: t.bias, requant: t.requant, output: t.pixelOutput, channels: t.channels)
}
