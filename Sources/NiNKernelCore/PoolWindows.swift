// The walk of a pooling layer's optimized kernels: every output pixel of some output rows, with
// the part of its window that lies inside the image (padded positions are never read). The
// families supply only what happens inside a window (AVX2's vpmaxub, the portable loop).

/// One output pixel's window: its image, the input rows and columns it covers inside that
/// image, and where its `inChannels` outputs go.
public struct PoolWindow {
    /// The pixel's input image (H x W x C u8).
    public var image: UnsafePointer<UInt8>
    /// Input rows and columns of the window inside the image (never empty for a valid layer).
    public var ys: Range<Int>, xs: Range<Int>
    /// The pixel's outputs.
    public var output: UnsafeMutablePointer<UInt8>

    @inlinable
    public init(image: UnsafePointer<UInt8>, ys: Range<Int>, xs: Range<Int>, output: UnsafeMutablePointer<UInt8>) {
        self.image = image; self.ys = ys; self.xs = xs; self.output = output
    }

    /// Stores the window's maximum of each channel from `first` on, one channel at a time: the
    /// channels a family's vectors leave over, in a max pool of `geometry`.
    @inlinable @inline(__always)
    public func storeMaxima(from first: Int, geometry g: ConvolutionGeometry) {
        let c = g.inChannels
        for ch in first..<max(first, c) {
            var best: UInt8 = 0
            for y in ys {
                for x in xs { best = max(best, image[(y * g.inWidth + x) * c + ch]) }
            }
            output[ch] = best
        }
    }
}

/// Calls `body` for every output pixel of output rows `rows` (indices into batch x outHeight)
/// of a pooling layer of `geometry` (channels `inChannels`, the same in and out), row by row.
@inlinable @inline(__always)
public func forEachPoolWindow(_ g: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                              rows: Range<Int>, _ body: (PoolWindow) -> Void) {
    let c = g.inChannels
    let inImage = g.inHeight * g.inWidth * c
    for row in rows {
        let n = row / g.outHeight, oy = row % g.outHeight
        let iy0 = oy * g.strideHeight - g.padTop
        let ys = max(0, iy0)..<min(g.inHeight, iy0 + g.kernelHeight)
        for ox in 0..<g.outWidth {
            let ix0 = ox * g.strideWidth - g.padLeft
            body(PoolWindow(image: input + n * inImage, ys: ys, xs: max(0, ix0)..<min(g.inWidth, ix0 + g.kernelWidth),
                            output: output + (row * g.outWidth + ox) * c))
        }
    }
}
