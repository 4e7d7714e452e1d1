// AVX-512 VNNI convolution: im2col of output pixels into u8 (padding filled with the input zero
// point), taken in an order that lets border tiles skip the taps that lie in the padding; zmm
// microkernels on vpdpbusd (8 pixels x 32 channels, 16 x 16 for a last odd block, one pixel at
// a time for a part's last pixels; u8 x s8, four products summed straight into int32: no
// intermediate saturation, so exact), and the float32 requantization of QUANTIZATION.md in
// 5 to 7 zmm operations per 16 channels. Bit-exact with the reference kernel.
// Compiled with -mavx512vnni -mavx512vl in its own target; called only when the CPU has them.

import _Builtin_intrinsics.intel
import NiNAVX2

/// Geometry and pointers of one convolution call; everything is prepared by the caller.
public struct ConvolutionVNNIArguments {
    public var geometry: ConvolutionGeometry
    public var input: UnsafePointer<UInt8>
    public var output: UnsafeMutablePointer<UInt8>
    public var inputZeroPoint: UInt8
    /// Packed weights: per block of 16 output channels, `kQuads x 16 x 4` int8.
    public var weights: UnsafePointer<Int8>
    /// Per block of 16 channels, `RequantBlock.bytes` of requantization constants.
    public var requant: UnsafeRawPointer
    /// Per output channel (padded to 16): bias - z_in * sum(w), so that raw u8 inputs can be used.
    public var bias: UnsafePointer<Int32>
    /// K = kh * kw * C rounded up to a multiple of 4, in quads.
    public var kQuads: Int
    /// im2col scratch of `convolutionVNNIScratchBytes(outWidth:kQuads:)` bytes.
    public var scratch: UnsafeMutablePointer<UInt8>

    public init(geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                inputZeroPoint: UInt8, weights: UnsafePointer<Int8>, requant: UnsafeRawPointer,
                bias: UnsafePointer<Int32>, kQuads: Int, scratch: UnsafeMutablePointer<UInt8>) {
        self.geometry = geometry; self.input = input; self.output = output; self.inputZeroPoint = inputZeroPoint
        self.weights = weights; self.requant = requant; self.bias = bias; self.kQuads = kQuads; self.scratch = scratch
    }
}

/// Output pixels per microkernel tile.
let tileRows = 16

/// Bytes of im2col scratch a chunk may use. The chunk and the weights a chunk sweeps share the
/// L2 (1 MiB on Zen 4; the classic 5x5 layer's weights take 600 KiB): 96 KiB measured about 1%
/// faster than 192 KiB on the classic model, 64 KiB 2% slower.
public let convolutionVNNIScratchBudget = 96 * 1024

/// Output pixels per im2col chunk: whole tiles within the budget.
@inline(__always)
func chunkPixels(kPadded: Int) -> Int {
    max(tileRows, convolutionVNNIScratchBudget / max(kPadded, 1) / tileRows * tileRows)
}

/// Scratch bytes one thread needs for a layer of `totalRows` output rows: a chunk's im2col rows,
/// then its pixel table.
public func convolutionVNNIScratchBytes(outWidth: Int, kQuads: Int, totalRows: Int = .max) -> Int {
    let kPadded = 4 * kQuads
    let chunk = chunkPixels(kPadded: kPadded)
    let pixels = totalRows >= chunk ? chunk : min(chunk, totalRows * outWidth)  // (totalRows may be .max)
    let tiled = (pixels + tileRows - 1) / tileRows * tileRows
    return pixelTableOffset(tiledPixels: tiled, kPadded: kPadded) + tiled * MemoryLayout<PixelTaps>.stride
}

/// Where the pixel table starts: after the im2col rows of `tiledPixels` and 16 bytes of slack
/// (im2col may store a whole 16-byte vector for a shorter run, see copyRun), 64-byte aligned.
@inline(__always)
func pixelTableOffset(tiledPixels: Int, kPadded: Int) -> Int { (tiledPixels * kPadded + 16 + 63) / 64 * 64 }

/// Computes part `part` of `parts` of output rows `rows` (indices into batch x outHeight) of a
/// convolution. Their pixels are taken in `PixelOrder`; a part is a contiguous run of whole
/// 8-pixel tiles of that order (so parts differ by at most one tile, whatever the row count),
/// taken in chunks of whole tiles whose im2col fits the scratch budget; each 16-channel weight
/// block then sweeps the chunk, and the few pixels that do not fill a tile at the part's end go
/// one at a time. A 1x1, stride-1 convolution over a multiple of 4 channels needs no im2col:
/// its input pixels already are the rows of the product, so they are read in place.
public func convolutionVNNI(_ a: ConvolutionVNNIArguments, rows: Range<Int>, part: Int = 0, of parts: Int = 1) {
    let g = a.geometry
    let kPadded = 4 * a.kQuads
    let blocks = (g.outChannels + 15) / 16
    let direct = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
        && g.padTop == 0 && g.padLeft == 0 && g.inChannels % 4 == 0
    let skipPadding = a.inputZeroPoint == 0 && g.inChannels % 4 == 0 && !direct
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let tiles = (order.pixelCount + 7) / 8
    var first = tiles * part / parts * 8
    let end = min(order.pixelCount, tiles * (part + 1) / parts * 8)
    let chunk = direct ? max(end - first, 1) : chunkPixels(kPadded: kPadded)
    let rowsScratch = a.scratch
    // The table follows the rows of the largest chunk of this part (no larger than the layer's).
    let tiled = direct ? 0 : (min(chunk, end - first) + tileRows - 1) / tileRows * tileRows
    let table = UnsafeMutableRawPointer(a.scratch + (direct ? 0 : pixelTableOffset(tiledPixels: tiled, kPadded: kPadded)))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let directBase = rows.lowerBound * g.outWidth + first
        if !direct { im2col(a, order: order, pixels: first..<last, kPadded: kPadded, rows: rowsScratch, table: table) }
        // Rows of the product (pixel p's K bytes): in place, or im2col's.
        let source = direct ? a.input + directBase * kPadded : UnsafePointer(rowsScratch)
        @inline(__always) func tile(_ p: Int) -> UnsafePointer<UInt8> { source + p * kPadded }
        // The output rows and K runs of the tile of `count` pixels from p.
        @inline(__always) func destination(_ p: Int, _ count: Int) -> (TileOutput, TileTaps) {
            if direct {
                return (TileOutput(base: a.output + (directBase + p) * g.outChannels, stride: g.outChannels, table: nil),
                        TileTaps.all(a.kQuads))
            }
            return (TileOutput(base: a.output, stride: g.outChannels, table: UnsafePointer(table + p)),
                    taps(UnsafePointer(table + p), count: count, geometry: g, kGroups: a.kQuads, groupSize: 4, skip: skipPadding))
        }
        var block = 0
        while block + 1 < blocks {  // pairs of 16-channel blocks: 8 x 32 tiles
            let weights = a.weights + block * a.kQuads * 64
            let requant = a.requant + block * RequantBlock.bytes
            let channels = min(32, g.outChannels - block * 16)
            var p = 0
            while p + 8 <= pixels {
                let (output, taps) = destination(p, 8)
                tile8x32(tile(p), kPadded: kPadded, taps: taps, weights: weights, kQuads: a.kQuads,
                         bias: a.bias + block * 16, requant: requant, output: output, channel: block * 16,
                         channels: channels)
                p += 8
            }
            while p < pixels {  // the part's last few pixels, one at a time (a tile would cost 8)
                let (output, taps) = destination(p, 1)
                let low = min(channels, 16)
                pixel1x16(tile(p), taps: taps, weights: weights, bias: a.bias + block * 16, requant: requant,
                          output: output.row(0) + block * 16, channels: low)
                pixel1x16(tile(p), taps: taps, weights: weights + a.kQuads * 64, bias: a.bias + block * 16 + 16,
                          requant: requant + RequantBlock.bytes, output: output.row(0) + block * 16 + 16,
                          channels: channels - low)
                p += 1
            }
            block += 2
        }
        if block < blocks {  // a last single block: 16 x 16 tiles
            let weights = a.weights + block * a.kQuads * 64
            let requant = a.requant + block * RequantBlock.bytes
            let channels = g.outChannels - block * 16
            var p = 0
            while p + tileRows <= pixels {
                let (output, taps) = destination(p, tileRows)
                tile16x16(tile(p), kPadded: kPadded, taps: taps, weights: weights, bias: a.bias + block * 16,
                          requant: requant, output: output, channel: block * 16, channels: channels)
                p += tileRows
            }
            while p < pixels {  // the part's last few pixels, one at a time
                let (output, taps) = destination(p, 1)
                pixel1x16(tile(p), taps: taps, weights: weights, bias: a.bias + block * 16, requant: requant,
                          output: output.row(0) + block * 16, channels: channels)
                p += 1
            }
        }
        first = last
    }
}

/// Writes the im2col rows of the pixels at `pixels` in `order` into `rows`, and their table
/// entries: per pixel, kh x kw x C input bytes (the zero point where the window is in the
/// padding, which the bias correction cancels), then zeros up to `kPadded` (their weights are
/// zero).
@inline(__always)
private func im2col(_ a: ConvolutionVNNIArguments, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                    rows: UnsafeMutablePointer<UInt8>, table: UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels, z = a.inputZeroPoint
    let run = g.kernelWidth * c
    let inImage = g.inHeight * g.inWidth * c
    var dst = rows
    var entry = table
    order.forEachPixel(pixels) { row, n, oy, ox in
        let image = a.input + n * inImage
        let iy0 = oy * g.strideHeight - g.padTop
        let ix0 = ox * g.strideWidth - g.padLeft
        let taps = PixelTaps(pixel: row * g.outWidth + ox, y: oy, x: ox, geometry: g)
        entry.initialize(to: taps)
        entry += 1
        let kyStart = Int(taps.kyStart), kyEnd = Int(taps.kyEnd), kxStart = Int(taps.kxStart), kxEnd = Int(taps.kxEnd)
        let start = dst
        let rowStride = g.inWidth * c
        if kyStart == 0 && kyEnd == g.kernelHeight && kxStart == 0 && kxEnd == g.kernelWidth {
            // The whole window is inside: kernel rows are plain copies, short ones one vector each.
            var source = image + iy0 * rowStride + ix0 * c
            if run <= 16 && source + (g.kernelHeight - 1) * rowStride + 16 <= image + inImage {
                for _ in 0..<g.kernelHeight {
                    let v = _mm_loadu_si128(UnsafeRawPointer(source).assumingMemoryBound(to: __m128i.self))
                    _mm_storeu_si128(UnsafeMutableRawPointer(dst).assumingMemoryBound(to: __m128i.self), v)
                    source += rowStride
                    dst += run
                }
            } else {
                for _ in 0..<g.kernelHeight {
                    dst.update(from: source, count: run)
                    source += rowStride
                    dst += run
                }
            }
        } else {
            for ky in 0..<g.kernelHeight {
                let iy = iy0 + ky
                if iy < 0 || iy >= g.inHeight || kxEnd <= kxStart {
                    dst.initialize(repeating: z, count: run)
                } else {
                    if kxStart > 0 { dst.initialize(repeating: z, count: kxStart * c) }
                    copyRun(from: image + iy * rowStride + (ix0 + kxStart) * c, to: dst + kxStart * c,
                            count: (kxEnd - kxStart) * c, sourceEnd: image + inImage)
                    if kxEnd < g.kernelWidth { (dst + kxEnd * c).initialize(repeating: z, count: (g.kernelWidth - kxEnd) * c) }
                }
                dst += run
            }
        }
        // K is padded to whole quads with fewer than 4 zero bytes (their weights are zero too):
        // one 4-byte store, whose excess the next pixel, the chunk's spare room or the slack absorb.
        if g.kernelHeight * run < kPadded { UnsafeMutableRawPointer(dst).storeBytes(of: 0, as: UInt32.self) }
        dst = start + kPadded
    }
}

/// Copies `count` bytes. Short runs (a kernel row of a few channels, e.g. 11 bytes for the
/// classic first layer) move as one 16-byte vector when the source allows the over-read; the
/// bytes stored past `count` land where im2col writes next (the rest of this pixel, the next
/// pixel, the room for a chunk's last tile or the 16 bytes of scratch slack), never past the
/// scratch; no kernel reads bytes past a chunk's last pixel.
@inline(__always)
private func copyRun(from source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>, count: Int,
                     sourceEnd: UnsafePointer<UInt8>) {
    if count <= 16 && source + 16 <= sourceEnd {
        let v = _mm_loadu_si128(UnsafeRawPointer(source).assumingMemoryBound(to: __m128i.self))
        _mm_storeu_si128(UnsafeMutableRawPointer(destination).assumingMemoryBound(to: __m128i.self), v)
    } else {
        destination.update(from: source, count: count)
    }
}

/// One output pixel x 16 channels, for the last pixels of a part that do not fill a tile: four
/// accumulators over interleaved K quads (one would wait on vpdpbusd's latency), summed at the
/// end (int32 wrap-around is exact: the true sum fits); then requantized and stored. Per pixel
/// it costs about what a full tile does, so a part of 8n + 1 pixels no longer pays for 8n + 8.
@inline(__always)
private func pixel1x16(_ a: UnsafePointer<UInt8>, taps: TileTaps, weights: UnsafePointer<Int8>,
                       bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                       channels: Int) {
    guard channels > 0 else { return }
    let all: __mmask16 = 0xFFFF
    var s0 = _mm512_loadu_si512(UnsafeRawPointer(bias))
    var s1 = _mm512_setzero_si512(), s2 = _mm512_setzero_si512(), s3 = _mm512_setzero_si512()
    for run in 0..<taps.count {
        let start = taps.first &+ run &* taps.stride
        var w = UnsafeRawPointer(weights) + 64 &* start
        var x = UnsafeRawPointer(a) + 4 &* start
        var left = taps.length
        @inline(__always) func quad(_ i: Int) -> (__m512i, __m512i) {
            (_mm512_set1_epi32(x.loadUnaligned(fromByteOffset: 4 &* i, as: Int32.self)), _mm512_loadu_si512(w + 64 &* i))
        }
        while left >= 4 {
            let (x0, w0) = quad(0), (x1, w1) = quad(1), (x2, w2) = quad(2), (x3, w3) = quad(3)
            s0 = _mm512_mask_dpbusd_epi32(s0, all, x0, w0); s1 = _mm512_mask_dpbusd_epi32(s1, all, x1, w1)
            s2 = _mm512_mask_dpbusd_epi32(s2, all, x2, w2); s3 = _mm512_mask_dpbusd_epi32(s3, all, x3, w3)
            w += 256; x += 16; left &-= 4
        }
        while left > 0 {
            let (x0, w0) = quad(0)
            s0 = _mm512_mask_dpbusd_epi32(s0, all, x0, w0)
            w += 64; x += 4; left &-= 1
        }
    }
    let sum = _mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3))
    storeBytes(requantize16(sum, requant, isReLUFromZero(requant)), output, channels)
}

/// Sixteen output pixels x 16 channels: one zmm of weights per K quad (16 channels x 4), a
/// broadcast quad of each pixel, vpdpbusd into 16 zmm accumulators; then requantized and stored.
/// On Zen 4 a zmm vpdpbusd does the work of two ymm ones in one issue slot, so the loop issues
/// half the instructions of an 8 x 16 ymm tile.
@inline(__always)
private func tile16x16(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                       bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int,
                       channels: Int) {
    let b = _mm512_loadu_si512(UnsafeRawPointer(bias))
    var c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b
    var c8 = b, c9 = b, c10 = b, c11 = b, c12 = b, c13 = b, c14 = b, c15 = b
    let row = UnsafeRawPointer(a)
    let all: __mmask16 = 0xFFFF
    for run in 0..<taps.count {
      let start = taps.first &+ run &* taps.stride
      var w = UnsafeRawPointer(weights) + 64 &* start
      var quad = row + 4 &* start
      let end = w + 64 &* taps.length
      while w < end {
        let v = _mm512_loadu_si512(w)
        w += 64
        let pixels = quad
        quad += 4
        @inline(__always) func x(_ r: Int) -> __m512i {
            _mm512_set1_epi32(pixels.loadUnaligned(fromByteOffset: r &* kPadded, as: Int32.self))
        }
        c0 = _mm512_mask_dpbusd_epi32(c0, all, x(0), v); c1 = _mm512_mask_dpbusd_epi32(c1, all, x(1), v)
        c2 = _mm512_mask_dpbusd_epi32(c2, all, x(2), v); c3 = _mm512_mask_dpbusd_epi32(c3, all, x(3), v)
        c4 = _mm512_mask_dpbusd_epi32(c4, all, x(4), v); c5 = _mm512_mask_dpbusd_epi32(c5, all, x(5), v)
        c6 = _mm512_mask_dpbusd_epi32(c6, all, x(6), v); c7 = _mm512_mask_dpbusd_epi32(c7, all, x(7), v)
        c8 = _mm512_mask_dpbusd_epi32(c8, all, x(8), v); c9 = _mm512_mask_dpbusd_epi32(c9, all, x(9), v)
        c10 = _mm512_mask_dpbusd_epi32(c10, all, x(10), v); c11 = _mm512_mask_dpbusd_epi32(c11, all, x(11), v)
        c12 = _mm512_mask_dpbusd_epi32(c12, all, x(12), v); c13 = _mm512_mask_dpbusd_epi32(c13, all, x(13), v)
        c14 = _mm512_mask_dpbusd_epi32(c14, all, x(14), v); c15 = _mm512_mask_dpbusd_epi32(c15, all, x(15), v)
      }
    }
    let relu = isReLUFromZero(requant)
    @inline(__always) func storeRow(_ r: Int, _ acc: __m512i) {
        storeBytes(requantize16(acc, requant, relu), output.row(r) + channel, channels)
    }
    storeRow(0, c0); storeRow(1, c1); storeRow(2, c2); storeRow(3, c3)
    storeRow(4, c4); storeRow(5, c5); storeRow(6, c6); storeRow(7, c7)
    storeRow(8, c8); storeRow(9, c9); storeRow(10, c10); storeRow(11, c11)
    storeRow(12, c12); storeRow(13, c13); storeRow(14, c14); storeRow(15, c15)
}

/// Eight output pixels x 32 channels (two 16-channel blocks, read side by side from their packed
/// places): two zmm of weights and eight broadcast pixel quads per K quad feed 16 vpdpbusd, so
/// the loop loads 10 times per 16 instead of the 17 of the 16 x 16 tile.
@inline(__always)
private func tile8x32(_ a: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>,
                      kQuads: Int, bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                      channel: Int, channels: Int) {
    let b0 = _mm512_loadu_si512(UnsafeRawPointer(bias)), b1 = _mm512_loadu_si512(UnsafeRawPointer(bias + 16))
    var c0 = b0, c1 = b1, c2 = b0, c3 = b1, c4 = b0, c5 = b1, c6 = b0, c7 = b1
    var c8 = b0, c9 = b1, c10 = b0, c11 = b1, c12 = b0, c13 = b1, c14 = b0, c15 = b1
    let row = UnsafeRawPointer(a)
    let second = kQuads * 64  // the next block's weights
    let all: __mmask16 = 0xFFFF
    for run in 0..<taps.count {
      let start = taps.first &+ run &* taps.stride
      var w0 = UnsafeRawPointer(weights) + 64 &* start
      var quad = row + 4 &* start
      let end = w0 + 64 &* taps.length
      while w0 < end {
        let v0 = _mm512_loadu_si512(w0), v1 = _mm512_loadu_si512(w0 + second)
        w0 += 64
        let pixels = quad
        quad += 4
        @inline(__always) func x(_ r: Int) -> __m512i {
            _mm512_set1_epi32(pixels.loadUnaligned(fromByteOffset: r &* kPadded, as: Int32.self))
        }
        let x0 = x(0), x1 = x(1), x2 = x(2), x3 = x(3)
        c0 = _mm512_mask_dpbusd_epi32(c0, all, x0, v0); c1 = _mm512_mask_dpbusd_epi32(c1, all, x0, v1)
        c2 = _mm512_mask_dpbusd_epi32(c2, all, x1, v0); c3 = _mm512_mask_dpbusd_epi32(c3, all, x1, v1)
        c4 = _mm512_mask_dpbusd_epi32(c4, all, x2, v0); c5 = _mm512_mask_dpbusd_epi32(c5, all, x2, v1)
        c6 = _mm512_mask_dpbusd_epi32(c6, all, x3, v0); c7 = _mm512_mask_dpbusd_epi32(c7, all, x3, v1)
        let x4 = x(4), x5 = x(5), x6 = x(6), x7 = x(7)
        c8 = _mm512_mask_dpbusd_epi32(c8, all, x4, v0); c9 = _mm512_mask_dpbusd_epi32(c9, all, x4, v1)
        c10 = _mm512_mask_dpbusd_epi32(c10, all, x5, v0); c11 = _mm512_mask_dpbusd_epi32(c11, all, x5, v1)
        c12 = _mm512_mask_dpbusd_epi32(c12, all, x6, v0); c13 = _mm512_mask_dpbusd_epi32(c13, all, x6, v1)
        c14 = _mm512_mask_dpbusd_epi32(c14, all, x7, v0); c15 = _mm512_mask_dpbusd_epi32(c15, all, x7, v1)
      }
    }
    let requant1 = requant + RequantBlock.bytes
    let relu = isReLUFromZero(requant)
    let low = min(channels, 16), high = channels - low
    @inline(__always) func storeRow(_ r: Int, _ first: __m512i, _ second: __m512i) {
        let o = output.row(r) + channel
        storeBytes(requantize16(first, requant, relu), o, low)
        if high > 0 { storeBytes(requantize16(second, requant1, relu), o + 16, high) }
    }
    storeRow(0, c0, c1); storeRow(1, c2, c3); storeRow(2, c4, c5); storeRow(3, c6, c7)
    storeRow(4, c8, c9); storeRow(5, c10, c11); storeRow(6, c12, c13); storeRow(7, c14, c15)
}

/// Stores the first `channels` (1 to 16) of 16 requantized bytes with one masked store: no
/// branch, and no call that would make the compiler spill the tile's accumulators.
@inline(__always)
func storeBytes(_ bytes: __m128i, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    _mm_mask_storeu_epi8(output, __mmask16(truncatingIfNeeded: (1 << channels) - 1), bytes)
}

/// Whether a layer's outputs are ReLU outputs with zero point 0 (every NiN layer but a last
/// one without ReLU): then requantization needs no upper clamp and no zero point (below).
@inline(__always)
func isReLUFromZero(_ r: UnsafeRawPointer) -> Bool {
    r.load(fromByteOffset: RequantBlock.low, as: Float.self) == 0 && r.load(fromByteOffset: RequantBlock.zeroPoint, as: Int32.self) == 0
}

/// Requantizes one pixel's 16 int32 accumulators to 16 bytes, exactly as the reference
/// (QUANTIZATION.md): float32 scaling, a clamp to [floor - z, 255 - z], conversion rounding half
/// to even (the default MXCSR mode), + z, and a narrowing `vpmovusdb`: 7 operations. For a ReLU
/// layer with z = 0 (`relu`), 5: the clamp at 0, then the unsigned conversion, which gives
/// 2^32 - 1 for values beyond its range, and `vpmovusdb`'s saturation are the clamp at 255.
@inline(__always)
func requantize16(_ acc: __m512i, _ r: UnsafeRawPointer, _ relu: Bool) -> __m128i {
    func load(_ offset: Int) -> __m512 { _mm512_loadu_ps(r + offset) }
    let scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), load(RequantBlock.scale))
    if relu {
        return _mm512_cvtusepi32_epi8(_mm512_cvtps_epu32(_mm512_max_ps(scaled, _mm512_setzero_ps())))
    }
    let clamped = _mm512_min_ps(_mm512_max_ps(scaled, load(RequantBlock.low)), load(RequantBlock.high))
    let z = _mm512_loadu_si512(r + RequantBlock.zeroPoint)
    return _mm512_cvtusepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(clamped), z))
}
