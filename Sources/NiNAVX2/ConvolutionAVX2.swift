// AVX2 convolution: im2col of one output row into int16 (zero point subtracted), a 4x16 int16
// GEMM microkernel on vpmaddwd (exact: s16 x s16 pair sums into s32 cannot saturate for
// |x - z| <= 255 and |w| <= 127) that skips kernel rows lying in the padding, and the float32
// requantization of QUANTIZATION.md. Bit-exact with the reference
// kernel. Compiled with -mavx2 -mfma in its own target; called only when the CPU has AVX2.

import _Builtin_intrinsics.intel

/// The shape of one convolution call: input and output sizes and the window. Shared by the
/// optimized kernels of every ISA target.
public struct ConvolutionGeometry {
    public var inHeight: Int, inWidth: Int, inChannels: Int
    public var outHeight: Int, outWidth: Int, outChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padTop: Int, padLeft: Int

    public init(inHeight: Int, inWidth: Int, inChannels: Int, outHeight: Int, outWidth: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int) {
        self.inHeight = inHeight; self.inWidth = inWidth; self.inChannels = inChannels
        self.outHeight = outHeight; self.outWidth = outWidth; self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padTop = padTop; self.padLeft = padLeft
    }
}

/// Geometry and pointers of one convolution call; everything is prepared by the caller.
public struct ConvolutionAVX2Arguments {
    public var geometry: ConvolutionGeometry
    public var input: UnsafePointer<UInt8>
    public var output: UnsafeMutablePointer<UInt8>
    public var inputZeroPoint: Int32
    /// Packed weights: per block of 16 output channels, `kPairs x 16 x 2` int16 (see packing).
    public var weights: UnsafePointer<Int16>
    /// Per block of 16 channels, `RequantBlock.bytes` of requantization constants.
    public var requant: UnsafeRawPointer
    /// int32 bias per output channel, padded to a multiple of 16.
    public var bias: UnsafePointer<Int32>
    /// K = kh * kw * C rounded up to even, in pairs.
    public var kPairs: Int
    /// im2col scratch of `convolutionAVX2ScratchBytes(outWidth:kPairs:)` bytes.
    public var scratch: UnsafeMutablePointer<Int16>

    public init(geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                inputZeroPoint: Int32, weights: UnsafePointer<Int16>, requant: UnsafeRawPointer,
                bias: UnsafePointer<Int32>, kPairs: Int, scratch: UnsafeMutablePointer<Int16>) {
        self.geometry = geometry; self.input = input; self.output = output; self.inputZeroPoint = inputZeroPoint
        self.weights = weights; self.requant = requant; self.bias = bias; self.kPairs = kPairs; self.scratch = scratch
    }
}

/// Layout of the requantization constants of one block of 16 channels, in bytes from its start;
/// the same for every ISA's kernel (AVX2 reads each table as two ymm, AVX-512 as one zmm).
public enum RequantBlock {
    /// float32 x 16: the channel's scale, `Float(m) * 2^-n` (QUANTIZATION.md).
    public static let scale = 0
    /// float32 x 16: `floor - z`, the lowest scaled value kept (floor: z with ReLU, else 0).
    public static let low = 64
    /// float32 x 16: `255 - z`, the highest.
    public static let high = 128
    /// int32 x 16: the output zero point z.
    public static let zeroPoint = 192
    public static let bytes = 256
}

/// Bytes of im2col scratch a chunk may use: with one 16-channel weight block it stays in L2.
public let convolutionAVX2ScratchBudget = 192 * 1024

/// Output pixels per im2col chunk: whole 4-pixel tiles within the budget (int16 values).
@inline(__always)
func chunkPixelsAVX2(kPadded: Int) -> Int {
    max(4, convolutionAVX2ScratchBudget / max(2 * kPadded, 1) / 4 * 4)
}

/// Where the pixel table starts in the scratch: after a chunk's im2col rows, 64-byte aligned.
@inline(__always)
func pixelTableOffsetAVX2(tiledPixels: Int, kPadded: Int) -> Int { (tiledPixels * kPadded * 2 + 63) / 64 * 64 }

/// Scratch bytes one thread needs for a layer of `totalRows` output rows: a chunk's im2col rows
/// (int16), then its pixel table.
public func convolutionAVX2ScratchBytes(outWidth: Int, kPairs: Int, totalRows: Int = .max) -> Int {
    let kPadded = 2 * kPairs
    let chunk = chunkPixelsAVX2(kPadded: kPadded)
    let pixels = totalRows >= chunk ? chunk : min(chunk, totalRows * outWidth)  // (totalRows may be .max)
    let tiled = (pixels + 3) / 4 * 4
    return pixelTableOffsetAVX2(tiledPixels: tiled, kPadded: kPadded) + tiled * MemoryLayout<PixelTaps>.stride
}

/// Computes part `part` of `parts` of output rows `rows` (indices into batch x outHeight) of a
/// convolution. Their pixels are taken in `PixelOrder` (PixelOrder.swift); a part is a run of
/// whole 4-pixel tiles of that order, taken in chunks whose im2col fits the scratch budget; each
/// 16-channel weight block then sweeps the chunk, so weights stream from cache once per chunk.
/// A tile reads only the K pairs of the kernel taps that reach the image for one of its pixels:
/// im2col stores padding as 0 (x - z with x = z), so skipping the others is exact for any zero
/// point (when the channels are even, so that taps start on a pair).
public func convolutionAVX2(_ a: ConvolutionAVX2Arguments, rows: Range<Int>, part: Int = 0, of parts: Int = 1) {
    let g = a.geometry
    let kPadded = 2 * a.kPairs
    let blocks = (g.outChannels + 15) / 16
    // A 1x1, stride-1, unpadded conv over an even channel count: pixels in place, in order, and
    // their im2col is one contiguous widening.
    let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
        && g.padTop == 0 && g.padLeft == 0 && g.inChannels == kPadded
    let skipPadding = g.inChannels % 2 == 0 && !pointwise
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let tiles = (order.pixelCount + 3) / 4
    var first = tiles * part / parts * 4
    let end = min(order.pixelCount, tiles * (part + 1) / parts * 4)
    let chunk = chunkPixelsAVX2(kPadded: kPadded)
    let tiled = (min(chunk, max(end - first, 0)) + 3) / 4 * 4
    let table = UnsafeMutableRawPointer(a.scratch).advanced(by: pixelTableOffsetAVX2(tiledPixels: tiled, kPadded: kPadded))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let firstPixel = rows.lowerBound * g.outWidth + first  // (in place: the order is plain)
        if pointwise {
            widen(a.input + firstPixel * kPadded, a.scratch, count: pixels * kPadded, zeroPoint: Int16(a.inputZeroPoint))
        } else {
            im2col(a, order: order, pixels: first..<last, kPadded: kPadded, table: table)
        }
        let padded = (pixels + 3) / 4 * 4
        if padded > pixels {
            (a.scratch + pixels * kPadded).initialize(repeating: 0, count: (padded - pixels) * kPadded)
        }
        for block in 0..<blocks {
            let weights = a.weights + block * a.kPairs * 32
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
                tile4x16(a.scratch + p * kPadded, kPadded: kPadded,
                         taps: pointwise ? .all(a.kPairs)
                             : taps(rowTable, count: count, geometry: g, kGroups: a.kPairs, groupSize: 2, skip: skipPadding),
                         weights: weights, bias: bias, requant: requant, output: output, rows: count, channels: channels)
                p += 4
            }
        }
        first = last
    }
}

/// Writes the im2col rows of the pixels at `pixels` in `order` into the scratch, and their
/// table entries: per pixel, kh x kw x C int16 values `x - z` (0 where the window is in the
/// padding), then zeros up to `kPadded`.
@inline(__always)
private func im2col(_ a: ConvolutionAVX2Arguments, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                    table: UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels, z = Int16(a.inputZeroPoint)
    let inImage = g.inHeight * g.inWidth * c
    var dst = a.scratch
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

/// Four output pixels x 16 channels: int32 accumulators over the K pairs of `taps`, then
/// requantized and stored at their rows of `output`.
@inline(__always)
private func tile4x16(_ a: UnsafePointer<Int16>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int16>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput,
                      rows: Int, channels: Int) {
    let biasLo = _mm256_loadu_si256(UnsafeRawPointer(bias).assumingMemoryBound(to: __m256i.self))
    let biasHi = _mm256_loadu_si256(UnsafeRawPointer(bias + 8).assumingMemoryBound(to: __m256i.self))
    var c00 = biasLo, c01 = biasHi, c10 = biasLo, c11 = biasHi
    var c20 = biasLo, c21 = biasHi, c30 = biasLo, c31 = biasHi
    let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + kPadded)
    let a2 = UnsafeRawPointer(a + 2 * kPadded), a3 = UnsafeRawPointer(a + 3 * kPadded)
    for run in 0..<taps.count {
      let start = taps.first &+ run &* taps.stride
      var b = UnsafeRawPointer(weights) + 64 &* start
      for p in start..<(start &+ taps.length) {
        let b0 = _mm256_loadu_si256(b.assumingMemoryBound(to: __m256i.self))
        let b1 = _mm256_loadu_si256((b + 32).assumingMemoryBound(to: __m256i.self))
        b += 64
        let offset = 4 * p
        let x0 = _mm256_set1_epi32(a0.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x0, b0))
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x0, b1))
        let x1 = _mm256_set1_epi32(a1.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x1, b0))
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x1, b1))
        let x2 = _mm256_set1_epi32(a2.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x2, b0))
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x2, b1))
        let x3 = _mm256_set1_epi32(a3.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x3, b0))
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x3, b1))
      }
    }
    store(requantize16(c00, c01, requant), output.row(0), channels)
    if rows > 1 { store(requantize16(c10, c11, requant), output.row(1), channels) }
    if rows > 2 { store(requantize16(c20, c21, requant), output.row(2), channels) }
    if rows > 3 { store(requantize16(c30, c31, requant), output.row(3), channels) }
}

/// Stores the first `channels` of 16 requantized bytes.
@inline(__always)
func store(_ bytes: __m128i, _ output: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    if channels == 16 {
        _mm_storeu_si128(UnsafeMutableRawPointer(output).assumingMemoryBound(to: __m128i.self), bytes)
    } else {
        withUnsafeBytes(of: bytes) { raw in
            for c in 0..<channels { output[c] = raw[c] }
        }
    }
}

/// Requantizes 16 int32 accumulators (channels 0-7 in `lo`, 8-15 in `hi`) to 16 bytes, exactly as
/// the reference (QUANTIZATION.md): float32 scaling, a clamp to [floor - z, 255 - z], conversion
/// rounding half to even (the default MXCSR mode), + z.
@inline(__always)
func requantize16(_ lo: __m256i, _ hi: __m256i, _ r: UnsafeRawPointer) -> __m128i {
    let v0 = requantize8(lo, r, group: 0)
    let v1 = requantize8(hi, r, group: 1)
    // Values are in [0, 255]; packs works within 128-bit lanes: dword order [0,1,4,5,2,3,6,7]
    // restores channel order.
    let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
    let words = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(v0, v1), order)
    let bytes = _mm256_packus_epi16(words, words)
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, order))
}

@inline(__always)
func requantize8(_ acc: __m256i, _ r: UnsafeRawPointer, group: Int) -> __m256i {
    let lane = 32 * group
    func load(_ offset: Int) -> __m256 { _mm256_loadu_ps((r + offset + lane).assumingMemoryBound(to: Float.self)) }
    let scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), load(RequantBlock.scale))
    let clamped = _mm256_min_ps(_mm256_max_ps(scaled, load(RequantBlock.low)), load(RequantBlock.high))
    let z = _mm256_loadu_si256((r + RequantBlock.zeroPoint + lane).assumingMemoryBound(to: __m256i.self))
    return _mm256_add_epi32(_mm256_cvtps_epi32(clamped), z)
}
