// AVX-512 VNNI convolution: im2col of output pixels into u8 (padding filled with the input zero
// point), taken in an order that lets border tiles skip the taps that lie in the padding; zmm
// microkernels on vpdpbusd (Tile8x32AVX512VNNI.swift; Tile16x16AVX512VNNI.swift for a last odd
// block; Pixel1x16AVX512VNNI.swift for a part's last pixels; u8 x s8, four products summed
// straight into int32: no intermediate saturation, so exact), and the float32 requantization
// of QUANTIZATION.md in 5 to 7 zmm operations per 16 channels (RequantizeAVX512VNNI.swift).
// Bit-exact with the reference kernel.
// Compiled with -mavx512vnni -mavx512vl in its own target; called only when the CPU has them.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Output pixels per microkernel tile.
let tileRows = 16

/// The im2col chunks of the VNNI convolution: u8 values, whole 16-pixel tiles, and 16 bytes of
/// slack after the rows (im2col may store a whole 16-byte vector for a shorter run, see
/// copyRun). The chunk and the weights a chunk sweeps share the L2 (1 MiB on Zen 4; the classic
/// 5x5 layer's weights take 600 KiB): 96 KiB measured about 1% faster than 192 KiB on the
/// classic model, 64 KiB 2% slower.
let im2colVNNI = Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: tileRows, slack: 16)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
public func convolutionVNNIScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colVNNI.bytes(outWidth: geometry.outWidth, kPadded: 4 * ((geometry.kernelSize + 3) / 4), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with the weights packed by `packAVX512VNNI`. Their pixels
/// are taken in `PixelOrder`; a part is a contiguous run of whole 8-pixel tiles of that order (so parts differ by at most one tile, whatever the row count),
/// taken in chunks of whole tiles whose im2col fits the scratch budget; each 16-channel weight
/// block then sweeps the chunk, and the few pixels that do not fill a tile at the part's end go
/// one at a time. A 1x1, stride-1 convolution over a multiple of 4 channels needs no im2col:
/// its input pixels already are the rows of the product, so they are read in place.
public func convolutionVNNI(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    let g = a.geometry
    let rows = 0..<a.rowCount
    let kQuads = a.kGroups
    let packedWeights = a.weights.assumingMemoryBound(to: Int8.self)
    let scratch = a.scratch.assumingMemoryBound(to: UInt8.self)
    let kPadded = 4 * kQuads
    let blocks = (g.outChannels + 15) / 16
    let pointwise = g.isPointwise
        && g.padTop == 0 && g.padLeft == 0 && g.inChannels % 4 == 0
    let skipPadding = a.inputZeroPoint == 0 && g.inChannels % 4 == 0 && !pointwise
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let tiles = (order.pixelCount + 7) / 8
    var first = tiles * part / parts * 8
    let end = min(order.pixelCount, tiles * (part + 1) / parts * 8)
    let chunk = pointwise ? max(end - first, 1) : im2colVNNI.chunkPixels(kPadded: kPadded)
    let rowsScratch = scratch
    // The table follows the rows of the largest chunk of this part (no larger than the layer's).
    let tiled = pointwise ? 0 : im2colVNNI.tiled(min(chunk, end - first))
    let table = UnsafeMutableRawPointer(scratch + (pointwise ? 0 : im2colVNNI.pixelTableOffset(tiledPixels: tiled, kPadded: kPadded)))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let pointwiseBase = rows.lowerBound * g.outWidth + first
        if !pointwise { im2col(a, order: order, pixels: first..<last, kPadded: kPadded, rows: rowsScratch, table: table) }
        // Rows of the product (pixel p's K bytes): in place, or im2col's.
        let source = pointwise ? a.input + pointwiseBase * kPadded : UnsafePointer(rowsScratch)
        @inline(__always) func tile(_ p: Int) -> UnsafePointer<UInt8> { source + p * kPadded }
        // The output rows and K runs of the tile of `count` pixels from p.
        @inline(__always) func destination(_ p: Int, _ count: Int) -> (TileOutput, TileTaps) {
            if pointwise {
                return (TileOutput(base: a.output + (pointwiseBase + p) * g.outChannels, stride: g.outChannels, table: nil),
                        TileTaps.all(kQuads))
            }
            return (TileOutput(base: a.output, stride: g.outChannels, table: UnsafePointer(table + p)),
                    taps(UnsafePointer(table + p), count: count, geometry: g, kGroups: kQuads, groupSize: 4, skip: skipPadding))
        }
        var block = 0
        while block + 1 < blocks {  // pairs of 16-channel blocks: 8 x 32 tiles
            let weights = packedWeights + block * kQuads * 64
            let requant = a.requant + block * RequantBlock.bytes
            let channels = min(32, g.outChannels - block * 16)
            var p = 0
            while p + 8 <= pixels {
                let (output, taps) = destination(p, 8)
                tile8x32(tile(p), kPadded: kPadded, taps: taps, weights: weights, kQuads: kQuads,
                         bias: a.bias + block * 16, requant: requant, output: output, channel: block * 16,
                         channels: channels)
                p += 8
            }
            while p < pixels {  // the part's last few pixels, one at a time (a tile would cost 8)
                let (output, taps) = destination(p, 1)
                let low = min(channels, 16)
                pixel1x16(tile(p), taps: taps, weights: weights, bias: a.bias + block * 16, requant: requant,
                          output: output.row(0) + block * 16, channels: low)
                pixel1x16(tile(p), taps: taps, weights: weights + kQuads * 64, bias: a.bias + block * 16 + 16,
                          requant: requant + RequantBlock.bytes, output: output.row(0) + block * 16 + 16,
                          channels: channels - low)
                p += 1
            }
            block += 2
        }
        if block < blocks {  // a last single block: 16 x 16 tiles
            let weights = packedWeights + block * kQuads * 64
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

/// The u8 im2col of `convolutionVNNI` (below), for the AMX family, whose rows are the same.
public func im2colU8(_ a: ConvolutionCall, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                     rows: UnsafeMutablePointer<UInt8>, table: UnsafeMutablePointer<PixelTaps>) {
    im2col(a, order: order, pixels: pixels, kPadded: kPadded, rows: rows, table: table)
}

/// Writes the im2col rows of the pixels at `pixels` in `order` into `rows`, and their table
/// entries: per pixel, kh x kw x C input bytes (the zero point where the window is in the
/// padding, which the bias correction cancels), then zeros up to `kPadded` (their weights are
/// zero).
@inline(__always)
private func im2col(_ a: ConvolutionCall, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                    rows: UnsafeMutablePointer<UInt8>, table: UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels, z = UInt8(truncatingIfNeeded: a.inputZeroPoint)
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
