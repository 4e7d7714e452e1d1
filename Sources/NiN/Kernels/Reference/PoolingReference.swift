// Reference pooling kernels on u8 NHWC tensors: max pool, average pool (count_include_pad,
// round half up) and the global average pool head (int32 sums).

import NiNKernelCore

/// Max pooling over output rows `rows` (indices into batch x output height) of `g`; padded
/// positions are never selected. The reference family's max pool.
func maxPoolReference(_ g: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                      rows: Range<Int>) {
    let c = g.inChannels, inH = g.inHeight, inW = g.inWidth
    let outH = g.outHeight, outW = g.outWidth
    for row in rows {
        let n = row / outH, oy = row % outH
        let image = input + n * inH * inW * c
        let iy0 = oy * g.strideHeight - g.padTop
        let yStart = max(0, iy0), yEnd = min(inH, iy0 + g.kernelHeight)
        for ox in 0..<outW {
            let ix0 = ox * g.strideWidth - g.padLeft
            let xStart = max(0, ix0), xEnd = min(inW, ix0 + g.kernelWidth)
            let out = output + ((n * outH + oy) * outW + ox) * c
            for ch in 0..<c { out[ch] = 0 }
            for y in yStart..<yEnd {
                for x in xStart..<xEnd {
                    let p = image + (y * inW + x) * c
                    for ch in 0..<c { out[ch] = max(out[ch], p[ch]) }
                }
            }
        }
    }
}

/// Average pooling over output rows `rows` of `g`: padded positions count as the input zero
/// point `zeroPoint` and the divisor is always kernel height x width.
func averagePoolReference(_ g: ConvolutionGeometry, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                          rows: Range<Int>, zeroPoint: Int32) {
    let c = g.inChannels, inH = g.inHeight, inW = g.inWidth
    let outH = g.outHeight, outW = g.outWidth
    let divisor = Int32(g.kernelHeight * g.kernelWidth)
    for row in rows {
        let n = row / outH, oy = row % outH
        let image = input + n * inH * inW * c
        let iy0 = oy * g.strideHeight - g.padTop
        let yStart = max(0, iy0), yEnd = min(inH, iy0 + g.kernelHeight)
        for ox in 0..<outW {
            let ix0 = ox * g.strideWidth - g.padLeft
            let xStart = max(0, ix0), xEnd = min(inW, ix0 + g.kernelWidth)
            let padded = divisor - Int32((yEnd - yStart) * (xEnd - xStart))
            let out = output + ((n * outH + oy) * outW + ox) * c
            for ch in 0..<c {
                var sum = padded * zeroPoint
                for y in yStart..<yEnd {
                    for x in xStart..<xEnd { sum += Int32(image[(y * inW + x) * c + ch]) }
                }
                out[ch] = UInt8(truncatingIfNeeded: (sum + divisor / 2) / divisor)
            }
        }
    }
}

/// Global average pool: `sums[n][c] = sum over H x W of (q - zeroPoint)`, int32, for each of
/// `batch` images of `g`'s input.
func globalAveragePoolReference(_ g: ConvolutionGeometry, input: UnsafePointer<UInt8>, sums: UnsafeMutablePointer<Int32>,
                                batch: Int, zeroPoint: Int32) {
    let c = g.inChannels, positions = g.inHeight * g.inWidth
    for n in 0..<batch {
        let image = input + n * positions * c
        let out = sums + n * c
        for ch in 0..<c { out[ch] = 0 }
        for p in 0..<positions {
            for ch in 0..<c { out[ch] &+= Int32(image[p * c + ch]) &- zeroPoint }
        }
    }
}
