// Reference convolution (any kernel, stride, padding; NHWC u8 in, OHWI int8 weights, u8 out),
// fused with requantization and ReLU. This is the executable spec the optimized kernels must
// equal. It is the reference family's convolution (KernelFamily.generic): its `pack` borrows
// the model's weights and biases in place and keeps the stored multipliers and shifts in a
// table of its own (not the optimized families' RequantBlock, so the spec shares none of their
// code), and its kernel computes the scale of each output from them.

import NiNKernelCore

/// Layout of the reference family's requantization table (`PackedConvolution.requant`), in
/// bytes: the layer's output zero point and clamp, then its per-channel multipliers and shifts
/// as the model stores them. It fits in `RequantBlock.bytes` per 16 channels for any count.
enum ReferenceRequant {
    /// int32: the output zero point z.
    static let zeroPoint = 0
    /// int32: the lowest output value (z with ReLU, else 0).
    static let low = 4
    /// int32: the highest output value (the layer's `output_max`).
    static let high = 8
    /// int32 x outChannels: the multipliers; the shifts follow them.
    static let multipliers = 16
}

/// The reference family's `pack`: `layer`'s weights and biases borrowed in place, and its
/// requantization parameters copied into `ReferenceRequant`'s layout; nil when memory runs out.
func packReference(_ layer: ConvolutionWeights) -> PackedConvolution? {
    guard let packed = PackedConvolution(borrowing: layer) else { return nil }
    let table = packed.requant, outC = layer.outChannels
    table.storeBytes(of: layer.outputZeroPoint, toByteOffset: ReferenceRequant.zeroPoint, as: Int32.self)
    table.storeBytes(of: layer.relu ? layer.outputZeroPoint : 0, toByteOffset: ReferenceRequant.low, as: Int32.self)
    table.storeBytes(of: layer.outputMax, toByteOffset: ReferenceRequant.high, as: Int32.self)
    let multipliers = (table + ReferenceRequant.multipliers).assumingMemoryBound(to: Int32.self)
    for o in 0..<outC {
        multipliers[o] = layer.multiplier[o]
        multipliers[outC + o] = layer.shift[o]
    }
    return packed
}

/// Computes part `part` of `parts` of a convolution call (a contiguous slice of its output
/// rows, indices into batch x output height), with parameters from `packReference`.
func convolutionReference(_ call: ConvolutionCall, part: Int, parts: Int) {
    let g = call.geometry
    let inC = g.inChannels, inH = g.inHeight, inW = g.inWidth
    let outC = g.outChannels, outH = g.outHeight, outW = g.outWidth
    let kh = g.kernelHeight, kw = g.kernelWidth
    let weights = call.weights.assumingMemoryBound(to: Int8.self), bias = call.bias
    let zOut = call.requant.load(fromByteOffset: ReferenceRequant.zeroPoint, as: Int32.self)
    let low = call.requant.load(fromByteOffset: ReferenceRequant.low, as: Int32.self)
    let high = call.requant.load(fromByteOffset: ReferenceRequant.high, as: Int32.self)
    let multiplier = (call.requant + ReferenceRequant.multipliers).assumingMemoryBound(to: Int32.self)
    let shift = multiplier + outC
    let zIn = call.inputZeroPoint
    for row in (call.rowCount * part / parts)..<(call.rowCount * (part + 1) / parts) {
        let n = row / outH, oy = row % outH
        let image = call.input + n * inH * inW * inC
        let outRow = call.output + (n * outH + oy) * outW * outC
        let iy0 = oy * g.strideHeight - g.padTop
        let kyStart = max(0, -iy0), kyEnd = min(kh, inH - iy0)
        for ox in 0..<outW {
            let ix0 = ox * g.strideWidth - g.padLeft
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
                                                   zeroPoint: zOut, low: low, high: high)
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
