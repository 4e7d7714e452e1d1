// Weights and requantization constants of one convolution, repacked at model load into the
// layout of the AVX2 kernel (Sources/NiNAVX2): int16 weights in blocks of 16 output channels x
// K pairs, a padded bias, and per-block tables that let requantization run on 64-bit lanes.

import NiNAVX2
#if canImport(Glibc)
import Glibc
#endif

/// One convolution's packed parameters, owned memory (64-byte aligned).
final class PackedConvolution {
    let weights: UnsafeMutablePointer<Int16>
    let bias: UnsafeMutablePointer<Int32>
    let requant: UnsafeMutableRawPointer
    /// K = kh * kw * C rounded up to even, halved.
    let kPairs: Int

    /// Packs `layer`, reading its arrays from the model image at `base`.
    /// im2col scratch bytes one thread needs for this layer.
    static func scratchBytes(layer: Layer) -> Int {
        let k = layer.window.kernelHeight * layer.window.kernelWidth * layer.input.channels
        return convolutionAVX2ScratchBytes(outWidth: layer.output.width, kPairs: (k + 1) / 2)
    }

    init?(layer: Layer, base: UnsafeRawPointer) {
        let outC = layer.output.channels
        let k = layer.window.kernelHeight * layer.window.kernelWidth * layer.input.channels
        kPairs = (k + 1) / 2
        let blocks = (outC + 15) / 16
        guard let w = alignedAllocate(blocks * kPairs * 32 * 2), let b = alignedAllocate(blocks * 16 * 4),
              let r = alignedAllocate(blocks * RequantBlockAVX2.bytes) else { return nil }
        weights = w.assumingMemoryBound(to: Int16.self)
        bias = b.assumingMemoryBound(to: Int32.self)
        requant = r

        let source = (base + layer.weightsOffset).assumingMemoryBound(to: Int8.self)
        let sourceBias = (base + layer.biasOffset).assumingMemoryBound(to: Int32.self)
        let multipliers = (base + layer.multiplierOffset).assumingMemoryBound(to: Int32.self)
        let shifts = (base + layer.shiftOffset).assumingMemoryBound(to: Int32.self)
        let floor = layer.relu ? layer.outputZeroPoint : 0
        for block in 0..<blocks {
            let packed = weights + block * kPairs * 32
            for p in 0..<kPairs {
                for j in 0..<16 {
                    for t in 0..<2 {
                        let o = block * 16 + j, kk = 2 * p + t
                        packed[(p * 16 + j) * 2 + t] = (o < outC && kk < k) ? Int16(source[o * k + kk]) : 0
                    }
                }
            }
            let table = requant + block * RequantBlockAVX2.bytes
            for j in 0..<16 {
                let o = min(block * 16 + j, outC - 1)  // padding channels repeat the last one; never stored
                bias[block * 16 + j] = block * 16 + j < outC ? sourceBias[o] : 0
                let m = multipliers[o], n = shifts[o]
                let bounds = accumulatorBounds(multiplier: m, shift: n, zeroPoint: layer.outputZeroPoint, floor: floor)
                table.storeBytes(of: m, toByteOffset: RequantBlockAVX2.multiplier + 4 * j, as: Int32.self)
                table.storeBytes(of: bounds.low, toByteOffset: RequantBlockAVX2.accLow + 4 * j, as: Int32.self)
                table.storeBytes(of: bounds.high, toByteOffset: RequantBlockAVX2.accHigh + 4 * j, as: Int32.self)
                // 64-bit tables: group g = j / 8 holds its even channels, then its odd ones.
                let group = j / 8, within = j % 8
                let slot = group * 8 + (within % 2) * 4 + within / 2
                table.storeBytes(of: (Int64(1) << Int64(n - 1)) + (Int64(1) << 62),
                                 toByteOffset: RequantBlockAVX2.addend + 8 * slot, as: Int64.self)
                table.storeBytes(of: Int64(n), toByteOffset: RequantBlockAVX2.shift + 8 * slot, as: Int64.self)
                table.storeBytes(of: Int64(1) << Int64(62 - n), toByteOffset: RequantBlockAVX2.debias + 8 * slot, as: Int64.self)
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
