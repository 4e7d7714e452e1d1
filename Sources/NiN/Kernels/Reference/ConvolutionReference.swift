// Reference convolution (any kernel, stride, padding; NHWC u8 in, OHWI int8 weights, u8 out),
// fused with requantization and ReLU. This is the executable spec the optimized kernels must equal.

import NiNKernelCore

/// Computes output rows `rows` (indices into batch x output height) of a convolution.
func convolutionReference(_ a: KernelArguments, _ p: ConvolutionParameters, rows: Range<Int>) {
    let inC = a.inShape.channels, inH = a.inShape.height, inW = a.inShape.width
    let outC = a.outShape.channels, outH = a.outShape.height, outW = a.outShape.width
    let kh = a.window.kernelHeight, kw = a.window.kernelWidth
    let weights = p.weights, bias = p.bias, multiplier = p.multiplier, shift = p.shift
    let output = a.output.assumingMemoryBound(to: UInt8.self)
    let zIn = a.inputZeroPoint
    for row in rows {
        let n = row / outH, oy = row % outH
        let image = a.input + n * a.inShape.elementCount
        let outRow = output + (n * outH + oy) * outW * outC
        let iy0 = oy * a.window.strideHeight - a.window.padTop
        let kyStart = max(0, -iy0), kyEnd = min(kh, inH - iy0)
        for ox in 0..<outW {
            let ix0 = ox * a.window.strideWidth - a.window.padLeft
            let kxStart = max(0, -ix0), kxEnd = min(kw, inW - ix0)
            let runLength = (kxEnd - kxStart) * inC
            for o in 0..<outC {
                var acc = bias[o]
                if runLength > 0 {
                    for ky in kyStart..<kyEnd {
                        let x = image + ((iy0 + ky) * inW + ix0 + kxStart) * inC
                        let w = weights + ((o * kh + ky) * kw + kxStart) * inC
                        acc &+= dotProduct(x, w, runLength, zeroPoint: zIn)
                    }
                }
                outRow[ox * outC + o] = requantize(acc, scale: requantizationScale(multiplier: multiplier[o], shift: shift[o]),
                                                   zeroPoint: a.outputZeroPoint, low: a.low, high: a.high)
            }
        }
    }
}

/// `sum((x[i] - zeroPoint) * w[i])` over `count` elements, exact in int32.
@inline(__always)
private func dotProduct(_ x: UnsafePointer<UInt8>, _ w: UnsafePointer<Int8>, _ count: Int, zeroPoint: Int32) -> Int32 {
    var sum: Int32 = 0
    for i in 0..<count {
        sum &+= (Int32(x[i]) &- zeroPoint) &* Int32(w[i])
    }
    return sum
}
