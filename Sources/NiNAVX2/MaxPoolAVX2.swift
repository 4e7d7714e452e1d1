// AVX2 max pooling on u8 NHWC tensors: per output pixel (the walk is forEachPoolWindow), 32
// channels at a time, the running maximum stays in a register across the window (`vpmaxub`),
// then one store. Equal to the
// reference kernel (padded positions are never selected; a window has at least one real one).
// Compiled with -mavx2 in its own target; called only when the CPU has AVX2.

import _Builtin_intrinsics.intel
import NiNKernelCore

/// Computes output rows `rows` (indices into batch x outHeight) of a max pool with `geometry`
/// (its channels are `inChannels`, the same in and out).
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func maxPoolAVX2(_ geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                        rows: Range<Int>) {
    let g = geometry, c = g.inChannels
    let vectorChannels = c / 32 * 32
    forEachPoolWindow(g, input: input, output: output, rows: rows) { w in
        var ch = 0
        while ch < vectorChannels {
            var best = _mm256_setzero_si256()
            for y in w.ys {
                var p = w.image + (y * g.inWidth + w.xs.lowerBound) * c + ch
                for _ in w.xs {
                    best = _mm256_max_epu8(best, _mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: __m256i.self)))
                    p += c
                }
            }
            _mm256_storeu_si256(UnsafeMutableRawPointer(w.output + ch).assumingMemoryBound(to: __m256i.self), best)
            ch += 32
        }
        w.storeMaxima(from: ch, geometry: g)  // the channels left over, one at a time
    }
}
