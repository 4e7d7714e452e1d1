// Weights and requantization constants of one convolution, repacked at model load into the
// layout of the optimized kernels: blocks of 16 output channels with, for AVX2
// (Sources/NiNAVX2), int16 weights by K pairs, and for AVX-512 VNNI (Sources/NiNAVX512VNNI),
// int8 weights by K quads with the input zero point folded into the bias; plus per-block tables
// that let requantization run on 64-bit lanes.

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
              let r = alignedAllocate(blocks * RequantBlockAVX2.bytes) else { return nil }
        weights = w
        bias = b.assumingMemoryBound(to: Int32.self)
        requant = r

        let source = (base + layer.weightsOffset).assumingMemoryBound(to: Int8.self)
        let sourceBias = (base + layer.biasOffset).assumingMemoryBound(to: Int32.self)
        let multipliers = (base + layer.multiplierOffset).assumingMemoryBound(to: Int32.self)
        let shifts = (base + layer.shiftOffset).assumingMemoryBound(to: Int32.self)
        let floor = layer.relu ? layer.outputZeroPoint : 0
        for block in 0..<blocks {
            let blockBase = block * kGroups * 16 * group
            for g in 0..<kGroups {
                for j in 0..<16 {
                    for t in 0..<group {
                        let o = block * 16 + j, kk = group * g + t
                        let value = (o < outC && kk < k) ? source[o * k + kk] : 0
                        let index = blockBase + (g * 16 + j) * group + t
                        if isa == .avx512vnni {
                            w.storeBytes(of: value, toByteOffset: index, as: Int8.self)
                        } else {
                            w.storeBytes(of: Int16(value), toByteOffset: 2 * index, as: Int16.self)
                        }
                    }
                }
            }
            let table = requant + block * RequantBlockAVX2.bytes
            for j in 0..<16 {
                let o = min(block * 16 + j, outC - 1)  // padding channels repeat the last one; never stored
                var channelBias = block * 16 + j < outC ? sourceBias[o] : 0
                if isa == .avx512vnni && block * 16 + j < outC {
                    // The VNNI kernel multiplies raw u8 inputs: acc = bias - z * sum(w) + sum(w * x).
                    // Wrapping int32 arithmetic is exact here: the true accumulator fits in int32.
                    var sum: Int32 = 0
                    for kk in 0..<k { sum &+= Int32(source[o * k + kk]) }
                    channelBias = channelBias &- layer.inputZeroPoint &* sum
                }
                bias[block * 16 + j] = channelBias
                let m = multipliers[o], n = shifts[o]
                let bounds = accumulatorBounds(multiplier: m, shift: n, zeroPoint: layer.outputZeroPoint, floor: floor)
                table.storeBytes(of: bounds.low, toByteOffset: RequantBlockAVX2.accLow + 4 * j, as: Int32.self)
                table.storeBytes(of: bounds.high, toByteOffset: RequantBlockAVX2.accHigh + 4 * j, as: Int32.self)
                // 64-bit tables, in the lane order of the ISA's kernel (see RequantBlockAVX2).
                let group = j / 8, within = j % 8
                let slot = isa == .avx512vnni ? (j % 2) * 8 + j / 2 : group * 8 + (within % 2) * 4 + within / 2
                table.storeBytes(of: (Int64(1) << Int64(n - 1)) + (Int64(1) << 62),
                                 toByteOffset: RequantBlockAVX2.addend + 8 * slot, as: Int64.self)
                table.storeBytes(of: Int64(n), toByteOffset: RequantBlockAVX2.shift + 8 * slot, as: Int64.self)
                table.storeBytes(of: Int64(1) << Int64(62 - n), toByteOffset: RequantBlockAVX2.debias + 8 * slot, as: Int64.self)
                table.storeBytes(of: Int64(m), toByteOffset: RequantBlockAVX2.multiplier64 + 8 * slot, as: Int64.self)
                table.storeBytes(of: Int64(1) << Int64(n - 1), toByteOffset: RequantBlockAVX2.rounding + 8 * slot, as: Int64.self)
            }
            table.storeBytes(of: layer.outputZeroPoint, toByteOffset: RequantBlockAVX2.zeroPoint, as: Int32.self)
            table.storeBytes(of: floor, toByteOffset: RequantBlockAVX2.floor, as: Int32.self)
        }
    }

    deinit {
        free(weights)
        free(bias)
        free(requant)
    }
}

/// The accumulator range outside which the requantized output is pinned at its floor or at 255:
/// `low` is the largest acc giving at most the floor, `high` the smallest giving at least 255
/// (Int32.min / Int32.max when no such acc exists). Clamping acc to [low, high] first changes
/// no output and keeps every intermediate of the vector requantization within int32.
func accumulatorBounds(multiplier: Int32, shift: Int32, zeroPoint: Int32, floor: Int32) -> (low: Int32, high: Int32) {
    func value(_ acc: Int64) -> Int64 {
        ((acc * Int64(multiplier) + (Int64(1) << Int64(shift - 1))) >> Int64(shift)) + Int64(zeroPoint)
    }
    // Smallest acc with value >= 255.
    var lo = Int64(Int32.min), hi = Int64(Int32.max)
    let high: Int32
    if value(hi) < 255 {
        high = Int32.max
    } else {
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if value(mid) >= 255 { hi = mid } else { lo = mid + 1 }
        }
        high = Int32(lo)
    }
    // Largest acc with value <= floor.
    lo = Int64(Int32.min); hi = Int64(Int32.max)
    let low: Int32
    if value(lo) > Int64(floor) {
        low = Int32.min
    } else {
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2
            if value(mid) <= Int64(floor) { lo = mid } else { hi = mid - 1 }
        }
        low = Int32(lo)
    }
    return (low, high)
}

func alignedAllocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    var memory: UnsafeMutableRawPointer?
    guard posix_memalign(&memory, 64, max(bytes, 64)) == 0 else { return nil }
    memory?.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
    return memory
}
