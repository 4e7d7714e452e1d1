// The i8mm family's microkernels: `usmmla` (u8 x s8 2 x 8 by 8 x 2 matrix multiply-accumulate
// into a 2 x 2 int32 tile: 32 products per instruction, twice a dot product's) on pixel pairs x
// channel pairs. 4 output pixels (two pairs) x 16 channels (eight pairs): 16 int32x4
// accumulators, 8 weight vectors per K octet (`packI8MM`'s layout), each pair's input the two
// pixels' 8 bytes side by side (two 16-byte loads and a zip per two octets); and 1 x 16 (the
// pixel paired with itself). Every product is summed into int32: exact.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore
import NiNNEON

/// One pixel pair's 16 channels as `usmmla` sums them: vector p holds channels 2p and 2p + 1 of
/// both pixels (first pixel's c2p, c2p+1, second pixel's c2p, c2p+1).
struct PairSums16 {
    var p0 = SIMD4<Int32>(), p1 = SIMD4<Int32>(), p2 = SIMD4<Int32>(), p3 = SIMD4<Int32>()
    var p4 = SIMD4<Int32>(), p5 = SIMD4<Int32>(), p6 = SIMD4<Int32>(), p7 = SIMD4<Int32>()

    /// The sums' start: each channel's bias (16 int32 at `bias`), for both pixels.
    @inline(__always)
    init(bias: UnsafeRawPointer) {
        @inline(__always) func pairs(_ g: Int) -> (SIMD4<Int32>, SIMD4<Int32>) {
            let b = bias.loadUnaligned(fromByteOffset: 16 * g, as: SIMD2<UInt64>.self)
            return (unsafeBitCast(vzip1q_u64(b, b), to: SIMD4<Int32>.self), unsafeBitCast(vzip2q_u64(b, b), to: SIMD4<Int32>.self))
        }
        (p0, p1) = pairs(0); (p2, p3) = pairs(1); (p4, p5) = pairs(2); (p6, p7) = pairs(3)
    }

    /// Adds `x` (the first pixel's 8 K values, then the second's) times the octet of weights at
    /// `w` (8 channel pairs x 8 values).
    @inline(__always)
    mutating func add(_ w: UnsafeRawPointer, _ x: SIMD16<UInt8>) {
        p0 = vusmmlaq_s32(p0, x, w.loadUnaligned(as: SIMD16<Int8>.self))
        p1 = vusmmlaq_s32(p1, x, w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self))
        p2 = vusmmlaq_s32(p2, x, w.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int8>.self))
        p3 = vusmmlaq_s32(p3, x, w.loadUnaligned(fromByteOffset: 48, as: SIMD16<Int8>.self))
        p4 = vusmmlaq_s32(p4, x, w.loadUnaligned(fromByteOffset: 64, as: SIMD16<Int8>.self))
        p5 = vusmmlaq_s32(p5, x, w.loadUnaligned(fromByteOffset: 80, as: SIMD16<Int8>.self))
        p6 = vusmmlaq_s32(p6, x, w.loadUnaligned(fromByteOffset: 96, as: SIMD16<Int8>.self))
        p7 = vusmmlaq_s32(p7, x, w.loadUnaligned(fromByteOffset: 112, as: SIMD16<Int8>.self))
    }

    /// Adds the last quad of a K of an odd number of quads: `x` holds each pixel's quad in the
    /// low 4 of its 8 bytes (zeros above), the weights at `w` are `[16][4]`; each channel's quad is
    /// doubled (zip) into its 8-byte row, its upper copy meeting the zeros.
    @inline(__always)
    mutating func addLastQuad(_ w: UnsafeRawPointer, _ x: SIMD16<UInt8>) {
        @inline(__always) func rows(_ g: Int) -> (SIMD16<Int8>, SIMD16<Int8>) {
            let v = w.loadUnaligned(fromByteOffset: 16 * g, as: SIMD4<UInt32>.self)
            return (unsafeBitCast(vzip1q_u32(v, v), to: SIMD16<Int8>.self), unsafeBitCast(vzip2q_u32(v, v), to: SIMD16<Int8>.self))
        }
        let (r0, r1) = rows(0), (r2, r3) = rows(1), (r4, r5) = rows(2), (r6, r7) = rows(3)
        p0 = vusmmlaq_s32(p0, x, r0); p1 = vusmmlaq_s32(p1, x, r1)
        p2 = vusmmlaq_s32(p2, x, r2); p3 = vusmmlaq_s32(p3, x, r3)
        p4 = vusmmlaq_s32(p4, x, r4); p5 = vusmmlaq_s32(p5, x, r5)
        p6 = vusmmlaq_s32(p6, x, r6); p7 = vusmmlaq_s32(p7, x, r7)
    }

    /// Channels 0-3, 4-7, 8-11 and 12-15 of the first pixel (`second` false) or the second.
    @inline(__always)
    func pixel(second: Bool) -> (SIMD4<Int32>, SIMD4<Int32>, SIMD4<Int32>, SIMD4<Int32>) {
        @inline(__always) func group(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> SIMD4<Int32> {
            let a2 = unsafeBitCast(a, to: SIMD2<UInt64>.self), b2 = unsafeBitCast(b, to: SIMD2<UInt64>.self)
            return unsafeBitCast(second ? vzip2q_u64(a2, b2) : vzip1q_u64(a2, b2), to: SIMD4<Int32>.self)
        }
        return (group(p0, p1), group(p2, p3), group(p4, p5), group(p6, p7))
    }
}

/// Two pixels' 8 bytes at `x` and `y` side by side.
@inline(__always)
func octetPair(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer) -> SIMD16<UInt8> {
    unsafeBitCast(SIMD2<UInt64>(x.loadUnaligned(as: UInt64.self), y.loadUnaligned(as: UInt64.self)), to: SIMD16<UInt8>.self)
}

/// Two pixels' quads at `x` and `y`, each in the low (`high` false) or high 4 bytes of its 8, zeros
/// in the other 4.
@inline(__always)
func quadPair(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, high: Bool) -> SIMD16<UInt8> {
    let a = x.loadUnaligned(as: UInt32.self), b = y.loadUnaligned(as: UInt32.self)
    return unsafeBitCast(high ? SIMD4<UInt32>(0, a, 0, b) : SIMD4<UInt32>(a, 0, b, 0), to: SIMD16<UInt8>.self)
}

/// `pixels` (4, or 1: that pixel paired with itself) output pixels x 16 channels (`channels`
/// real; 0 stores nothing) over the K quads of `taps` (runs may start or end mid-octet: the
/// quad alone, the other half's inputs zero), requantized and stored at the pixels' rows of
/// `output` from `channel` (one pixel: at `pixelOutput`).
@inline(__always)
func tileI8MM(_ a: UnsafePointer<UInt8>, pixels: Int, kPadded: Int, kQuads: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
              bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, pixelOutput: UnsafeMutablePointer<UInt8>,
              channel: Int, channels: Int) {
    guard channels > 0 else { return }
    // Pixels 0 and 1, 2 and 3, from the bias (so the requantization adds none).
    let s0 = PairSums16(bias: UnsafeRawPointer(bias))
    var s = s0, t = s0
    let w0 = UnsafeRawPointer(weights)
    let step = pixels == 4 ? kPadded : 0
    for start in taps.runStarts {
        var x0 = UnsafeRawPointer(a) + 4 &* start, x1 = x0 + step, x2 = x1 + step, x3 = x2 + step
        var quad = start
        let end = start &+ taps.length
        if quad & 1 == 1 {  // a run from an octet's second quad
            let w = w0 + 64 &* (quad &- 1)
            s.add(w, quadPair(x0, x1, high: true))
            if pixels == 4 { t.add(w, quadPair(x2, x3, high: true)) }
            quad &+= 1; x0 += 4; x1 += 4; x2 += 4; x3 += 4
        }
        var w = w0 + 64 &* quad
        for _ in 0..<((end &- quad) >> 2) {  // two octets per 16-byte load
            let v0 = x0.loadUnaligned(as: SIMD2<UInt64>.self), v1 = x1.loadUnaligned(as: SIMD2<UInt64>.self)
            s.add(w, unsafeBitCast(vzip1q_u64(v0, v1), to: SIMD16<UInt8>.self))
            s.add(w + 128, unsafeBitCast(vzip2q_u64(v0, v1), to: SIMD16<UInt8>.self))
            if pixels == 4 {
                let v2 = x2.loadUnaligned(as: SIMD2<UInt64>.self), v3 = x3.loadUnaligned(as: SIMD2<UInt64>.self)
                t.add(w, unsafeBitCast(vzip1q_u64(v2, v3), to: SIMD16<UInt8>.self))
                t.add(w + 128, unsafeBitCast(vzip2q_u64(v2, v3), to: SIMD16<UInt8>.self))
            }
            w += 256; x0 += 16; x1 += 16; x2 += 16; x3 += 16
        }
        let left = (end &- quad) & 3
        if left >= 2 {  // one octet
            s.add(w, octetPair(x0, x1))
            if pixels == 4 { t.add(w, octetPair(x2, x3)) }
            w += 128; x0 += 8; x1 += 8; x2 += 8; x3 += 8
        }
        if left & 1 == 1 {  // one quad: an octet's first, or K's last of an odd number
            if end == kQuads {
                s.addLastQuad(w, quadPair(x0, x1, high: false))
                if pixels == 4 { t.addLastQuad(w, quadPair(x2, x3, high: false)) }
            } else {
                s.add(w, quadPair(x0, x1, high: false))
                if pixels == 4 { t.add(w, quadPair(x2, x3, high: false)) }
            }
        }
    }
    // Group by group across the pixels, so each group's requantization rows load once.
    let (a0, a1, a2, a3) = s.pixel(second: false)
    let g0 = Requant4NEON(requant, group: 0), g1 = Requant4NEON(requant, group: 1)
    let g2 = Requant4NEON(requant, group: 2), g3 = Requant4NEON(requant, group: 3)
    if pixels == 1 {
        storeRequantizedNEON(g0(a0), g1(a1), g2(a2), g3(a3), pixelOutput, channels)
        return
    }
    let (c0, c1, c2, c3) = s.pixel(second: true)
    let (d0, d1, d2, d3) = t.pixel(second: false)
    let (e0, e1, e2, e3) = t.pixel(second: true)
    storeRequantizedNEON(g0(a0), g1(a1), g2(a2), g3(a3), output.row(0) + channel, channels)
    storeRequantizedNEON(g0(c0), g1(c1), g2(c2), g3(c3), output.row(1) + channel, channels)
    storeRequantizedNEON(g0(d0), g1(d1), g2(d2), g3(d3), output.row(2) + channel, channels)
    storeRequantizedNEON(g0(e0), g1(e1), g2(e2), g3(e3), output.row(3) + channel, channels)
}

/// Each pixel pair's rows side by side, octet by octet (`MatrixTilesI8MM.arrange`): 4 x 16
/// tiles read a pair's next two octets as two 16-byte vectors, each the operand of a `usmmla`
/// as it is. The pair at `y` (`2 * kPadded` bytes): octet j's 16 bytes at `16 * j` (the first
/// pixel's 8, then the second's); where K has an odd number of quads, its last quad's 8 bytes
/// after the octets (the first pixel's 4, then the second's).
@inline(__always)
func tileArrangedI8MM(_ rows: UnsafePointer<UInt8>, kPadded: Int, kQuads: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int, channels: Int) {
    guard channels > 0 else { return }
    // Pixels 0 and 1, 2 and 3, from the bias (so the requantization adds none).
    let s0 = PairSums16(bias: UnsafeRawPointer(bias))
    var s = s0, t = s0
    let w0 = UnsafeRawPointer(weights)
    let y0 = UnsafeRawPointer(rows), y1 = y0 + 2 &* kPadded
    // Each pixel's quad in the low or the high 4 bytes of its 8 (a run that starts or ends mid-octet).
    let lowQuads = SIMD4<UInt32>(~0, 0, ~0, 0), highQuads = SIMD4<UInt32>(0, ~0, 0, ~0)
    @inline(__always) func masked(_ y: UnsafeRawPointer, _ mask: SIMD4<UInt32>) -> SIMD16<UInt8> {
        unsafeBitCast(y.loadUnaligned(as: SIMD4<UInt32>.self) & mask, to: SIMD16<UInt8>.self)
    }
    for start in taps.runStarts {
        var quad = start
        let end = start &+ taps.length
        if quad & 1 == 1 {  // a run from an octet's second quad
            let w = w0 + 64 &* (quad &- 1), at = 8 &* (quad &- 1)
            s.add(w, masked(y0 + at, highQuads))
            t.add(w, masked(y1 + at, highQuads))
            quad &+= 1
        }
        var w = w0 + 64 &* quad
        var u0 = y0 + 8 &* quad, u1 = y1 + 8 &* quad
        // Two octets per step, until the weights' pointer reaches its end (no counter to update).
        let steps = (end &- quad) >> 2
        if steps > 0 {
            let wEnd = w + 256 &* steps
            repeat {
                let a0 = u0.loadUnaligned(as: SIMD16<UInt8>.self), a1 = u0.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
                let b0 = u1.loadUnaligned(as: SIMD16<UInt8>.self), b1 = u1.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
                s.add(w, a0); t.add(w, b0)
                s.add(w + 128, a1); t.add(w + 128, b1)
                w += 256; u0 += 32; u1 += 32
            } while w != wEnd
        }
        let left = (end &- quad) & 3
        if left >= 2 {  // one octet
            s.add(w, u0.loadUnaligned(as: SIMD16<UInt8>.self))
            t.add(w, u1.loadUnaligned(as: SIMD16<UInt8>.self))
            w += 128; u0 += 16; u1 += 16
        }
        if left & 1 == 1 {  // one quad: an octet's first, or K's last of an odd number
            if end == kQuads {
                @inline(__always) func lastQuads(_ y: UnsafeRawPointer) -> SIMD16<UInt8> {
                    let v = SIMD4<UInt32>(lowHalf: y.loadUnaligned(as: SIMD2<UInt32>.self), highHalf: SIMD2<UInt32>())
                    return unsafeBitCast(vzip1q_u32(v, SIMD4<UInt32>()), to: SIMD16<UInt8>.self)
                }
                s.addLastQuad(w, lastQuads(u0))
                t.addLastQuad(w, lastQuads(u1))
            } else {
                s.add(w, masked(u0, lowQuads))
                t.add(w, masked(u1, lowQuads))
            }
        }
    }
    // Group by group across the pixels, so each group's requantization rows load once.
    let g0 = Requant4NEON(requant, group: 0), g1 = Requant4NEON(requant, group: 1)
    let g2 = Requant4NEON(requant, group: 2), g3 = Requant4NEON(requant, group: 3)
    let (a0, a1, a2, a3) = s.pixel(second: false)
    let (c0, c1, c2, c3) = s.pixel(second: true)
    let (d0, d1, d2, d3) = t.pixel(second: false)
    let (e0, e1, e2, e3) = t.pixel(second: true)
    storeRequantizedNEON(g0(a0), g1(a1), g2(a2), g3(a3), output.row(0) + channel, channels)
    storeRequantizedNEON(g0(c0), g1(c1), g2(c2), g3(c3), output.row(1) + channel, channels)
    storeRequantizedNEON(g0(d0), g1(d1), g2(d2), g3(d3), output.row(2) + channel, channels)
    storeRequantizedNEON(g0(e0), g1(e1), g2(e2), g3(e3), output.row(3) + channel, channels)
}

/// Writes pixel pair (p, p + 1)'s rows of `kPadded` bytes (at `a` and `b`) side by side, octet
/// by octet, at `to` (`tileArrangedI8MM`'s layout).
@inline(__always)
func arrangePairI8MM(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, kPadded: Int, to: UnsafeMutableRawPointer) {
    var a = a, b = b, to = to
    if kPadded >= 16 {  // two octets per pixel a step, until the first row's pointer reaches its end
        let aEnd = a + (kPadded & ~15)
        repeat {
            let u = a.loadUnaligned(as: SIMD2<UInt64>.self), v = b.loadUnaligned(as: SIMD2<UInt64>.self)
            to.storeBytes(of: vzip1q_u64(u, v), as: SIMD2<UInt64>.self)
            to.storeBytes(of: vzip2q_u64(u, v), toByteOffset: 16, as: SIMD2<UInt64>.self)
            a += 16; b += 16; to += 32
        } while a != aEnd
    }
    if kPadded & 8 != 0 {  // one octet
        to.storeBytes(of: a.loadUnaligned(as: UInt64.self), as: UInt64.self)
        to.storeBytes(of: b.loadUnaligned(as: UInt64.self), toByteOffset: 8, as: UInt64.self)
        a += 8; b += 8; to += 16
    }
    if kPadded & 4 != 0 {  // K's last quad of an odd number
        to.storeBytes(of: a.loadUnaligned(as: UInt32.self), as: UInt32.self)
        to.storeBytes(of: b.loadUnaligned(as: UInt32.self), toByteOffset: 4, as: UInt32.self)
    }
}

/// The i8mm tiles for the quad driver: 4 x 16 (on each block of a 32-channel tile) and
/// one pixel at a time, on `packI8MM`'s weights; u8 inputs as they are, so padding taps are
/// skipped where the input zero point is 0. The im2col chunks: u8 values, whole 4-pixel tiles,
/// 16 bytes of slack. The 32-channel tile is the 4 x 16 tile on each block (`QuadBlockTiles`).
enum MatrixTilesI8MM: QuadBlockTiles {
    static var blockTilePixels: Int { 4 }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 4, slack: 16) }

    /// The 4 x 16 tiles read each pixel pair's rows side by side (`tileArrangedI8MM`), once per
    /// chunk for all the blocks, instead of zipping them on each block.
    static var arrangesRows: Bool { true }

    /// Each whole tile's two pixel pairs side by side (`arrangePairI8MM`), the last few pixels' rows as they are.
    @inline(__always)
    static func arrange(_ rows: UnsafePointer<UInt8>, pixels: Int, kPadded: Int, into arranged: UnsafeMutablePointer<UInt8>) {
        let paired = pixels & ~3
        var p = 0
        while p < paired {
            arrangePairI8MM(rows + p &* kPadded, rows + (p &+ 1) &* kPadded, kPadded: kPadded, to: arranged + p &* kPadded)
            p &+= 2
        }
        if paired < pixels {
            UnsafeMutableRawPointer(arranged + paired &* kPadded).copyMemory(from: rows + paired &* kPadded,
                                                                             byteCount: (pixels &- paired) &* kPadded)
        }
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        tileArrangedI8MM(t.rows, kPadded: t.kPadded, kQuads: t.kQuads, taps: t.taps, weights: t.weights, bias: t.bias,
                         requant: t.requant, output: t.output, channel: t.channel, channels: t.channels)
    }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        tileI8MM(t.rows, pixels: 1, kPadded: t.kPadded, kQuads: t.kQuads, taps: t.taps, weights: t.weights, bias: t.bias,
                 requant: t.requant, output: t.output, pixelOutput: t.pixelOutput, channel: t.channel, channels: t.channels)
    }
}
