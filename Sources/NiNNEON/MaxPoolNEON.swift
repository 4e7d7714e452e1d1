// NEON max pooling on u8 NHWC tensors, for the arm64 families (neon, neondot, i8mm): per output
// pixel (the walk is forEachPoolWindow), 64 channels at a time, then 16, the running maxima stay
// in registers across the window (`umax`), then one store each; the channels past the last 16,
// one at a time. Equal to the reference kernel (padded positions are never selected; a window
// has at least one real one). Against the portable pool, which all three used: 0.2 M fewer
// instructions per classic inference under qemu (the portable loop reads and writes each
// maximum in the output row at every window position), and one copy of
// the code (`@export(interface)`): Embedded Swift compiles `maxPoolPortable` into each module
// that calls it, and a static link of libnin.a could keep the engine's `-Osize` copy, a scalar
// byte loop (8.1 M instructions).

import _Builtin_intrinsics.arm.neon
import NiNKernelCore

/// Computes output rows `rows` (indices into batch x outHeight) of a max pool with `geometry`
/// (its channels are `inChannels`, the same in and out).
@export(interface)  // compiled only here (Embedded: not into callers)
public func maxPoolNEON(_ geometry: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                        rows: Range<Int>) {
    let g = geometry, c = g.inChannels
    forEachPoolWindow(g, input: input, output: output, rows: rows) { w in
        @inline(__always) func load(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt8> {
            p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
        }
        @inline(__always) func store(_ v: SIMD16<UInt8>, _ ch: Int) {
            UnsafeMutableRawPointer(w.output + ch).storeBytes(of: v, as: SIMD16<UInt8>.self)
        }
        var ch = 0
        while ch + 64 <= c {  // 64 channels a pass: four running maxima
            var b0 = SIMD16<UInt8>(), b1 = b0, b2 = b0, b3 = b0
            for y in w.ys {
                var p = UnsafeRawPointer(w.image + (y * g.inWidth + w.xs.lowerBound) * c + ch)
                for _ in w.xs {
                    b0 = vmaxq_u8(b0, load(p, 0)); b1 = vmaxq_u8(b1, load(p, 16))
                    b2 = vmaxq_u8(b2, load(p, 32)); b3 = vmaxq_u8(b3, load(p, 48))
                    p += c
                }
            }
            store(b0, ch); store(b1, ch + 16); store(b2, ch + 32); store(b3, ch + 48)
            ch += 64
        }
        while ch + 16 <= c {
            var best = SIMD16<UInt8>()
            for y in w.ys {
                var p = UnsafeRawPointer(w.image + (y * g.inWidth + w.xs.lowerBound) * c + ch)
                for _ in w.xs {
                    best = vmaxq_u8(best, load(p, 0))
                    p += c
                }
            }
            store(best, ch)
            ch += 16
        }
        w.storeMaxima(from: ch, geometry: g)  // the channels left over, one at a time
    }
}
