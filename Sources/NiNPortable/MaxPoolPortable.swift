// Portable max pooling on u8 NHWC tensors: per output pixel, the running maximum over the
// window kept in the output row itself, a plain per-channel loop that the loop vectorizer turns
// into pmaxub (SSE2) / umax (NEON). Equal to the reference kernel (padded positions are never
// selected; a window has at least one real one).

import NiNKernelCore

/// Computes output rows `rows` (indices into batch x outHeight) of a max pool with `geometry`
/// (its channels are `inChannels`, the same in and out).
public func maxPoolPortable(_ geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                            rows: Range<Int>) {
    let g = geometry, c = g.inChannels
    let inImage = g.inHeight * g.inWidth * c
    for row in rows {
        let n = row / g.outHeight, oy = row % g.outHeight
        let image = input + n * inImage
        let iy0 = oy * g.strideHeight - g.padTop
        let yStart = max(0, iy0), yEnd = min(g.inHeight, iy0 + g.kernelHeight)
        for ox in 0..<g.outWidth {
            let ix0 = ox * g.strideWidth - g.padLeft
            let xStart = max(0, ix0), xEnd = min(g.inWidth, ix0 + g.kernelWidth)
            let out = output + (row * g.outWidth + ox) * c
            out.initialize(repeating: 0, count: c)
            for y in yStart..<yEnd {
                for x in xStart..<xEnd {
                    let p = image + (y * g.inWidth + x) * c
                    for ch in 0..<c { out[ch] = max(out[ch], p[ch]) }
                }
            }
        }
    }
}
