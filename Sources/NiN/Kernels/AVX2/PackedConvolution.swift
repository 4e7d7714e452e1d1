// Weights and requantization constants of one convolution, repacked at model load into the
// layout of the optimized kernels: blocks of 16 output channels with, for AVX2
// (Sources/NiNAVX2), int16 weights by K pairs, and for AVX-512 VNNI (Sources/NiNAVX512VNNI),
// int8 weights by K quads with the input zero point folded into the bias; plus per-block tables
// of float32 scales and clamp bounds for the vector requantization (RequantBlock).

import NiNAVX2
import NiNAVX512VNNI
#if canImport(Glibc)
import Glibc
#endif

/// One convolution's packed parameters, owned memory (64-byte aligned).
final class PackedConvolution {
    /// int16 `[block][kPairs][16][2]` (AVX2) or int8 `[block][kQuads][16][4]` (VNNI).
    let weights: UnsafeMutableRawPointer
    let bias: UnsafeMutablePointer<Int32>
    let requant: UnsafeMutableRawPointer
    /// K = kh * kw * C rounded up to the kernel's group (2 for AVX2, 4 for VNNI), in groups.
    let kGroups: Int

    /// im2col scratch bytes one thread needs for this layer with `isa`'s kernel, for `batch` images.
    static func scratchBytes(layer: Layer, isa: KernelISA, batch: Int) -> Int {
        let rows = batch * layer.output.height
        let k = layer.window.kernelHeight * layer.window.kernelWidth * layer.input.channels
        switch isa {
        case .generic: return 0
        case .avx2: return convolutionAVX2ScratchBytes(outWidth: layer.output.width, kPairs: (k + 1) / 2, totalRows: rows)
        case .avx512vnni: return convolutionVNNIScratchBytes(outWidth: layer.output.width, kQuads: (k + 3) / 4, totalRows: rows)
        }
    }

    /// Packs `layer` for `isa` (avx2 or avx512vnni), reading its arrays from the model image at `base`.
    init?(layer: Layer, base: UnsafeRawPointer, isa: KernelISA) {
        let outC = layer.output.channels
        let k = layer.window.kernelHeight * layer.window.kernelWidth * layer.input.channels
        let group = isa == .avx512vnni ? 4 : 2
        let elementBytes = isa == .avx512vnni ? 1 : 2
        kGroups = (k + group - 1) / group
        let blocks = (outC + 15) / 16
        guard let w = alignedAllocate(blocks * kGroups * 16 * group * elementBytes), let b = alignedAllocate(blocks * 16 * 4),
              let r = alignedAllocate(blocks * RequantBlock.bytes) else { return nil }
        weights = w
        bias = b.assumingMemoryBound(to: Int32.self)
        requant = r

        let source = (base + layer.weightsOffset).assumingMemoryBound(to: Int8.self)
        let sourceBias = (base + layer.biasOffset).assumingMemoryBound(to: Int32.self)
        let multipliers = (base + layer.multiplierOffset).assumingMemoryBound(to: Int32.self)
        let shifts = (base + layer.shiftOffset).assumingMemoryBound(to: Int32.self)
        let floor = layer.relu ? layer.outputZeroPoint : 0
        // Weights, channel by channel into its lane of its block (the allocation is zeroed, so
        // the K padding and the padding channels stay 0); VNNI folds the input zero point into
        // the bias: it multiplies raw u8 inputs, acc = bias - z * sum(w) + sum(w * x), and
        // wrapping int32 arithmetic is exact there since the true accumulator fits in int32.
        for o in 0..<outC {
            let row = source + o * k
            let laneBase = (o / 16) * kGroups * 16 * group + (o % 16) * group
            if isa == .avx512vnni {
                let lane = w.assumingMemoryBound(to: Int8.self) + laneBase
                var sum: Int32 = 0
                for kk in 0..<k {
                    lane[(kk >> 2) * 64 + (kk & 3)] = row[kk]
                    sum &+= Int32(row[kk])
                }
                bias[o] = sourceBias[o] &- layer.inputZeroPoint &* sum
            } else {
                let lane = w.assumingMemoryBound(to: Int16.self) + laneBase
                for kk in 0..<k { lane[(kk >> 1) * 32 + (kk & 1)] = Int16(row[kk]) }
                bias[o] = sourceBias[o]
            }
        }
        for block in 0..<blocks {
            let table = requant + block * RequantBlock.bytes
            for j in 0..<16 {
                let o = min(block * 16 + j, outC - 1)  // padding channels repeat the last one; never stored
                let scale = requantizationScale(multiplier: multipliers[o], shift: shifts[o])
                table.storeBytes(of: scale, toByteOffset: RequantBlock.scale + 4 * j, as: Float.self)
                table.storeBytes(of: Float(floor - layer.outputZeroPoint), toByteOffset: RequantBlock.low + 4 * j, as: Float.self)
                table.storeBytes(of: Float(255 - layer.outputZeroPoint), toByteOffset: RequantBlock.high + 4 * j, as: Float.self)
                table.storeBytes(of: layer.outputZeroPoint, toByteOffset: RequantBlock.zeroPoint + 4 * j, as: Int32.self)
            }
        }
    }

    deinit {
        free(weights)
        free(bias)
        free(requant)
    }
}

/// 64-byte aligned, zero-filled memory (at least 64 bytes), or nil; release it with free().
func alignedAllocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    var memory: UnsafeMutableRawPointer?
    guard posix_memalign(&memory, 64, max(bytes, 64)) == 0 else { return nil }
    memory?.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
    return memory
}
