// AVX2 max pooling on u8 NHWC tensors: per output pixel, 32 channels at a time, the running
// maximum stays in a register across the window (`vpmaxub`), then one store. Equal to the
// reference kernel (padded positions are never selected; a window has at least one real one).
// Compiled with -mavx2 in its own target; called only when the CPU has AVX2.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Computes output rows `rows` (indices into batch x outHeight) of a max pool with `geometry`
/// (its channels are `inChannels`, the same in and out).
public func maxPoolAVX2(_ geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                        rows: Range<Int>) {
    let g = geometry, c = g.inChannels
    let inImage = g.inHeight * g.inWidth * c
    let vectorChannels = c / 32 * 32
    for row in rows {
        let n = row / g.outHeight, oy = row % g.outHeight
        let image = input + n * inImage
        let iy0 = oy * g.strideHeight - g.padTop
        let yStart = max(0, iy0), yEnd = min(g.inHeight, iy0 + g.kernelHeight)
        for ox in 0..<g.outWidth {
            let ix0 = ox * g.strideWidth - g.padLeft
            let xStart = max(0, ix0), xEnd = min(g.inWidth, ix0 + g.kernelWidth)
            let out = output + (row * g.outWidth + ox) * c
            var ch = 0
            while ch < vectorChannels {
                var best = _mm256_setzero_si256()
                for y in yStart..<yEnd {
                    var p = image + (y * g.inWidth + xStart) * c + ch
                    for _ in xStart..<xEnd {
                        best = _mm256_max_epu8(best, _mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: __m256i.self)))
                        p += c
                    }
                }
                _mm256_storeu_si256(UnsafeMutableRawPointer(out + ch).assumingMemoryBound(to: __m256i.self), best)
                ch += 32
            }
            while ch < c {  // the channels left over, one at a time
                var best: UInt8 = 0
                for y in yStart..<yEnd {
                    for x in xStart..<xEnd { best = max(best, image[(y * g.inWidth + x) * c + ch]) }
                }
                out[ch] = best
                ch += 1
            }
        }
    }
}
