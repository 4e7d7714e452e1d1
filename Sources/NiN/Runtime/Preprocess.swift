// Image preparation (docs/PREPROCESSING.md): channel conversion (BT.601 luma as Pillow computes
// it, gray replication, alpha dropped) and fixed-point bilinear resizing with half-pixel
// centres, straight into the model's input tensor. Integer-exact; no heap buffers.

/// One axis of the resize: the two source indices and the weight (in 1/256) of the second.
struct ResizeTap {
    var first: Int
    var second: Int
    var weight: Int

    /// The tap of output index `d` when `inputSize` samples become `outputSize`.
    @inline(__always)
    init(output d: Int, inputSize n: Int, outputSize m: Int) {
        var t = (2 * d + 1) * n - m
        if t < 0 { t = 0 }
        var i0 = t / (2 * m)
        var f = (t % (2 * m) * 256 + m) / (2 * m)
        if i0 >= n - 1 { i0 = n - 1; f = 0 }
        first = i0
        second = min(i0 + 1, n - 1)
        weight = f
    }
}

/// Output columns handled together: their horizontal taps (two integer divisions each) are
/// computed once per block, and each source row's horizontal interpolation once per block and
/// row, kept while consecutive output rows read the same two source rows (an upscale reuses
/// them for several rows). The buffers stay on the stack: 16 columns x 3 channels.
private let columnBlock = 16

/// Writes `image`, converted to `shape.channels` and resized to `shape`, into `out` (H x W x C).
/// Allocates nothing. The arithmetic is docs/PREPROCESSING.md's: each output value is
/// `(top * (256 - wy) + bottom * wy + 32768) >> 16`, top and bottom being the horizontal
/// interpolations `p0 * (256 - wx) + p1 * wx` of the two source rows.
func prepareImage(_ image: PixelView, shape: TensorShape, into out: UnsafeMutablePointer<UInt8>) {
    let c = shape.channels
    let span = columnBlock * c
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * columnBlock + 2 * 3 * columnBlock) { buffer in
        let taps = buffer.baseAddress!, rows = taps + 3 * columnBlock
        for blockStart in stride(from: 0, to: shape.width, by: columnBlock) {
            let blockEnd = min(blockStart + columnBlock, shape.width)
            for x in blockStart..<blockEnd {  // byte offsets of both source pixels, and the weight
                let tx = ResizeTap(output: x, inputSize: image.width, outputSize: shape.width)
                let k = 3 * (x - blockStart)
                taps[k] = Int32(tx.first * image.channels)
                taps[k + 1] = Int32(tx.second * image.channels)
                taps[k + 2] = Int32(tx.weight)
            }
            /// The horizontal interpolation of source row `r` over the block into `slot` (0 or 1).
            func interpolate(row r: Int, into slot: Int) {
                let row = image.base + r * image.stride
                let dst = rows + slot * span
                for x in blockStart..<blockEnd {
                    let k = 3 * (x - blockStart)
                    let o0 = Int(taps[k]), o1 = Int(taps[k + 1]), wx = Int(taps[k + 2])
                    for ch in 0..<c {
                        let p0 = sample(row + o0, image.channels, ch, c), p1 = sample(row + o1, image.channels, ch, c)
                        dst[(x - blockStart) * c + ch] = Int32(p0 * (256 - wx) + p1 * wx)
                    }
                }
            }
            var cached = (-1, -1)  // the source rows in slots 0 and 1
            for y in 0..<shape.height {
                let ty = ResizeTap(output: y, inputSize: image.height, outputSize: shape.height)
                if cached != (ty.first, ty.second) {
                    if ty.first == cached.1 {  // moving down one source row: slot 1 becomes slot 0
                        rows.update(from: rows + span, count: span)
                    } else {
                        interpolate(row: ty.first, into: 0)
                    }
                    interpolate(row: ty.second, into: 1)
                    cached = (ty.first, ty.second)
                }
                let dst = out + (y * shape.width + blockStart) * c
                for i in 0..<((blockEnd - blockStart) * c) {
                    let top = Int(rows[i]), bottom = Int(rows[span + i])
                    dst[i] = UInt8(truncatingIfNeeded: (top * (256 - ty.weight) + bottom * ty.weight + 32768) >> 16)
                }
            }
        }
    }
}

/// Channel `ch` of a pixel with `from` channels, as seen by a model with `to` channels.
@inline(__always)
private func sample(_ pixel: UnsafePointer<UInt8>, _ from: Int, _ ch: Int, _ to: Int) -> Int {
    if from >= 3 {
        if to == 3 { return Int(pixel[ch]) }
        return (19595 * Int(pixel[0]) + 38470 * Int(pixel[1]) + 7471 * Int(pixel[2]) + 32768) >> 16
    }
    return Int(pixel[0])  // gray (alpha dropped), replicated when the model wants RGB
}

/// Quantizes prepared float input (N x C x H x W, meant in [0, 1]) into u8 N x H x W x C.
/// Returns false, writing nothing further, at the first NaN.
func quantizeFloatInput(_ input: UnsafePointer<Float>, count: Int, shape: TensorShape,
                        into out: UnsafeMutablePointer<UInt8>) -> Bool {
    let plane = shape.height * shape.width, c = shape.channels
    for n in 0..<count {
        for ch in 0..<c {
            let src = input + (n * c + ch) * plane
            let dst = out + n * shape.elementCount + ch
            for p in 0..<plane {
                let v = src[p]
                if v.isNaN { return false }
                let scaled = (v * 255 + 0.5).rounded(.down)
                dst[p * c] = UInt8(min(max(scaled, 0), 255))
            }
        }
    }
    return true
}

/// `image` prepared for a model input of `shape` (H x W x C bytes), as a run would prepare it.
public func prepare(_ image: Image, for shape: TensorShape) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: shape.elementCount)
    image.pixels.withUnsafeBufferPointer { pixels in
        out.withUnsafeMutableBufferPointer { buffer in
            let view = PixelView(base: pixels.baseAddress!, width: image.width, height: image.height,
                                 channels: image.channels, stride: image.stride)
            prepareImage(view, shape: shape, into: buffer.baseAddress!)
        }
    }
    return out
}
