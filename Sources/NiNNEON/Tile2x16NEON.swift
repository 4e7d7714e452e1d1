// The ARMv8.0 NEON microkernels: 2 output pixels x 16 channels, and 1 x 16, over quad-packed
// weights. Two quads at a time: SMULL forms one quad's s8 x s8 products with two channels'
// weights (8 int16), SMLAL adds the next quad's (|w| <= 127 and |x - 128| <= 128: two products
// sum to at most 32,512 in magnitude, exact in int16; 7-bit inputs taken as they are, at most
// 32,258), SADALP adds the int16 pairs into int32 partial sums, and one ADDP per 4 channels
// folds the partial sums at the end. Every operand is a whole 64-bit register: the weights are
// loaded 8 bytes (two channels' quads) at a time (`ldp d`), each input quad replicated in both
// halves (`ld1r`); and the 2-pixel tile uses each weight register for both pixels before loading
// the next, so its 16 accumulators never leave the registers. On 7-bit inputs it takes four
// quads a round.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// The quad at `p` as s8, in both halves of 8 bytes (one `ld1r`): shifted (x XOR 0x80 = x - 128),
/// or as it is where the layer's inputs are at most 127 (`shifted` false; a constant at every
/// call, so the XOR folds away).
@inline(__always)
func quadNEON(_ p: UnsafeRawPointer, shifted: Bool) -> SIMD8<Int8> {
    let quad = SIMD2<UInt32>(repeating: p.loadUnaligned(as: UInt32.self))
    return unsafeBitCast(shifted ? quad ^ SIMD2(repeating: 0x8080_8080) : quad, to: SIMD8<Int8>.self)
}

/// Two channels' quads (8 bytes) of a weight vector, `offset` bytes into the 16 channels' 64 at
/// `w`, as one 64-bit vector: the multiplies take whole registers (the upper half of a 16-byte
/// load would cost an `ext` per use).
@inline(__always)
func weightPairNEON(_ w: UnsafeRawPointer, _ offset: Int) -> SIMD8<Int8> {
    w.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int8>.self)
}

/// `acc` plus the products of `a` by `x` and of `b` by `y`, pairwise: SMULL, SMLAL (two products
/// per int16 lane, exact: see the header), SADALP.
@inline(__always)
func productsNEON(_ acc: SIMD4<Int32>, _ a: SIMD8<Int8>, _ x: SIMD8<Int8>, _ b: SIMD8<Int8>, _ y: SIMD8<Int8>) -> SIMD4<Int32> {
    vpadalq_s16(acc, vmlal_s8(vmull_s8(a, x), b, y))
}

/// One pixel's 16 channels as int32 partial sums: for the weight vector of channels 4j ..< 4j+4,
/// `low[j]` holds channels 4j and 4j+1, `high[j]` 4j+2 and 4j+3, each as two sums over K.
struct PartialSums16NEON {
    var l0 = SIMD4<Int32>(), l1 = SIMD4<Int32>(), l2 = SIMD4<Int32>(), l3 = SIMD4<Int32>()
    var h0 = SIMD4<Int32>(), h1 = SIMD4<Int32>(), h2 = SIMD4<Int32>(), h3 = SIMD4<Int32>()

    /// Adds the products of quad `x0` with the 16 channels' weights at `w0` and of `x1` with those at `w1`.
    @inline(__always)
    mutating func add(_ w0: UnsafeRawPointer, _ x0: SIMD8<Int8>, _ w1: UnsafeRawPointer, _ x1: SIMD8<Int8>) {
        @inline(__always) func pair(_ acc: inout SIMD4<Int32>, _ offset: Int) {
            let a = weightPairNEON(w0, offset), b = weightPairNEON(w1, offset)
            acc = productsNEON(acc, a, x0, b, x1)
        }
        pair(&l0, 0); pair(&h0, 8); pair(&l1, 16); pair(&h1, 24)
        pair(&l2, 32); pair(&h2, 40); pair(&l3, 48); pair(&h3, 56)
    }

    /// Adds, to `first` and `second` (two pixels' sums), the products of quads `x0` (`y0`) with
    /// the 16 channels' weights at `w0` and of `x1` (`y1`) with those at `w1`: each weight pair
    /// is loaded and used by both pixels before the next, so that 16 accumulators, 4 inputs and
    /// a few weights and products fit in the 32 vector registers (both pixels' weights loaded at
    /// once spilled accumulators to the stack every step).
    @inline(__always)
    static func add(_ first: inout PartialSums16NEON, _ second: inout PartialSums16NEON,
                    _ w0: UnsafeRawPointer, _ x0: SIMD8<Int8>, _ y0: SIMD8<Int8>,
                    _ w1: UnsafeRawPointer, _ x1: SIMD8<Int8>, _ y1: SIMD8<Int8>) {
        @inline(__always) func pair(_ acc0: inout SIMD4<Int32>, _ acc1: inout SIMD4<Int32>, _ offset: Int) {
            let a = weightPairNEON(w0, offset), b = weightPairNEON(w1, offset)
            acc0 = productsNEON(acc0, a, x0, b, x1)
            acc1 = productsNEON(acc1, a, y0, b, y1)
        }
        pair(&first.l0, &second.l0, 0); pair(&first.h0, &second.h0, 8)
        pair(&first.l1, &second.l1, 16); pair(&first.h1, &second.h1, 24)
        pair(&first.l2, &second.l2, 32); pair(&first.h2, &second.h2, 40)
        pair(&first.l3, &second.l3, 48); pair(&first.h3, &second.h3, 56)
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
        // On 7-bit inputs four quads a round (two steps: the loop's own instructions once per
        // 96 multiplies); the shifted tiles' `eor`s leave no registers for it.
        while !shifted && left >= 4 {
            PartialSums16NEON.add(&p0, &p1, wq, quadNEON(x0, shifted: false), quadNEON(x1, shifted: false),
                                  wq + 64, quadNEON(x0 + 4, shifted: false), quadNEON(x1 + 4, shifted: false))
            PartialSums16NEON.add(&p0, &p1, wq + 128, quadNEON(x0 + 8, shifted: false), quadNEON(x1 + 8, shifted: false),
                                  wq + 192, quadNEON(x0 + 12, shifted: false), quadNEON(x1 + 12, shifted: false))
            wq += 256; x0 += 16; x1 += 16; left &-= 4
        }
        while left >= 2 {
            PartialSums16NEON.add(&p0, &p1, wq, quadNEON(x0, shifted: shifted), quadNEON(x1, shifted: shifted),
                                  wq + 64, quadNEON(x0 + 4, shifted: shifted), quadNEON(x1 + 4, shifted: shifted))
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
