// The quad families' im2col (`im2colQuads`, Sources/NiNKernelCore/QuadConvolution.swift, which
// AMX shares with wider rows) against a plain im2col written out byte by byte: every path it
// takes (runs of pixels wholly inside the image, copied by kernel row as 16-byte vectors, exact
// moves or memmove; pixels at the border one by one), kernels 1 to 20 wide, strides 1 to 5, with
// and without padding, images whose last row ends at the input's end, any part of the pixel
// order. Also pins where it may store: the rows, then at most the scratch's 16 bytes of slack.

import NiNKernelCheck
import NiNKernelCore
import Testing

/// The bytes the rows of `count` pixels plus the slack may span (`Im2colScratch.slack`).
private let slack = 16

@Test("im2colQuads: rows and pixel table equal a plain im2col; stores stay within the rows and slack")
func im2colQuadsEqualsPlainIm2col() {
    var rng = SplitMix(state: 4242)
    // Trials that took each path (computed here from the geometry, not from the code under test).
    var vectorRuns = 0, exactLastRow = 0, longRuns = 0, overReadGuarded = 0, border = 0, widerRows = 0
    for trial in 0..<1500 {
        // The first three: the classic NiN's first layer (11x11, stride 4, one channel, 227x227).
        let classic = trial < 3
        let c = classic ? 1 : [1, 1, 1, 1, 2, 3, 4, 5, 8, 12, 16, 17][Int.random(in: 0..<12, using: &rng)]
        let kh = classic ? 11 : Int.random(in: 1...13, using: &rng), kw = classic ? 11 : Int.random(in: 1...20, using: &rng)
        let sh = classic ? 4 : Int.random(in: 1...5, using: &rng), sw = classic ? 4 : Int.random(in: 1...5, using: &rng)
        let padded = !classic && Bool.random(using: &rng)
        let pt = padded ? Int.random(in: 0..<kh, using: &rng) : 0, pl = padded ? Int.random(in: 0..<kw, using: &rng) : 0
        let pb = padded ? Int.random(in: 0..<kh, using: &rng) : 0, pr = padded ? Int.random(in: 0..<kw, using: &rng) : 0
        let h = classic ? 227 : Int.random(in: max(1, kh - pt - pb)...(kh + 14), using: &rng)
        let w = classic ? 227 : Int.random(in: max(1, kw - pl - pr)...(kw + 30), using: &rng)
        let outH = (h + pt + pb - kh) / sh + 1, outW = (w + pl + pr - kw) / sw + 1
        let batch = Int.random(in: 1...2, using: &rng)
        let z = Bool.random(using: &rng) ? 0 : Int32.random(in: 1...255, using: &rng)
        let g = ConvolutionGeometry(inHeight: h, inWidth: w, inChannels: c, outHeight: outH, outWidth: outW, outChannels: 16,
                                    kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                                    padTop: pt, padLeft: pl)
        let k = g.kernelSize, quadK = quadPaddedK(g)
        // The VNNI rows (K in whole quads), or AMX's wider ones (whole 64-byte tiles, maybe more).
        let wide = trial % 3 == 0
        let kPadded = wide ? (quadK + 63) / 64 * 64 + 64 * Int.random(in: 0...1, using: &rng) : quadK
        // A part of the rows, in the order with or without skipped border columns, and a chunk of it.
        let totalRows = batch * outH
        let lower = Int.random(in: 0..<totalRows, using: &rng), upper = Int.random(in: (lower + 1)...totalRows, using: &rng)
        let order = PixelOrder(rows: lower..<upper, geometry: g, skipPadding: Bool.random(using: &rng))
        let first = Int.random(in: 0..<order.pixelCount, using: &rng)
        let last = Int.random(in: (first + 1)...order.pixelCount, using: &rng)
        let count = last - first

        // The input exactly as long as its images (an over-read past it is caught by ASan).
        let inputCount = batch * h * w * c
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: inputCount)
        for i in 0..<inputCount { input[i] = UInt8.random(in: 0...255, using: &rng) }
        let guardBytes = 64, rowsBytes = count * kPadded + slack
        let rows = UnsafeMutablePointer<UInt8>.allocate(capacity: rowsBytes + guardBytes)
        rows.initialize(repeating: 0xA5, count: rowsBytes + guardBytes)
        let table = UnsafeMutablePointer<PixelTaps>.allocate(capacity: count)
        let packed = PackedConvolution(outChannels: 16, kGroups: kPadded / 4, groupBytes: 4)!
        let scratch = UnsafeMutableRawPointer(rows)
        let call = ConvolutionCall(geometry: g, rowCount: totalRows, input: input, output: UnsafeMutablePointer(rows),
                                   inputZeroPoint: z, packed: packed, scratch: scratch)
        im2colQuads(call, order: order, pixels: first..<last, kPadded: kPadded, rows: rows, table: table)

        var wrong = 0, wrongTaps = 0
        for i in 0..<count {
            let (partRow, ox) = order.position(first + i)
            let row = lower + partRow, n = row / outH, oy = row % outH
            let expectedTaps = PixelTaps(pixel: row * outW + ox, y: oy, x: ox, geometry: g)
            let t = table[i]
            if t.pixel != expectedTaps.pixel || t.kyStart != expectedTaps.kyStart || t.kyEnd != expectedTaps.kyEnd
                || t.kxStart != expectedTaps.kxStart || t.kxEnd != expectedTaps.kxEnd { wrongTaps += 1 }
            var kk = 0
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let iy = oy * sh - pt + ky, ix = ox * sw - pl + kx
                    for ch in 0..<c {
                        let expected = iy >= 0 && iy < h && ix >= 0 && ix < w ? input[((n * h + iy) * w + ix) * c + ch]
                                                                              : UInt8(z)
                        if rows[i * kPadded + kk] != expected { wrong += 1 }
                        kk += 1
                    }
                }
            }
            for kk in k..<quadK where rows[i * kPadded + kk] != 0 { wrong += 1 }  // K's quad padding is zero
        }
        let guardTouched = (rowsBytes..<(rowsBytes + guardBytes)).contains { rows[$0] != 0xA5 }
        let summary = "k \(kh)x\(kw) c \(c) s \(sh)x\(sw) pads \(pt) \(pl) \(pb) \(pr) in \(h)x\(w) batch \(batch) z \(z) "
            + "kPadded \(kPadded) rows \(lower)..<\(upper) pixels \(first)..<\(last)"
        #expect(wrong == 0, "trial \(trial): \(wrong) wrong bytes; \(summary)")
        #expect(wrongTaps == 0, "trial \(trial): \(wrongTaps) wrong table entries; \(summary)")
        #expect(!guardTouched, "trial \(trial): a store ran past the rows and the slack; \(summary)")

        // Which paths the pixels took: inside the image or at its border; an inside run's kernel
        // rows as vectors (run <= 16) or longer copies; the 8...16 bytes whose last row moves
        // exactly; the vectors the input's end forbids (the last row's 16 bytes would pass it).
        let run = kw * c
        for i in 0..<count {
            let (partRow, ox) = order.position(first + i)
            let oy = (lower + partRow) % outH, iy0 = oy * sh - pt, ix0 = ox * sw - pl
            guard iy0 >= 0 && iy0 + kh <= h && ix0 >= 0 && ix0 + kw <= w else { border += 1; continue }
            if run > 16 { longRuns += 1 } else if run >= 8 { exactLastRow += 1 } else { vectorRuns += 1 }
            if run < 8 && ((iy0 + kh - 1) * w + ix0) * c + 16 > h * w * c { overReadGuarded += 1 }
        }
        if wide { widerRows += 1 }
        input.deallocate(); rows.deallocate(); table.deallocate()
    }
    let reached = "pixels inside by vectors \(vectorRuns), with an exact last row \(exactLastRow), long runs \(longRuns), "
        + "guarded at the input's end \(overReadGuarded), at the border \(border); wider rows in \(widerRows) trials"
    #expect(vectorRuns >= 500 && exactLastRow >= 500 && longRuns >= 1000 && overReadGuarded >= 20 && border >= 1000
            && widerRows >= 400, "\(reached)")
    print("im2colQuads: \(reached)")
}
