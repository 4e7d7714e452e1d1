// AVX-512 VNNI convolution: im2col of output pixels into u8 (padding filled with the input zero
// point), zmm microkernels on vpdpbusd (8 pixels x 32 channels, and 16 x 16 for a last odd block;
// u8 x s8, four products summed straight into int32: no intermediate saturation, so exact), and
// an exact zmm requantization (AVX-512's 64-bit arithmetic shift, masked permute and saturating
// narrow: 12 operations per 16 channels, against 40 for the AVX2 form). Bit-exact with the
// reference kernel.
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
    /// Per block of 16 channels, `RequantBlockAVX2.bytes` of requantization constants.
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

/// Bytes of im2col scratch a chunk may use: with one 16-channel weight block it stays in L2.
public let convolutionVNNIScratchBudget = 192 * 1024

/// Output pixels per im2col chunk: whole tiles within the budget.
@inline(__always)
func chunkPixels(kPadded: Int) -> Int {
    max(tileRows, convolutionVNNIScratchBudget / max(kPadded, 1) / tileRows * tileRows)
}

/// Scratch bytes one thread needs for a layer of `totalRows` output rows.
public func convolutionVNNIScratchBytes(outWidth: Int, kQuads: Int, totalRows: Int = .max) -> Int {
    let kPadded = 4 * kQuads
    let chunk = chunkPixels(kPadded: kPadded)
    let pixels = totalRows >= chunk ? chunk : min(chunk, totalRows * outWidth)  // (totalRows may be .max)
    // + 16: im2col may store a whole 16-byte vector for a shorter run (see copyRun).
    return (pixels + tileRows - 1) / tileRows * tileRows * kPadded + 16
}

/// Computes output rows `rows` (indices into batch x outHeight) of a convolution. Their pixels
/// are taken in chunks of whole tiles whose im2col fits the scratch budget (only the part's last
/// tile may be partial); each 16-channel weight block then sweeps the chunk. A 1x1, stride-1
/// convolution over a multiple of 4 channels needs no im2col: its input pixels already are the
/// rows of the product, so they are read in place (only a last partial tile is copied).
public func convolutionVNNI(_ a: ConvolutionVNNIArguments, rows: Range<Int>) {
    let g = a.geometry
    let kPadded = 4 * a.kQuads
    let blocks = (g.outChannels + 15) / 16
    let direct = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
        && g.padTop == 0 && g.padLeft == 0 && g.inChannels % 4 == 0
    let end = rows.upperBound * g.outWidth
    let chunk = direct ? max(end - rows.lowerBound * g.outWidth, 1) : chunkPixels(kPadded: kPadded)
    var first = rows.lowerBound * g.outWidth
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let fullTiles = pixels / tileRows * tileRows
        let source: UnsafePointer<UInt8>
        if direct {
            source = a.input + first * kPadded
            if fullTiles < pixels {  // the last partial tile, padded with zero rows, from scratch
                a.scratch.initialize(repeating: 0, count: tileRows * kPadded)
                a.scratch.update(from: source + fullTiles * kPadded, count: (pixels - fullTiles) * kPadded)
            }
        } else {
            im2col(a, pixels: first..<last, kPadded: kPadded)
            if fullTiles < pixels {
                (a.scratch + pixels * kPadded).initialize(repeating: 0, count: (fullTiles + tileRows - pixels) * kPadded)
            }
            source = UnsafePointer(a.scratch)
        }
        let outChunk = a.output + first * g.outChannels
        // Rows of the product from pixel p: in place, or from the scratch for a last partial tile.
        @inline(__always) func tile(_ p: Int) -> UnsafePointer<UInt8> {
            direct && p >= fullTiles ? UnsafePointer(a.scratch + (p - fullTiles) * kPadded) : source + p * kPadded
        }
        var block = 0
        while block + 1 < blocks {  // pairs of 16-channel blocks: 8 x 32 tiles
            let weights = a.weights + block * a.kQuads * 64
            let requant = a.requant + block * RequantBlockAVX2.bytes
            let channels = min(32, g.outChannels - block * 16)
            var p = 0
            while p < pixels {
                tile8x32(tile(p), kPadded: kPadded, kQuads: a.kQuads, weights: weights, bias: a.bias + block * 16,
                         requant: requant, output: outChunk + p * g.outChannels + block * 16,
                         outStride: g.outChannels, rows: min(8, pixels - p), channels: channels)
                p += 8
            }
            block += 2
        }
        if block < blocks {  // a last single block: 16 x 16 tiles
            let weights = a.weights + block * a.kQuads * 64
            let requant = a.requant + block * RequantBlockAVX2.bytes
            let channels = g.outChannels - block * 16
            var p = 0
            while p < pixels {
                tile16x16(tile(p), kPadded: kPadded, kQuads: a.kQuads, weights: weights, bias: a.bias + block * 16,
                          requant: requant, output: outChunk + p * g.outChannels + block * 16,
                          outStride: g.outChannels, rows: min(tileRows, pixels - p), channels: channels)
                p += tileRows
            }
        }
        first = last
    }
}

/// Writes the im2col rows of output pixels `pixels` (indices into batch x outHeight x outWidth)
/// into the scratch: per pixel, kh x kw x C input bytes (the zero point where the window is in
/// the padding, which the bias correction cancels), then zeros up to `kPadded` (their weights
/// are zero).
@inline(__always)
private func im2col(_ a: ConvolutionVNNIArguments, pixels: Range<Int>, kPadded: Int) {
    let g = a.geometry
    let c = g.inChannels, z = a.inputZeroPoint
    let run = g.kernelWidth * c
    let inImage = g.inHeight * g.inWidth * c
    let outImage = g.outHeight * g.outWidth
    var n = pixels.lowerBound / outImage
    var oy = pixels.lowerBound % outImage / g.outWidth
    var ox = pixels.lowerBound % g.outWidth
    var image = a.input + n * inImage
    var dst = a.scratch
    for _ in pixels {
        let start = dst
        let iy0 = oy * g.strideHeight - g.padTop
        let ix0 = ox * g.strideWidth - g.padLeft
        let kxStart = max(0, -ix0), kxEnd = min(g.kernelWidth, g.inWidth - ix0)
        for ky in 0..<g.kernelHeight {
            let iy = iy0 + ky
            if iy < 0 || iy >= g.inHeight || kxEnd <= kxStart {
                dst.initialize(repeating: z, count: run)
            } else {
                if kxStart > 0 { dst.initialize(repeating: z, count: kxStart * c) }
                copyRun(from: image + (iy * g.inWidth + ix0 + kxStart) * c, to: dst + kxStart * c,
                        count: (kxEnd - kxStart) * c, sourceEnd: image + inImage)
                if kxEnd < g.kernelWidth { (dst + kxEnd * c).initialize(repeating: z, count: (g.kernelWidth - kxEnd) * c) }
            }
            dst += run
        }
        let used = g.kernelHeight * run
        if used < kPadded { dst.initialize(repeating: 0, count: kPadded - used) }
        dst = start + kPadded
        ox += 1
        if ox == g.outWidth {
            ox = 0; oy += 1
            if oy == g.outHeight { oy = 0; n += 1; image += inImage }
        }
    }
}

/// Copies `count` bytes. Short runs (a kernel row of a few channels, e.g. 11 bytes for the
/// classic first layer) move as one 16-byte vector when the source allows the over-read; the
/// bytes stored past `count` land where im2col writes next (the rest of this pixel, the next
/// pixel, the zeroed tile padding or the 16 bytes of scratch slack), never past the scratch.
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

/// Sixteen output pixels x 16 channels: one zmm of weights per K quad (16 channels x 4), a
/// broadcast quad of each pixel, vpdpbusd into 16 zmm accumulators; then requantized and stored.
/// On Zen 4 a zmm vpdpbusd does the work of two ymm ones in one issue slot, so the loop issues
/// half the instructions of an 8 x 16 ymm tile.
@inline(__always)
private func tile16x16(_ a: UnsafePointer<UInt8>, kPadded: Int, kQuads: Int, weights: UnsafePointer<Int8>,
                       bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: UnsafeMutablePointer<UInt8>,
                       outStride: Int, rows: Int, channels: Int) {
    let b = _mm512_loadu_si512(UnsafeRawPointer(bias))
    var c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b
    var c8 = b, c9 = b, c10 = b, c11 = b, c12 = b, c13 = b, c14 = b, c15 = b
    let row = UnsafeRawPointer(a)
    var w = UnsafeRawPointer(weights)
    let all: __mmask16 = 0xFFFF
    for q in 0..<kQuads {
        let v = _mm512_loadu_si512(w)
        w += 64
        let offset = 4 * q
        @inline(__always) func x(_ r: Int) -> __m512i {
            _mm512_set1_epi32(row.loadUnaligned(fromByteOffset: r * kPadded + offset, as: Int32.self))
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
    store(requantize16(c0, requant), output, channels)
    if rows > 1 { store(requantize16(c1, requant), output + 1 * outStride, channels) }
    if rows > 2 { store(requantize16(c2, requant), output + 2 * outStride, channels) }
    if rows > 3 { store(requantize16(c3, requant), output + 3 * outStride, channels) }
    if rows > 4 { store(requantize16(c4, requant), output + 4 * outStride, channels) }
    if rows > 5 { store(requantize16(c5, requant), output + 5 * outStride, channels) }
    if rows > 6 { store(requantize16(c6, requant), output + 6 * outStride, channels) }
    if rows > 7 { store(requantize16(c7, requant), output + 7 * outStride, channels) }
    if rows > 8 { store(requantize16(c8, requant), output + 8 * outStride, channels) }
    if rows > 9 { store(requantize16(c9, requant), output + 9 * outStride, channels) }
    if rows > 10 { store(requantize16(c10, requant), output + 10 * outStride, channels) }
    if rows > 11 { store(requantize16(c11, requant), output + 11 * outStride, channels) }
    if rows > 12 { store(requantize16(c12, requant), output + 12 * outStride, channels) }
    if rows > 13 { store(requantize16(c13, requant), output + 13 * outStride, channels) }
    if rows > 14 { store(requantize16(c14, requant), output + 14 * outStride, channels) }
    if rows > 15 { store(requantize16(c15, requant), output + 15 * outStride, channels) }
}

/// Eight output pixels x 32 channels (two 16-channel blocks, read side by side from their packed
/// places): two zmm of weights and eight broadcast pixel quads per K quad feed 16 vpdpbusd, so
/// the loop loads 10 times per 16 instead of the 17 of the 16 x 16 tile.
@inline(__always)
private func tile8x32(_ a: UnsafePointer<UInt8>, kPadded: Int, kQuads: Int, weights: UnsafePointer<Int8>,
                      bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output out: UnsafeMutablePointer<UInt8>,
                      outStride: Int, rows: Int, channels: Int) {
    let b0 = _mm512_loadu_si512(UnsafeRawPointer(bias)), b1 = _mm512_loadu_si512(UnsafeRawPointer(bias + 16))
    var c0 = b0, c1 = b1, c2 = b0, c3 = b1, c4 = b0, c5 = b1, c6 = b0, c7 = b1
    var c8 = b0, c9 = b1, c10 = b0, c11 = b1, c12 = b0, c13 = b1, c14 = b0, c15 = b1
    let row = UnsafeRawPointer(a)
    var w0 = UnsafeRawPointer(weights)
    let second = kQuads * 64  // the next block's weights
    let all: __mmask16 = 0xFFFF
    for q in 0..<kQuads {
        let v0 = _mm512_loadu_si512(w0), v1 = _mm512_loadu_si512(w0 + second)
        w0 += 64
        let offset = 4 * q
        @inline(__always) func x(_ r: Int) -> __m512i {
            _mm512_set1_epi32(row.loadUnaligned(fromByteOffset: r * kPadded + offset, as: Int32.self))
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
    let requant1 = requant + RequantBlockAVX2.bytes
    let low = min(channels, 16), high = channels - low
    store(requantize16(c0, requant), out, low); if high > 0 { store(requantize16(c1, requant1), out + 16, high) }
    if rows > 1 { store(requantize16(c2, requant), out + 1 * outStride, low); if high > 0 { store(requantize16(c3, requant1), out + 1 * outStride + 16, high) } }
    if rows > 2 { store(requantize16(c4, requant), out + 2 * outStride, low); if high > 0 { store(requantize16(c5, requant1), out + 2 * outStride + 16, high) } }
    if rows > 3 { store(requantize16(c6, requant), out + 3 * outStride, low); if high > 0 { store(requantize16(c7, requant1), out + 3 * outStride + 16, high) } }
    if rows > 4 { store(requantize16(c8, requant), out + 4 * outStride, low); if high > 0 { store(requantize16(c9, requant1), out + 4 * outStride + 16, high) } }
    if rows > 5 { store(requantize16(c10, requant), out + 5 * outStride, low); if high > 0 { store(requantize16(c11, requant1), out + 5 * outStride + 16, high) } }
    if rows > 6 { store(requantize16(c12, requant), out + 6 * outStride, low); if high > 0 { store(requantize16(c13, requant1), out + 6 * outStride + 16, high) } }
    if rows > 7 { store(requantize16(c14, requant), out + 7 * outStride, low); if high > 0 { store(requantize16(c15, requant1), out + 7 * outStride + 16, high) } }
}

/// Requantizes one pixel's 16 int32 accumulators to 16 bytes, exactly as the reference: clamp
/// acc to [accLow, accHigh] (so every result fits int32), then ((acc * m + 2^(n-1)) >> n) + z on
/// 64-bit lanes (`vpmuldq` on the even and the odd channels, the arithmetic `vpsravq`), merged
/// by a masked `vpermd`, at least the floor, and narrowed with unsigned saturation (`vpmovusdb`),
/// which is the clamp at 255. The 64-bit tables hold the even channels, then the odd ones.
@inline(__always)
func requantize16(_ acc: __m512i, _ r: UnsafeRawPointer) -> __m128i {
    func load(_ offset: Int) -> __m512i { _mm512_loadu_si512(r + offset) }
    let clamped = _mm512_min_epi32(_mm512_max_epi32(acc, load(RequantBlockAVX2.accLow)), load(RequantBlockAVX2.accHigh))
    let even = _mm512_mul_epi32(clamped, load(RequantBlockAVX2.multiplier64))
    let odd = _mm512_mul_epi32(_mm512_srli_epi64(clamped, 32), load(RequantBlockAVX2.multiplier64 + 64))
    let e = _mm512_srav_epi64(_mm512_add_epi64(even, load(RequantBlockAVX2.rounding)), load(RequantBlockAVX2.shift))
    let o = _mm512_srav_epi64(_mm512_add_epi64(odd, load(RequantBlockAVX2.rounding + 64)), load(RequantBlockAVX2.shift + 64))
    // Odd channel 2i+1 is the low dword of o's qword i, i.e. o's dword 2i.
    let oddIndex = _mm512_set_epi32(14, 14, 12, 12, 10, 10, 8, 8, 6, 6, 4, 4, 2, 2, 0, 0)
    let merged = _mm512_mask_permutexvar_epi32(e, 0xAAAA, oddIndex, o)
    let z = _mm512_set1_epi32(r.load(fromByteOffset: RequantBlockAVX2.zeroPoint, as: Int32.self))
    let floor = _mm512_set1_epi32(r.load(fromByteOffset: RequantBlockAVX2.floor, as: Int32.self))
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32(_mm512_add_epi32(merged, z), floor))
}
