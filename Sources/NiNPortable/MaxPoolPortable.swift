// Portable max pooling on u8 NHWC tensors: per output pixel (the walk is forEachPoolWindow),
// the running maximum over the window kept in the output row itself, a plain per-channel loop
// that the loop vectorizer turns into pmaxub (SSE2) / umax (NEON). Equal to the reference
// kernel (padded positions are never selected; a window has at least one real one).

import NiNKernelCore

/// Computes output rows `rows` (indices into batch x outHeight) of a max pool with `geometry`
/// (its channels are `inChannels`, the same in and out).
public func maxPoolPortable(_ geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                            rows: Range<Int>) {
    let g = geometry, c = g.inChannels
    forEachPoolWindow(g, input: input, output: output, rows: rows) { w in
        w.output.initialize(repeating: 0, count: c)
        for y in w.ys {
            for x in w.xs {
                let p = w.image + (y * g.inWidth + x) * c
                for ch in 0..<c { w.output[ch] = max(w.output[ch], p[ch]) }
            }
        }
    }
}
