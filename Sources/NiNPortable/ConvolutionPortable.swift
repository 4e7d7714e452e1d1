// The portable convolution: im2col of a chunk of output pixels into int16 (zero point
// subtracted), then 2x16 tiles (Tile2x16Portable.swift) that skip the kernel taps lying in the
// padding, and the float32 requantization of QUANTIZATION.md (RequantizePortable.swift). Plain
// Swift with no ISA flags: what the compiler vectorizes for the baseline target (SSE2 on x86-64,
// NEON on arm64). Bit-exact with the reference kernel. The same scheme as the AVX2 family's
// int16 path, at half its vector width.

import NiNKernelCore

/// The im2col chunks of the portable convolution: int16 values, whole 2-pixel tiles, 192 KiB.
let im2colPortable = Im2colScratch(budget: 192 * 1024, valueBytes: 2, tilePixels: 2, slack: 0)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
public func convolutionPortableScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    im2colPortable.bytes(outWidth: geometry.outWidth, kPadded: 2 * ((geometry.kernelSize + 1) / 2), totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with the weights packed by `packPortable`. Their pixels are
/// taken in `PixelOrder`; a part is a run of whole 2-pixel tiles of that order, taken in chunks
/// whose im2col fits the scratch budget; each 16-channel weight block then sweeps the chunk. A
/// tile reads only the K pairs of the kernel taps that reach the image for one of its pixels:
/// im2col stores padding as 0 (x - z with x = z), so skipping the others is exact for any zero
/// point (when the channels are even, so that taps start on a pair).
public func convolutionPortable(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    let g = a.geometry
    let rows = 0..<a.rowCount
    let kPairs = a.kGroups
    let scratch = a.scratch.assumingMemoryBound(to: Int16.self)
    let packedWeights = a.weights.assumingMemoryBound(to: Int16.self)
    let kPadded = 2 * kPairs
    let blocks = (g.outChannels + 15) / 16
    let tile = im2colPortable.tilePixels
    // A 1x1, stride-1, unpadded conv over an even channel count: pixels in place, in order, and
    // their im2col is one contiguous widening.
    let pointwise = g.isPointwise && g.padTop == 0 && g.padLeft == 0 && g.inChannels == kPadded
    let skipPadding = g.inChannels % 2 == 0 && !pointwise
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let tiles = (order.pixelCount + tile - 1) / tile
    var first = tiles * part / parts * tile
    let end = min(order.pixelCount, tiles * (part + 1) / parts * tile)
    let chunk = im2colPortable.chunkPixels(kPadded: kPadded)
    let tiled = im2colPortable.tiled(min(chunk, max(end - first, 0)))
    let table = a.scratch.advanced(by: im2colPortable.pixelTableOffset(tiledPixels: tiled, kPadded: kPadded))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let firstPixel = rows.lowerBound * g.outWidth + first  // (in place: the order is plain)
        if pointwise {
            widen(a.input + firstPixel * kPadded, scratch, count: pixels * kPadded, zeroPoint: Int16(a.inputZeroPoint))
        } else {
            im2col(a, order: order, pixels: first..<last, kPadded: kPadded, rows: scratch, table: table)
        }
        let padded = (pixels + tile - 1) / tile * tile
        if padded > pixels {
            (scratch + pixels * kPadded).initialize(repeating: 0, count: (padded - pixels) * kPadded)
        }
        for block in 0..<blocks {
            let weights = packedWeights + block * kPairs * 32
            let requant = a.requant + block * RequantBlock.bytes
            let bias = a.bias + block * 16
            let channels = min(16, g.outChannels - block * 16)
            var p = 0
            while p < pixels {
                let count = min(tile, pixels - p)
                let rowTable = UnsafePointer(table + p)
                let output = pointwise
                    ? TileOutput(base: a.output + (firstPixel + p) * g.outChannels + block * 16, stride: g.outChannels, table: nil)
                    : TileOutput(base: a.output + block * 16, stride: g.outChannels, table: rowTable)
                tile2x16(scratch + p * kPadded, kPadded: kPadded,
                         taps: pointwise ? .all(kPairs)
                             : taps(rowTable, count: count, geometry: g, kGroups: kPairs, groupSize: 2, skip: skipPadding),
                         weights: weights, bias: bias, requant: requant, output: output, rows: count, channels: channels)
                p += tile
            }
        }
        first = last
    }
}

/// Writes the im2col rows of the pixels at `pixels` in `order` into `rows`, and their
/// table entries: per pixel, kh x kw x C int16 values `x - z` (0 where the window is in the
/// padding), then zeros up to `kPadded`.
@inline(__always)
private func im2col(_ a: ConvolutionCall, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                    rows: UnsafeMutablePointer<Int16>, table: UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels, z = Int16(a.inputZeroPoint)
    let inImage = g.inHeight * g.inWidth * c
    var dst = rows
    var entry = table
    order.forEachPixel(pixels) { row, n, oy, ox in
        let image = a.input + n * inImage
        entry.initialize(to: PixelTaps(pixel: row * g.outWidth + ox, y: oy, x: ox, geometry: g))
        entry += 1
        let start = dst
        let iy0 = oy * g.strideHeight - g.padTop
        let ix0 = ox * g.strideWidth - g.padLeft
        let kxStart = max(0, -ix0), kxEnd = min(g.kernelWidth, g.inWidth - ix0)
        for ky in 0..<g.kernelHeight {
            let iy = iy0 + ky
            if iy < 0 || iy >= g.inHeight || kxEnd <= kxStart {
                dst.initialize(repeating: 0, count: g.kernelWidth * c)
                dst += g.kernelWidth * c
                continue
            }
            if kxStart > 0 {
                dst.initialize(repeating: 0, count: kxStart * c)
                dst += kxStart * c
            }
            widen(image + (iy * g.inWidth + ix0 + kxStart) * c, dst, count: (kxEnd - kxStart) * c, zeroPoint: z)
            dst += (kxEnd - kxStart) * c
            if kxEnd < g.kernelWidth {
                dst.initialize(repeating: 0, count: (g.kernelWidth - kxEnd) * c)
                dst += (g.kernelWidth - kxEnd) * c
            }
        }
        let used = g.kernelHeight * g.kernelWidth * c
        if used < kPadded { dst.initialize(repeating: 0, count: kPadded - used) }
        dst = start + kPadded
    }
}

/// dst[i] = src[i] - zeroPoint as int16: a plain loop, which the loop vectorizer widens
/// (punpcklbw + psubw on SSE2).
@inline(__always)
private func widen(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Int16>, count: Int, zeroPoint: Int16) {
    for i in 0..<count { dst[i] = Int16(src[i]) &- zeroPoint }
}
