// NEON max pooling on u8 NHWC tensors, for the arm64 families (neon, neondot, i8mm): per output
// pixel (the walk is forEachPoolWindow), 16 channels at a time, the running maximum stays in a
// register across the window (`umax`), then one store; the channels past the last 16, one at a
// time. Equal to the reference kernel (padded positions are never selected; a window has at
// least one real one). The portable loop it replaces stayed scalar in the arm64 build (7
// instructions per channel and window position: 8.1 M of the classic model's inference under
// qemu, against 0.7 M here).

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// Computes output rows `rows` (indices into batch x outHeight) of a max pool with `geometry`
/// (its channels are `inChannels`, the same in and out).
@export(interface)  // compiled only here (Embedded: not into callers)
public func maxPoolNEON(_ geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                        rows: Range<Int>) {
    let g = geometry, c = g.inChannels
    let vectorChannels = c / 16 * 16
    forEachPoolWindow(g, input: input, output: output, rows: rows) { w in
        var ch = 0
        while ch < vectorChannels {
            var best = SIMD16<UInt8>()
            for y in w.ys {
                var p = UnsafeRawPointer(w.image + (y * g.inWidth + w.xs.lowerBound) * c + ch)
                for _ in w.xs {
                    best = vmaxq_u8(best, p.loadUnaligned(as: SIMD16<UInt8>.self))
                    p += c
                }
            }
            UnsafeMutableRawPointer(w.output + ch).storeBytes(of: best, as: SIMD16<UInt8>.self)
            ch += 16
        }
        while ch < c {  // the channels left over, one at a time
            var best: UInt8 = 0
            for y in w.ys {
                for x in w.xs { best = max(best, w.image[(y * g.inWidth + x) * c + ch]) }
            }
            w.output[ch] = best
            ch += 1
        }
    }
}
