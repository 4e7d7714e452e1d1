// The optimized convolutions' pixel order and tile taps (Sources/NiNKernelCore/PixelOrder.swift):
// the order visits every output pixel of a part exactly once (position and its division-free
// successor agree), inside columns first; and the K runs of a tile cover every tap that reaches
// the image for any of its pixels, so skipping the rest is exact. (The kernels' results are compared with the reference in
// OptimizedKernelTests; this pins the bookkeeping they rely on.)

import NiNKernelCore
import NiN
import NiNKernelCheck
import Testing

@Test("pixel order: a permutation of the part's pixels, inside columns first; next agrees with position")
func pixelOrderIsAPermutation() {
    var rng = SplitMix(state: 77)
    for _ in 0..<300 {
        let k = Int.random(in: 1...6, using: &rng), stride = Int.random(in: 1...3, using: &rng)
        let pad = Int.random(in: 0..<k, using: &rng)
        let inSide = Int.random(in: k...(k + 14), using: &rng)
        let out = (inSide + 2 * pad - k) / stride + 1
        let g = ConvolutionGeometry(inHeight: inSide, inWidth: inSide, inChannels: 4, outHeight: out, outWidth: out,
                                    outChannels: 16, kernelHeight: k, kernelWidth: k, strideHeight: stride,
                                    strideWidth: stride, padTop: pad, padLeft: pad)
        let batchRows = out * Int.random(in: 1...3, using: &rng)
        let lower = Int.random(in: 0..<batchRows, using: &rng), upper = Int.random(in: (lower + 1)...batchRows, using: &rng)
        let skip = Bool.random(using: &rng)
        let order = PixelOrder(rows: lower..<upper, geometry: g, skipPadding: skip)
        var seen = Set<Int>()
        var walked = order.position(0)
        for i in 0..<order.pixelCount {
            let p = order.position(i)
            #expect(p == walked, "next disagrees with position at \(i)")
            #expect(p.row >= 0 && p.row < order.rowCount && p.x >= 0 && p.x < out)
            let inside = p.x >= order.insideStart && p.x < order.insideEnd
            #expect(inside == (i < order.rowCount * (order.insideEnd - order.insideStart)))
            seen.insert(p.row * out + p.x)
            walked = order.next(p)
        }
        #expect(seen.count == order.pixelCount)
        // forEachRun visits the pixels of any range in forEachPixel's order, a row's inside
        // columns in one run, each border pixel alone.
        let first = Int.random(in: 0..<order.pixelCount, using: &rng)
        let range = first..<Int.random(in: (first + 1)...order.pixelCount, using: &rng)
        var pixels: [[Int]] = [], runs: [[Int]] = []
        order.forEachPixel(range) { row, image, y, x in pixels.append([row, image, y, x]) }
        order.forEachRun(range) { row, image, y, columns in
            let inside = columns.lowerBound >= order.insideStart && columns.upperBound <= order.insideEnd
            #expect(!columns.isEmpty && (columns.count == 1 || inside))
            for x in columns { runs.append([row, image, y, x]) }
        }
        #expect(runs == pixels, "forEachRun disagrees with forEachPixel over \(range)")
        // With skipping, inside columns are exactly those whose window lies within the image
        // horizontally; without, every column counts as inside (plain row-major order).
        for x in 0..<out {
            let within = x * stride - pad >= 0 && x * stride - pad + k <= inSide
            #expect((x >= order.insideStart && x < order.insideEnd) == (skip ? within : true))
        }
    }
}

@Test("tile taps: the K runs are exactly the taps inside the image for some pixel of the tile")
func tileTapsCoverTheImage() {
    var rng = SplitMix(state: 78)
    for _ in 0..<2000 {
        let kh = Int.random(in: 1...7, using: &rng), kw = Int.random(in: 1...7, using: &rng)
        let c = 4 * Int.random(in: 1...3, using: &rng)
        let g = ConvolutionGeometry(inHeight: 9, inWidth: 9, inChannels: c, outHeight: 9, outWidth: 9, outChannels: 16,
                                    kernelHeight: kh, kernelWidth: kw, strideHeight: 1, strideWidth: 1,
                                    padTop: kh / 2, padLeft: kw / 2)
        let kQuads = kh * kw * c / 4
        let count = Int.random(in: 1...8, using: &rng)
        let pixels = (0..<count).map { _ -> PixelTaps in
            let ky0 = Int.random(in: 0..<kh, using: &rng), kx0 = Int.random(in: 0..<kw, using: &rng)
            return PixelTaps(pixel: 0, kyStart: UInt8(ky0), kyEnd: UInt8(Int.random(in: (ky0 + 1)...kh, using: &rng)),
                             kxStart: UInt8(kx0), kxEnd: UInt8(Int.random(in: (kx0 + 1)...kw, using: &rng)))
        }
        let t = pixels.withUnsafeBufferPointer { taps($0.baseAddress!, count: count, geometry: g, kGroups: kQuads, groupSize: 4, skip: true) }
        var read = Set<Int>()
        for run in 0..<t.count { for q in (t.first + run * t.stride)..<(t.first + run * t.stride + t.length) { read.insert(q) } }
        #expect(read.allSatisfy { $0 >= 0 && $0 < kQuads })
        // ...and nothing else: exactly the kernel rows and columns that reach inside the image
        // for some pixel (the bounding box of their taps), so border tiles skip their padding.
        let rows = Int(pixels.map(\.kyStart).min()!)..<Int(pixels.map(\.kyEnd).max()!)
        let columns = Int(pixels.map(\.kxStart).min()!)..<Int(pixels.map(\.kxEnd).max()!)
        var box = Set<Int>()
        for ky in rows {
            for kx in columns {
                let tap = ky * kw + kx
                box.formUnion((tap * c / 4)..<((tap + 1) * c / 4))
            }
        }
        #expect(read == box, "the runs read taps outside the pixels' window")
        for p in pixels {
            for ky in Int(p.kyStart)..<Int(p.kyEnd) {
                for kx in Int(p.kxStart)..<Int(p.kxEnd) {
                    for q in ((ky * kw + kx) * c / 4)..<((ky * kw + kx + 1) * c / 4) {
                        #expect(read.contains(q), "tap (\(ky), \(kx)) quad \(q) is not read")
                    }
                }
            }
        }
        let full = pixels.withUnsafeBufferPointer { taps($0.baseAddress!, count: count, geometry: g, kGroups: kQuads, groupSize: 4, skip: false) }
        #expect(full.first == 0 && full.count == 1 && full.length == kQuads)
    }
}

@Test("pixel taps: the kernel rows and columns inside the image, against a brute-force search")
func pixelTapsBruteForce() {
    var rng = SplitMix(state: 79)
    var checked = 0, clipped = 0
    for _ in 0..<400 {
        let kh = Int.random(in: 1...9, using: &rng), kw = Int.random(in: 1...9, using: &rng)
        let sh = Int.random(in: 1...4, using: &rng), sw = Int.random(in: 1...4, using: &rng)
        let padTop = Int.random(in: 0..<kh, using: &rng), padLeft = Int.random(in: 0..<kw, using: &rng)
        let padBottom = Int.random(in: 0..<kh, using: &rng), padRight = Int.random(in: 0..<kw, using: &rng)
        let inH = Int.random(in: max(1, kh - padTop - padBottom)...(kh + 10), using: &rng)
        let inW = Int.random(in: max(1, kw - padLeft - padRight)...(kw + 10), using: &rng)
        let outH = (inH + padTop + padBottom - kh) / sh + 1, outW = (inW + padLeft + padRight - kw) / sw + 1
        let g = ConvolutionGeometry(inHeight: inH, inWidth: inW, inChannels: 4, outHeight: outH, outWidth: outW,
                                    outChannels: 16, kernelHeight: kh, kernelWidth: kw, strideHeight: sh,
                                    strideWidth: sw, padTop: padTop, padLeft: padLeft)
        for y in 0..<outH {
            for x in 0..<outW {
                let pixel = Int.random(in: 0..<1_000_000, using: &rng)
                let t = PixelTaps(pixel: pixel, y: y, x: x, geometry: g)
                // The taps whose input position lies inside the image, found one by one.
                let rows = (0..<kh).filter { (0..<inH).contains(y * sh - padTop + $0) }
                let columns = (0..<kw).filter { (0..<inW).contains(x * sw - padLeft + $0) }
                #expect(t.pixel == Int32(pixel))
                #expect(Int(t.kyStart)..<Int(t.kyEnd) == rows.first!..<(rows.last! + 1), "rows at (\(y), \(x))")
                #expect(Int(t.kxStart)..<Int(t.kxEnd) == columns.first!..<(columns.last! + 1), "columns at (\(y), \(x))")
                if rows.count < kh || columns.count < kw { clipped += 1 }
                checked += 1
            }
        }
    }
    #expect(checked > 5000 && clipped > 1000)
}
