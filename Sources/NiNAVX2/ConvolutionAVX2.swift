// AVX2 convolution: im2col of a chunk of output pixels into int16 (zero point subtracted), then
// 4x16 tiles (Tile4x16AVX2.swift) that skip the kernel taps lying in the padding, and the float32
// requantization of QUANTIZATION.md (RequantizeAVX2.swift). Bit-exact with the reference
// kernel. Compiled with -mavx2 -mfma in its own target; called only when the CPU has AVX2.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// The im2col chunks of the AVX2 convolution: int16 values, whole 4-pixel tiles, 192 KiB (with
/// one 16-channel weight block a chunk stays in L2).
let im2colAVX2 = Im2colScratch(budget: 192 * 1024, valueBytes: 2, tilePixels: 4, slack: 0)

/// The im2col chunks of the AVX2 u8 convolution (`convolveQuads`): whole 4-pixel tiles, 16 bytes
/// of slack for im2col's vector stores.
let im2colMaddubs = Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: 4, slack: 16)

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows (either kernel).
public func convolutionAVX2ScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    max(im2colAVX2.bytes(outWidth: geometry.outWidth, kPadded: 2 * ((geometry.kernelSize + 1) / 2), totalRows: totalRows),
        im2colMaddubs.bytes(outWidth: geometry.outWidth, kPadded: quadPaddedK(geometry), totalRows: totalRows))
}

/// The name of the AVX2 kernel of a packed layer's `variant`: the vpmaddubsw step, or int16.
public func avx2KernelName(variant: Int) -> String {
    switch MaddubsStep(rawValue: variant) {
    case .quadPairs: "maddubs, 4-product int16 sums"
    case .pairs: "maddubs, 2-product int16 sums"
    case nil: "int16"
    }
}

/// Computes part `part` of `parts` of the output rows of a convolution call with the kernel
/// `packAVX2` chose for it: vpmaddubsw on u8 (`convolveQuads`) when no int16 sum can saturate,
/// else the int16 kernel below.
public func convolutionAVX2(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    switch MaddubsStep(rawValue: a.variant) {
    case .quadPairs: convolveQuads(a, part: part, of: parts, layout: im2colMaddubs, tiles: MaddubsQuadPairTiles.self)
    case .pairs: convolveQuads(a, part: part, of: parts, layout: im2colMaddubs, tiles: MaddubsPairTiles.self)
    case nil: convolutionAVX2Int16(a, part: part, of: parts)
    }
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with the weights packed by `packAVX2`. Their pixels are
/// taken in `PixelOrder` (Sources/NiNKernelCore/PixelOrder.swift); a part is a run of whole
/// 4-pixel tiles of that order, taken in chunks whose im2col fits the scratch budget; each
/// 16-channel weight block then sweeps the chunk, so weights stream from cache once per chunk.
/// A tile reads only the K pairs of the kernel taps that reach the image for one of its pixels:
/// im2col stores padding as 0 (x - z with x = z), so skipping the others is exact for any zero
/// point (when the channels are even, so that taps start on a pair).
func convolutionAVX2Int16(_ a: ConvolutionCall, part: Int, of parts: Int) {
    let g = a.geometry
    let rows = 0..<a.rowCount
    let kPairs = a.kGroups
    let scratch = a.scratch.assumingMemoryBound(to: Int16.self)
    let packedWeights = a.weights.assumingMemoryBound(to: Int16.self)
    let kPadded = 2 * kPairs
    let blocks = (g.outChannels + 15) / 16
    // A 1x1, stride-1, unpadded conv over an even channel count: pixels in place, in order, and
    // their im2col is one contiguous widening.
    let pointwise = g.isPointwise
        && g.padTop == 0 && g.padLeft == 0 && g.inChannels == kPadded
    let skipPadding = g.inChannels % 2 == 0 && !pointwise
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let tiles = (order.pixelCount + 3) / 4
    var first = tiles * part / parts * 4
    let end = min(order.pixelCount, tiles * (part + 1) / parts * 4)
    let chunk = im2colAVX2.chunkPixels(kPadded: kPadded)
    let tiled = im2colAVX2.tiled(min(chunk, max(end - first, 0)))
    let table = a.scratch.advanced(by: im2colAVX2.pixelTableOffset(tiledPixels: tiled, kPadded: kPadded))
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
        let padded = (pixels + 3) / 4 * 4
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
                let count = min(4, pixels - p)
                let rowTable = UnsafePointer(table + p)
                let output = pointwise
                    ? TileOutput(base: a.output + (firstPixel + p) * g.outChannels + block * 16, stride: g.outChannels, table: nil)
                    : TileOutput(base: a.output + block * 16, stride: g.outChannels, table: rowTable)
                tile4x16(scratch + p * kPadded, kPadded: kPadded,
                         taps: pointwise ? .all(kPairs)
                             : taps(rowTable, count: count, geometry: g, kGroups: kPairs, groupSize: 2, skip: skipPadding),
                         weights: weights, bias: bias, requant: requant, output: output, rows: count, channels: channels)
                p += 4
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

/// dst[i] = src[i] - zeroPoint as int16.
@inline(__always)
private func widen(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Int16>, count: Int, zeroPoint: Int16) {
    var i = 0
    let z = _mm256_set1_epi16(zeroPoint)
    while i + 16 <= count {
        let bytes = _mm_loadu_si128(UnsafeRawPointer(src + i).assumingMemoryBound(to: __m128i.self))
        let words = _mm256_sub_epi16(_mm256_cvtepu8_epi16(bytes), z)
        _mm256_storeu_si256(UnsafeMutableRawPointer(dst + i).assumingMemoryBound(to: __m256i.self), words)
        i += 16
    }
    while i < count {
        dst[i] = Int16(src[i]) &- zeroPoint
        i += 1
    }
}
