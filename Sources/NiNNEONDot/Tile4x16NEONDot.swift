// The dot product microkernels of the arm64 dot families (neondot's SDOT here, i8mm's USDOT in
// Sources/NiNI8MM): 4 output pixels x 16 channels (16 int32x4 accumulators, 4 weight vectors per
// K quad, each pixel's next 4 quads in one vector whose lanes the by-element instruction picks;
// 16 quads a round, each pixel's 32 bytes per 8 quads one ldp, the requantization group by group
// across the pixels), and 1 x 16. Generic over the instruction (`QuadDotInstruction`), specialized and inlined into
// each family's target with its flags. Every product is summed four at a time straight into
// int32: exact.

import _Builtin_intrinsics.arm.neon
import NiNKernelCore
import NiNNEON

/// A dot product instruction on quads: 4 int32 lanes, each += one weight quad (s8) . one input
/// quad, and how the inputs are prepared for it.
public protocol QuadDotInstruction {
    /// Whether inputs are shifted to s8 (x XOR 0x80, weights packed by `packQuadsShifted`):
    /// then every tap counts, padding included.
    static var shiftsInputs: Bool { get }
    /// `acc` + per lane c: `w`'s quad c . `x`'s quad (`x` holds one quad in all four lanes, as
    /// loaded: shifted where `shiftsInputs`).
    static func dot(_ acc: SIMD4<Int32>, _ w: SIMD16<Int8>, _ x: SIMD16<UInt8>) -> SIMD4<Int32>
}

/// neondot's SDOT: s8 x s8, on inputs shifted to s8.
public enum SignedDotNEONDot: QuadDotInstruction {
    @inlinable public static var shiftsInputs: Bool { true }
    @inlinable @inline(__always)
    public static func dot(_ acc: SIMD4<Int32>, _ w: SIMD16<Int8>, _ x: SIMD16<UInt8>) -> SIMD4<Int32> {
        vdotq_s32(acc, w, unsafeBitCast(x, to: SIMD16<Int8>.self))
    }
}

/// One pixel's 16 channels (4 per accumulator).
public struct DotSums16<D: QuadDotInstruction> {
    public var c0 = SIMD4<Int32>(), c1 = SIMD4<Int32>(), c2 = SIMD4<Int32>(), c3 = SIMD4<Int32>()

    /// The sums' start: the 16 channels' biases at `bias` (so the requantization adds none).
    @inlinable @inline(__always)
    public init(bias: UnsafePointer<Int32>) {
        let b = UnsafeRawPointer(bias)
        c0 = b.loadUnaligned(as: SIMD4<Int32>.self); c1 = b.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
        c2 = b.loadUnaligned(fromByteOffset: 32, as: SIMD4<Int32>.self); c3 = b.loadUnaligned(fromByteOffset: 48, as: SIMD4<Int32>.self)
    }

    /// The 16 bytes at `p` (four quads of a pixel), as the instruction takes them.
    @inlinable @inline(__always)
    public static func quads(_ p: UnsafeRawPointer) -> SIMD16<UInt8> {
        let x = p.loadUnaligned(as: SIMD16<UInt8>.self)
        return D.shiftsInputs ? x ^ SIMD16<UInt8>(repeating: 0x80) : x
    }

    /// The quad at `p` in lane 0 (the other lanes unused), as the instruction takes it.
    @inlinable @inline(__always)
    public static func quad(_ p: UnsafeRawPointer) -> SIMD16<UInt8> {
        let x = p.loadUnaligned(as: UInt32.self)
        return unsafeBitCast(SIMD4<UInt32>(repeating: D.shiftsInputs ? x ^ 0x8080_8080 : x), to: SIMD16<UInt8>.self)
    }

    /// Adds quad `lane` of `x` times the 16 channels' weights at `w` (the compiler folds the
    /// splat of the lane into the by-element instruction's index).
    @inlinable @inline(__always)
    public mutating func add(_ w: UnsafeRawPointer, _ x: SIMD16<UInt8>, lane: Int) {
        let q = unsafeBitCast(SIMD4<UInt32>(repeating: unsafeBitCast(x, to: SIMD4<UInt32>.self)[lane]), to: SIMD16<UInt8>.self)
        c0 = D.dot(c0, w.loadUnaligned(as: SIMD16<Int8>.self), q)
        c1 = D.dot(c1, w.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self), q)
        c2 = D.dot(c2, w.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int8>.self), q)
        c3 = D.dot(c3, w.loadUnaligned(fromByteOffset: 48, as: SIMD16<Int8>.self), q)
    }

    /// The 16 sums (bias included), requantized and stored (the first `channels` bytes at `output`).
    @inlinable @inline(__always)
    public func store(requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>, channels: Int) {
        requantizeAndStoreNEON(c0, c1, c2, c3, requant, output, channels)
    }
}

/// Eight K quads of four pixels (two 16-byte loads per pixel, one ldp) into their sums, the
/// weights at `w`; the pixels' pointers step past them.
@inlinable @inline(__always)
func step8<D: QuadDotInstruction>(_ s0: inout DotSums16<D>, _ s1: inout DotSums16<D>, _ s2: inout DotSums16<D>,
                                  _ s3: inout DotSums16<D>, _ w: UnsafeRawPointer, _ x0: inout UnsafeRawPointer,
                                  _ x1: inout UnsafeRawPointer, _ x2: inout UnsafeRawPointer, _ x3: inout UnsafeRawPointer) {
    typealias Sums = DotSums16<D>
    let a0 = Sums.quads(x0), a1 = Sums.quads(x1), a2 = Sums.quads(x2), a3 = Sums.quads(x3)
    let b0 = Sums.quads(x0 + 16), b1 = Sums.quads(x1 + 16), b2 = Sums.quads(x2 + 16), b3 = Sums.quads(x3 + 16)
    for lane in 0..<4 {
        let wl = w + 64 &* lane
        s0.add(wl, a0, lane: lane); s1.add(wl, a1, lane: lane)
        s2.add(wl, a2, lane: lane); s3.add(wl, a3, lane: lane)
    }
    for lane in 0..<4 {
        let wl = w + 256 + 64 &* lane
        s0.add(wl, b0, lane: lane); s1.add(wl, b1, lane: lane)
        s2.add(wl, b2, lane: lane); s3.add(wl, b3, lane: lane)
    }
    x0 += 32; x1 += 32; x2 += 32; x3 += 32
}

/// Four output pixels x 16 channels (`channels` real, 1 to 16) over the K quads of `taps`, then
/// requantized and stored at the pixels' rows of `output`, from `channel`.
@inlinable @inline(__always)
public func tile4x16Dot<D: QuadDotInstruction>(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                                               bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                                               channel: Int, channels: Int, instruction: D.Type) {
    typealias Sums = DotSums16<D>
    let start = Sums(bias: bias)
    var s0 = start, s1 = start, s2 = start, s3 = start
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        // One pointer per pixel, each stepped by itself, so that the loads take immediate
        // offsets or post-increments (no address arithmetic per load).
        var x0 = UnsafeRawPointer(a) + 4 &* start, x1 = x0 + kPadded, x2 = x1 + kPadded, x3 = x2 + kPadded
        var left = taps.length
        for _ in 0..<(left >> 4) {  // sixteen quads per round: two steps of eight
            step8(&s0, &s1, &s2, &s3, w, &x0, &x1, &x2, &x3)
            step8(&s0, &s1, &s2, &s3, w + 512, &x0, &x1, &x2, &x3)
            w += 1024
        }
        if left & 8 != 0 {
            step8(&s0, &s1, &s2, &s3, w, &x0, &x1, &x2, &x3)
            w += 512
        }
        left &= 7
        if left >= 4 {  // four quads per pixel load
            let a0 = Sums.quads(x0), a1 = Sums.quads(x1), a2 = Sums.quads(x2), a3 = Sums.quads(x3)
            for lane in 0..<4 {
                let wl = w + 64 &* lane
                s0.add(wl, a0, lane: lane); s1.add(wl, a1, lane: lane)
                s2.add(wl, a2, lane: lane); s3.add(wl, a3, lane: lane)
            }
            w += 256; x0 += 16; x1 += 16; x2 += 16; x3 += 16; left &-= 4
        }
        while left > 0 {
            s0.add(w, Sums.quad(x0), lane: 0); s1.add(w, Sums.quad(x1), lane: 0)
            s2.add(w, Sums.quad(x2), lane: 0); s3.add(w, Sums.quad(x3), lane: 0)
            w += 64; x0 += 4; x1 += 4; x2 += 4; x3 += 4; left &-= 1
        }
    }
    // Group by group across the four pixels, so each group's requantization rows load once.
    let g0 = Requant4NEON(requant, group: 0)
    let r00 = g0(s0.c0), r10 = g0(s1.c0), r20 = g0(s2.c0), r30 = g0(s3.c0)
    let g1 = Requant4NEON(requant, group: 1)
    let r01 = g1(s0.c1), r11 = g1(s1.c1), r21 = g1(s2.c1), r31 = g1(s3.c1)
    let g2 = Requant4NEON(requant, group: 2)
    let r02 = g2(s0.c2), r12 = g2(s1.c2), r22 = g2(s2.c2), r32 = g2(s3.c2)
    let g3 = Requant4NEON(requant, group: 3)
    let r03 = g3(s0.c3), r13 = g3(s1.c3), r23 = g3(s2.c3), r33 = g3(s3.c3)
    storeRequantizedNEON(r00, r01, r02, r03, output.row(0) + channel, channels)
    storeRequantizedNEON(r10, r11, r12, r13, output.row(1) + channel, channels)
    storeRequantizedNEON(r20, r21, r22, r23, output.row(2) + channel, channels)
    storeRequantizedNEON(r30, r31, r32, r33, output.row(3) + channel, channels)
}

/// One output pixel x 16 channels (`channels` real, 0 stores nothing), requantized and stored.
@inlinable @inline(__always)
public func pixel1x16Dot<D: QuadDotInstruction>(_ a: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                                                bias: UnsafePointer<Int32>, requant: UnsafeRawPointer,
                                                output: UnsafeMutablePointer<UInt8>, channels: Int, instruction: D.Type) {
    guard channels > 0 else { return }
    var s = DotSums16<D>(bias: bias)
    for start in taps.runStarts {
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = UnsafeRawPointer(a) + 4 &* start
        var left = taps.length
        while left >= 4 {
            let x0 = DotSums16<D>.quads(x)
            for lane in 0..<4 { s.add(w + 64 &* lane, x0, lane: lane) }
            w += 256; x += 16; left &-= 4
        }
        while left > 0 {
            s.add(w, DotSums16<D>.quad(x), lane: 0)
            w += 64; x += 4; left &-= 1
        }
    }
    s.store(requant: requant, output: output, channels: channels)
}

/// The dot families' tiles for the quad driver: 4 x 16 (two side by side make the 32-channel
/// tile) and one pixel at a time. With shifted inputs they count every tap (the shifted padding
/// bytes are in the bias); with u8 inputs they skip the padding taps as the x86 families do.
/// The im2col chunks: u8 values, whole 4-pixel tiles, 16 bytes of slack for its vector stores.
public enum DotTiles<D: QuadDotInstruction>: QuadTiles {
    @inlinable public static var pairTilePixels: Int { 4 }
    @inlinable public static var blockTilePixels: Int { 4 }
    @inlinable public static var skipsPaddingTaps: Bool { !D.shiftsInputs }
    @inlinable public static var im2col: Im2colScratch {
        Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 4, slack: 16)
    }

    @inlinable @inline(__always)
    public static func pairTile(_ t: QuadTileArguments) {
        tile4x16Dot(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant,
                    output: t.output, channel: t.channel, channels: 16, instruction: D.self)
        tile4x16Dot(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights + t.kQuads * 64, bias: t.bias + 16,
                    requant: t.requant + RequantBlock.bytes, output: t.output, channel: t.channel + 16,
                    channels: t.channels - 16, instruction: D.self)
    }

    @inlinable @inline(__always)
    public static func blockTile(_ t: QuadTileArguments) {
        tile4x16Dot(t.rows, kPadded: t.kPadded, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant,
                    output: t.output, channel: t.channel, channels: t.channels, instruction: D.self)
    }

    @inlinable @inline(__always)
    public static func pixel(_ t: QuadTileArguments) {
        pixel1x16Dot(t.rows, taps: t.taps, weights: t.weights, bias: t.bias, requant: t.requant, output: t.pixelOutput,
                     channels: t.channels, instruction: D.self)
    }
}
