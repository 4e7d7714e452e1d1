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

/// Average pooling over output rows `rows`: padded positions count as the zero point and the
/// divisor is always kernel height x width.
func averagePoolReference(_ a: KernelArguments, rows: Range<Int>) {
    let c = a.inShape.channels, inH = a.inShape.height, inW = a.inShape.width
    let outH = a.outShape.height, outW = a.outShape.width
    let divisor = Int32(a.window.kernelHeight * a.window.kernelWidth)
    let output = a.output.assumingMemoryBound(to: UInt8.self)
    for row in rows {
        let n = row / outH, oy = row % outH
        let image = a.input + n * a.inShape.elementCount
        let iy0 = oy * a.window.strideHeight - a.window.padTop
        let yStart = max(0, iy0), yEnd = min(inH, iy0 + a.window.kernelHeight)
        for ox in 0..<outW {
            let ix0 = ox * a.window.strideWidth - a.window.padLeft
            let xStart = max(0, ix0), xEnd = min(inW, ix0 + a.window.kernelWidth)
            let padded = divisor - Int32((yEnd - yStart) * (xEnd - xStart))
            let out = output + ((n * outH + oy) * outW + ox) * c
            for ch in 0..<c {
                var sum = padded * a.inputZeroPoint
                for y in yStart..<yEnd {
                    for x in xStart..<xEnd { sum += Int32(image[(y * inW + x) * c + ch]) }
                }
                out[ch] = UInt8(truncatingIfNeeded: (sum + divisor / 2) / divisor)
            }
        }
    }
}

/// Global average pool: `sums[n][c] = sum over H x W of (q - zeroPoint)`, int32, for every image.
func globalAveragePoolReference(_ a: KernelArguments) {
    let c = a.inShape.channels, positions = a.inShape.height * a.inShape.width
    let sums = a.output.assumingMemoryBound(to: Int32.self)
    for n in 0..<a.batch {
        let image = a.input + n * a.inShape.elementCount
        let out = sums + n * c
        for ch in 0..<c { out[ch] = 0 }
        for p in 0..<positions {
            for ch in 0..<c { out[ch] &+= Int32(image[p * c + ch]) &- a.inputZeroPoint }
        }
    }
}
