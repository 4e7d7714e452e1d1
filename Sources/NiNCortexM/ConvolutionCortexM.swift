// The cortexm kernel family's convolution, for Armv7E-M (Cortex-M4, M7) with the DSP extension:
// the int8 weights read in place from the model (flash on a microcontroller; `packCortexM` borrows
// them, only the requantization tables are made), the input as int16 `x - z` im2col rows of at
// most `im2colBudgetCortexM` bytes, or one pixel's (padding stored as 0), and a 2-channel x
// 2-pixel tile whose inner step takes 4 K values at once: one word of 4 int8 weights per channel
// widened by SXTB16 (bytes 0 and 2; then 1 and 3), each multiplied with a word of two int16 inputs
// by SMLAD, as CMSIS-NN's kernels do; the im2col stores each 4 K values in the order k0 k2 k1 k3
// to match. Exact: |x - z| <= 255 and |w| <= 127, so products and sums fit int32. Requantization
// is QUANTIZATION.md's float32 scaling per output, as the other families do it.

import NiNCPU
import NiNKernelCore

/// Bytes of im2col rows one chunk of output pixels may use (one pixel's row at least): small,
/// since the layers with the largest activations have the shortest rows (K of 25 or 32 here),
/// and the scratch lies beside the activations in the arena.
public let im2colBudgetCortexM = 3584

/// Output pixels per im2col chunk for a K of `kernelSize`: an even count within the budget, or one
/// pixel where two do not fit (the tile then computes two channels of that pixel).
@inline(__always)
func chunkPixelsCortexM(_ kernelSize: Int) -> Int {
    let fits = im2colBudgetCortexM / (2 * kernelSize)
    return fits >= 2 ? fits / 2 * 2 : 1
}

/// Scratch bytes one thread needs for a layer of `geometry`: one chunk's im2col rows.
public func convolutionCortexMScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    let k = geometry.kernelSize
    return min(chunkPixelsCortexM(k), max(1, totalRows * geometry.outWidth)) * 2 * k
}

/// The layer's weights and biases in place, and the requantization tables (RequantBlock);
/// nil when memory runs out.
public func packCortexM(_ layer: ConvolutionWeights) -> PackedConvolution? {
    guard let packed = PackedConvolution(borrowing: layer) else { return nil }
    RequantBlock.fill(packed, from: layer)
    return packed
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with the weights of `packCortexM`.
public func convolutionCortexM(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    let g = a.geometry
    let k = g.kernelSize, outC = g.outChannels
    let firstRow = a.rowCount * part / parts, endRow = a.rowCount * (part + 1) / parts
    let endPixel = endRow * g.outWidth
    let chunk = chunkPixelsCortexM(k)
    let rows = a.scratch.assumingMemoryBound(to: Int16.self)
    let weights = a.weights.assumingMemoryBound(to: Int8.self)
    var first = firstRow * g.outWidth
    while first < endPixel {
        let pixels = min(chunk, endPixel - first)
        for p in 0..<pixels { im2colCortexM(a, pixel: first + p, into: rows + p * k) }
        var o = 0
        while o < outC {
            let w0 = weights + o * k, w1 = o + 1 < outC ? w0 + k : w0
            let r0 = Requant(a, channel: o), r1 = Requant(a, channel: min(o + 1, outC - 1))
            let bias0 = a.bias[o], bias1 = o + 1 < outC ? a.bias[o + 1] : 0
            var out = a.output + first * outC + o
            var p = 0
            while p < pixels {
                let x0 = rows + p * k
                if p + 1 < pixels {
                    let acc = tile2x2CortexM(w0, w1, x0, x0 + k, k: k, bias0: bias0, bias1: bias1)
                    out[0] = r0.apply(acc.0)
                    out[outC] = r0.apply(acc.2)
                    if o + 1 < outC { out[1] = r1.apply(acc.1); out[outC + 1] = r1.apply(acc.3) }
                } else {  // a chunk's last odd pixel (every pixel, where a chunk is one pixel)
                    let acc = tile2x1CortexM(w0, w1, x0, k: k, bias0: bias0, bias1: bias1)
                    out[0] = r0.apply(acc.0)
                    if o + 1 < outC { out[1] = r1.apply(acc.1) }
                }
                out += 2 * outC
                p += 2
            }
            o += 2
        }
        first += pixels
    }
}

/// Channels 0 and 1 (weights at `w0`, `w1`) x pixels 0 and 1 (im2col rows at `x0`, `x1`): the
/// four int32 dot products over K plus the biases, (c0 p0, c1 p0, c0 p1, c1 p1).
@inline(__always)
func tile2x2CortexM(_ w0: UnsafePointer<Int8>, _ w1: UnsafePointer<Int8>, _ x0: UnsafePointer<Int16>,
                    _ x1: UnsafePointer<Int16>, k: Int, bias0: Int32, bias1: Int32) -> (Int32, Int32, Int32, Int32) {
    var c00 = bias0, c10 = bias1, c01 = bias0, c11 = bias1
    var wa = UnsafeRawPointer(w0), wb = UnsafeRawPointer(w1)
    var xa = UnsafeRawPointer(x0), xb = UnsafeRawPointer(x1)
    var quads = k >> 2
    while quads > 0 {
        let qa = wa.loadUnaligned(as: UInt32.self), qb = wb.loadUnaligned(as: UInt32.self)
        let a02 = ninpriv_sxtb16(qa), a13 = ninpriv_sxtb16_odd(qa)
        let b02 = ninpriv_sxtb16(qb), b13 = ninpriv_sxtb16_odd(qb)
        // Inputs: k0 k2 k1 k3 as int16, so the first word pairs with bytes 0 and 2.
        let p02 = xa.loadUnaligned(as: UInt32.self), p13 = xa.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        c00 = ninpriv_smlad(a02, p02, c00); c00 = ninpriv_smlad(a13, p13, c00)
        c10 = ninpriv_smlad(b02, p02, c10); c10 = ninpriv_smlad(b13, p13, c10)
        let q02 = xb.loadUnaligned(as: UInt32.self), q13 = xb.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        c01 = ninpriv_smlad(a02, q02, c01); c01 = ninpriv_smlad(a13, q13, c01)
        c11 = ninpriv_smlad(b02, q02, c11); c11 = ninpriv_smlad(b13, q13, c11)
        wa += 4; wb += 4; xa += 8; xb += 8
        quads &-= 1
    }
    var i = k & ~3
    while i < k {  // the last K mod 4 values, in plain order
        let a = Int32(w0[i]), b = Int32(w1[i]), p = Int32(x0[i]), q = Int32(x1[i])
        c00 &+= a &* p; c10 &+= b &* p; c01 &+= a &* q; c11 &+= b &* q
        i &+= 1
    }
    return (c00, c10, c01, c11)
}

/// Channels 0 and 1 (weights at `w0`, `w1`) x one pixel (im2col row at `x0`): the two int32 dot
/// products over K plus the biases, as `tile2x2CortexM` computes them.
@inline(__always)
func tile2x1CortexM(_ w0: UnsafePointer<Int8>, _ w1: UnsafePointer<Int8>, _ x0: UnsafePointer<Int16>,
                    k: Int, bias0: Int32, bias1: Int32) -> (Int32, Int32) {
    var c00 = bias0, c10 = bias1
    var wa = UnsafeRawPointer(w0), wb = UnsafeRawPointer(w1), xa = UnsafeRawPointer(x0)
    var quads = k >> 2
    while quads > 0 {
        let qa = wa.loadUnaligned(as: UInt32.self), qb = wb.loadUnaligned(as: UInt32.self)
        let p02 = xa.loadUnaligned(as: UInt32.self), p13 = xa.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        c00 = ninpriv_smlad(ninpriv_sxtb16(qa), p02, c00); c00 = ninpriv_smlad(ninpriv_sxtb16_odd(qa), p13, c00)
        c10 = ninpriv_smlad(ninpriv_sxtb16(qb), p02, c10); c10 = ninpriv_smlad(ninpriv_sxtb16_odd(qb), p13, c10)
        wa += 4; wb += 4; xa += 8
        quads &-= 1
    }
    var i = k & ~3
    while i < k {
        let p = Int32(x0[i])
        c00 &+= Int32(w0[i]) &* p; c10 &+= Int32(w1[i]) &* p
        i &+= 1
    }
    return (c00, c10)
}

/// One output channel's requantization (its RequantBlock lane): float32 scale, clamp, round
/// half to even, + z.
struct Requant {
    let scale: Float, low: Float, high: Float, zeroPoint: Int32

    @inline(__always)
    init(_ a: ConvolutionCall, channel: Int) {
        let table = a.requant + (channel >> 4) * RequantBlock.bytes, lane = 4 * (channel & 15)
        scale = table.load(fromByteOffset: RequantBlock.scale + lane, as: Float.self)
        low = table.load(fromByteOffset: RequantBlock.low + lane, as: Float.self)
        high = table.load(fromByteOffset: RequantBlock.high + lane, as: Float.self)
        zeroPoint = table.load(fromByteOffset: RequantBlock.zeroPoint + lane, as: Int32.self)
    }

    /// The output byte of accumulator `acc`.
    @inline(__always)
    func apply(_ acc: Int32) -> UInt8 {
        let scaled = min(max(Float(acc) * scale, low), high)
        // 1.5 x 2^23 added rounds a float32 below 2^22 to an integer, half to even (the run's
        // rounding mode), leaving it in the low mantissa bits.
        let rounded = Int32(bitPattern: (scaled + 12_582_912).bitPattern) &- Int32(bitPattern: Float(12_582_912).bitPattern)
        return UInt8(truncatingIfNeeded: rounded &+ zeroPoint)
    }
}

/// The im2col row of output pixel `pixel` (index into batch x outHeight x outWidth): K int16
/// values `x - z`, 0 in the padding, each whole 4 of them stored as k0 k2 k1 k3.
@inline(__always)
func im2colCortexM(_ a: ConvolutionCall, pixel: Int, into row: UnsafeMutablePointer<Int16>) {
    let g = a.geometry
    let c = g.inChannels, z = Int16(a.inputZeroPoint)
    if g.isPointwise && g.padTop == 0 && g.padLeft == 0 {  // the pixel's own channels, in order
        let src = a.input + pixel * c
        var i = 0
        while i &+ 4 <= c {
            row[i] = Int16(src[i]) &- z; row[i &+ 1] = Int16(src[i &+ 2]) &- z
            row[i &+ 2] = Int16(src[i &+ 1]) &- z; row[i &+ 3] = Int16(src[i &+ 3]) &- z
            i &+= 4
        }
        while i < c { row[i] = Int16(src[i]) &- z; i &+= 1 }
        return
    }
    let perImage = g.outHeight * g.outWidth
    let n = pixel / perImage, oy = pixel % perImage / g.outWidth, ox = pixel % g.outWidth
    let image = a.input + n * g.inHeight * g.inWidth * c
    let iy0 = oy * g.strideHeight - g.padTop, ix0 = ox * g.strideWidth - g.padLeft
    var at = 0
    for ky in 0..<g.kernelHeight {
        let iy = iy0 + ky
        for kx in 0..<g.kernelWidth {
            let ix = ix0 + kx
            if iy < 0 || iy >= g.inHeight || ix < 0 || ix >= g.inWidth {
                for _ in 0..<c { row[at] = 0; at &+= 1 }
            } else {
                let src = image + (iy * g.inWidth + ix) * c
                for ch in 0..<c { row[at &+ ch] = Int16(src[ch]) &- z }
                at &+= c
            }
        }
    }
    // Each whole 4 as k0 k2 k1 k3 (swap the middle two).
    var i = 0
    while i &+ 4 <= at {
        let t = row[i &+ 1]; row[i &+ 1] = row[i &+ 2]; row[i &+ 2] = t
        i &+= 4
    }
}
