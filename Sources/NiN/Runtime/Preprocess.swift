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

/// Output columns whose horizontal taps are computed together (kept on the stack): the taps
/// cost two integer divisions each, so they are computed once per block of columns, not per pixel.
private let columnBlock = 64

/// Writes `image`, converted to `shape.channels` and resized to `shape`, into `out` (H x W x C).
/// Allocates nothing: the column taps of a block live in a small stack buffer.
func prepareImage(_ image: PixelView, shape: TensorShape, into out: UnsafeMutablePointer<UInt8>) {
    let c = shape.channels
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * columnBlock) { taps in
        for blockStart in stride(from: 0, to: shape.width, by: columnBlock) {
            let blockEnd = min(blockStart + columnBlock, shape.width)
            for x in blockStart..<blockEnd {  // byte offsets of both source pixels, and the weight
                let tx = ResizeTap(output: x, inputSize: image.width, outputSize: shape.width)
                let k = 3 * (x - blockStart)
                taps[k] = Int32(tx.first * image.channels)
                taps[k + 1] = Int32(tx.second * image.channels)
                taps[k + 2] = Int32(tx.weight)
            }
            for y in 0..<shape.height {
                let ty = ResizeTap(output: y, inputSize: image.height, outputSize: shape.height)
                let row0 = image.base + ty.first * image.stride, row1 = image.base + ty.second * image.stride
                for x in blockStart..<blockEnd {
                    let k = 3 * (x - blockStart)
                    let o0 = Int(taps[k]), o1 = Int(taps[k + 1]), wx = Int(taps[k + 2])
                    let dst = out + (y * shape.width + x) * c
                    for ch in 0..<c {
                        let p00 = sample(row0 + o0, image.channels, ch, c), p01 = sample(row0 + o1, image.channels, ch, c)
                        let p10 = sample(row1 + o0, image.channels, ch, c), p11 = sample(row1 + o1, image.channels, ch, c)
                        let top = p00 * (256 - wx) + p01 * wx
                        let bottom = p10 * (256 - wx) + p11 * wx
                        dst[ch] = UInt8(truncatingIfNeeded: (top * (256 - ty.weight) + bottom * ty.weight + 32768) >> 16)
                    }
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
