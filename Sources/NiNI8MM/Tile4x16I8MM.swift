// The i8mm family's microkernels: `usmmla` (u8 x s8 2 x 8 by 8 x 2 matrix multiply-accumulate
// into a 2 x 2 int32 tile: 32 products per instruction, twice a dot product's) on pixel pairs x
// channel pairs. 4 output pixels (two pairs) x 16 channels (eight pairs): 16 int32x4
// accumulators, 8 weight vectors per K octet (`packI8MM`'s layout), each pair's next two octets
// two 16-byte vectors as they are (the chunk's rows arranged pair by pair: PairRowsI8MM.swift);
// and 1 x 16 on a pixel's own row (the pixel paired with itself, two octets a 16-byte load and
// a zip). Every product is summed into int32: exact.

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

/// One output pixel x 16 channels (`channels` real; 0 stores nothing) on the pixel's own row
/// at `x` (paired with itself: only the first pixel's sums are read), over the K quads of
/// `taps` (runs may start or end mid-octet: the quad alone, the other half's inputs zero),
/// requantized and stored at `output`.
@inline(__always)
func tile1x16I8MM(_ x: UnsafePointer<UInt8>, kQuads: Int, taps: TileTaps, weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
                  requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>, channels: Int) {
    guard channels > 0 else { return }
    var s = PairSums16(bias: UnsafeRawPointer(bias))
    let w0 = UnsafeRawPointer(weights)
    for start in taps.runStarts {
        var x = UnsafeRawPointer(x) + 4 &* start
        var quad = start
        let end = start &+ taps.length
        if quad & 1 == 1 {  // a run from an octet's second quad
            s.add(w0 + 64 &* (quad &- 1), quadPair(x, x, high: true))
            quad &+= 1; x += 4
        }
        var w = w0 + 64 &* quad
        for _ in 0..<((end &- quad) >> 2) {  // two octets per 16-byte load
            let v = x.loadUnaligned(as: SIMD2<UInt64>.self)
            s.add(w, unsafeBitCast(vzip1q_u64(v, v), to: SIMD16<UInt8>.self))
            s.add(w + 128, unsafeBitCast(vzip2q_u64(v, v), to: SIMD16<UInt8>.self))
            w += 256; x += 16
        }
        let left = (end &- quad) & 3
        if left >= 2 {  // one octet
            s.add(w, octetPair(x, x))
            w += 128; x += 8
        }
        if left & 1 == 1 {  // one quad: an octet's first, or K's last of an odd number
            if end == kQuads { s.addLastQuad(w, quadPair(x, x, high: false)) } else { s.add(w, quadPair(x, x, high: false)) }
        }
    }
    let (a0, a1, a2, a3) = s.pixel(second: false)
    storeRequantizedNEON(requantize4NEON(a0, requant, group: 0), requantize4NEON(a1, requant, group: 1),
                         requantize4NEON(a2, requant, group: 2), requantize4NEON(a3, requant, group: 3), output, channels)
}

/// 4 output pixels (pixel pairs 0-1 and 2-3, their rows arranged at `rows`: PairRowsI8MM.swift)
/// x 16 channels (`channels` real; 0 stores nothing) over the K quads of `taps` (runs may start
/// or end mid-octet: the quad alone, the other half of each pixel's 8 bytes masked to zero),
/// requantized and stored at the pixels' rows of `output` from `channel`.
@inline(__always)
func tile4x16I8MM(_ rows: UnsafePointer<UInt8>, kPadded: Int, kQuads: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
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
        // Two octets: each pair's two 16-byte vectors, each weight vector loaded once for both pairs.
        @inline(__always) func twoOctets(_ w: UnsafeRawPointer, _ u0: UnsafeRawPointer, _ u1: UnsafeRawPointer) {
            let a0 = u0.loadUnaligned(as: SIMD16<UInt8>.self), a1 = u0.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
            let b0 = u1.loadUnaligned(as: SIMD16<UInt8>.self), b1 = u1.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
            s.add(w, a0); t.add(w, b0)
            s.add(w + 128, a1); t.add(w + 128, b1)
        }
        // Eight octets per step, until the weights' pointer reaches its end (no counter to update).
        let steps = (end &- quad) >> 4
        if steps > 0 {
            let wEnd = w + 1024 &* steps
            repeat {
                twoOctets(w, u0, u1)
                twoOctets(w + 256, u0 + 32, u1 + 32)
                twoOctets(w + 512, u0 + 64, u1 + 64)
                twoOctets(w + 768, u0 + 96, u1 + 96)
                w += 1024; u0 += 128; u1 += 128
            } while w != wEnd
        }
        if (end &- quad) & 8 != 0 {
            twoOctets(w, u0, u1)
            twoOctets(w + 256, u0 + 32, u1 + 32)
            w += 512; u0 += 64; u1 += 64
        }
        if (end &- quad) & 4 != 0 {
            twoOctets(w, u0, u1)
            w += 256; u0 += 32; u1 += 32
        }
        let left = (end &- quad) & 3
        if left >= 2 {  // one octet
            s.add(w, u0.loadUnaligned(as: SIMD16<UInt8>.self))
            t.add(w, u1.loadUnaligned(as: SIMD16<UInt8>.self))
            w += 128; u0 += 16; u1 += 16
        }
        if left & 1 == 1 {  // one quad: an octet's first, or K's last of an odd number
            if end == kQuads {
                // (the pair's 8 bytes, each pixel's quad moved to the low half of its 8)
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
    // Two groups of four channels at a time across the four pixels (their requantization rows
    // loaded once, the sums they need unzipped as they go, so no register spills), each pixel's
    // eight values narrowed to int16 at once: channels 0-7, then 8-15.
    @inline(__always) func unzip(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> (SIMD4<Int32>, SIMD4<Int32>) {
        let a2 = unsafeBitCast(a, to: SIMD2<UInt64>.self), b2 = unsafeBitCast(b, to: SIMD2<UInt64>.self)
        return (unsafeBitCast(vzip1q_u64(a2, b2), to: SIMD4<Int32>.self), unsafeBitCast(vzip2q_u64(a2, b2), to: SIMD4<Int32>.self))
    }
    @inline(__always) func eight(_ g: Int, _ s0: SIMD4<Int32>, _ s1: SIMD4<Int32>, _ s2: SIMD4<Int32>, _ s3: SIMD4<Int32>,
                                 _ t0: SIMD4<Int32>, _ t1: SIMD4<Int32>, _ t2: SIMD4<Int32>, _ t3: SIMD4<Int32>)
        -> (SIMD8<Int16>, SIMD8<Int16>, SIMD8<Int16>, SIMD8<Int16>) {
        let ga = Requant4NEON(requant, group: g), gb = Requant4NEON(requant, group: g + 1)
        let (a0, c0) = unzip(s0, s1), (a1, c1) = unzip(s2, s3), (d0, e0) = unzip(t0, t1), (d1, e1) = unzip(t2, t3)
        @inline(__always) func narrow(_ x: SIMD4<Int32>, _ y: SIMD4<Int32>) -> SIMD8<Int16> {
            vcombine_s16(vmovn_s32(ga(x)), vmovn_s32(gb(y)))
        }
        return (narrow(a0, a1), narrow(c0, c1), narrow(d0, d1), narrow(e0, e1))
    }
    let low = eight(0, s.p0, s.p1, s.p2, s.p3, t.p0, t.p1, t.p2, t.p3)
    let high = eight(2, s.p4, s.p5, s.p6, s.p7, t.p4, t.p5, t.p6, t.p7)
    // Every value is in [0, 255]: the saturating narrowing is exact (as storeRequantizedNEON's).
    @inline(__always) func store(_ l: SIMD8<Int16>, _ h: SIMD8<Int16>, _ row: Int) {
        let bytes: SIMD16<UInt8> = vcombine_u8(vqmovun_s16(l), vqmovun_s16(h))
        let to = output.row(row) + channel
        if channels == 16 {
            UnsafeMutableRawPointer(to).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
        } else {
            for c in 0..<channels { to[c] = bytes[c] }
        }
    }
    store(low.0, high.0, 0); store(low.1, high.1, 1); store(low.2, high.2, 2); store(low.3, high.3, 3)
}

/// The i8mm tiles for the quad driver: 4 x 16 (on each block of a 32-channel tile) on the
/// chunk's rows arranged pair by pair, and one pixel at a time on its own row, on `packI8MM`'s
/// weights; u8 inputs as they are, so padding taps are skipped where the input zero point is 0.
/// The im2col chunks: u8 values, whole 4-pixel tiles, 16 bytes of slack. The 32-channel tile is
/// the 4 x 16 tile on each block (`QuadBlockTiles`).
enum MatrixTilesI8MM: QuadBlockTiles {
    static var blockTilePixels: Int { 4 }
    static var im2col: Im2colScratch { Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 4, slack: 16) }

    /// The 4 x 16 tiles read each pixel pair's rows side by side (PairRowsI8MM.swift): arranged
    /// once per chunk for all its blocks, instead of zipped on each.
    static var arrangesRows: Bool { true }

    /// Each whole tile's two pixel pairs side by side, the last few pixels' rows as they are.
    @inline(__always)
    static func arrange(_ rows: UnsafePointer<UInt8>, pixels: Int, kPadded: Int, into arranged: UnsafeMutablePointer<UInt8>) {
        arrangeRowsI8MM(rows, pixels: pixels, kPadded: kPadded, tilePixels: blockTilePixels, into: arranged)
    }

    @inline(__always)
    static func blockTile(_ t: QuadTileArguments) {
        tile4x16I8MM(t.rows, kPadded: t.kPadded, kQuads: t.kQuads, taps: t.taps, weights: t.weights, bias: t.bias,
                     requant: t.requant, output: t.output, channel: t.channel, channels: t.channels)
    }

    @inline(__always)
    static func pixel(_ t: QuadTileArguments) {
        tile1x16I8MM(t.rows, kQuads: t.kQuads, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant,
                     output: t.pixelOutput, channels: t.channels)
    }
}
