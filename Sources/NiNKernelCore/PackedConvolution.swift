// One convolution's parameters as a family's kernels read them, repacked at model load: blocks
// of 16 output channels of weights (the family's layout, `pack` in its target), padded biases,
// and per-block requantization tables (RequantBlock). Also the layer's parameters as the model
// file stores them, which is what a family's `pack` reads.

import NiNPlatform

/// A convolution's parameters as the model file stores them (docs/FORMAT.md): what `pack` reads.
public struct ConvolutionWeights {
    /// Output channels.
    public var outChannels: Int
    /// K = kernelHeight x kernelWidth x inChannels: the weights of channel o are `weights[o * K ..< (o + 1) * K]`.
    public var kernelSize: Int
    /// int8 weights, OHWI.
    public var weights: UnsafePointer<Int8>
    /// int32 bias per output channel.
    public var bias: UnsafePointer<Int32>
    /// Requantization multiplier and shift per output channel (QUANTIZATION.md).
    public var multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int32>
    public var inputZeroPoint: Int32, outputZeroPoint: Int32
    /// Whether the layer is fused with a ReLU (outputs clamp at the zero point).
    public var relu: Bool
    /// The largest input value (255, or the producing layer's `output_max`): a family may pick
    /// a faster exact kernel when products are small enough (the AVX2 family's int16 sums).
    public var inputMax: Int32
    /// The largest output value, the requantization clamp's upper end (`output_max`).
    public var outputMax: Int32
    /// The same weights quad-blocked (`QuadWeights.swift`), when the model file carries them
    /// (format 1.2; checked equal to `weights` by the reader): `packQuads` reads them in place.
    public var quadWeights: UnsafePointer<Int8>?

    /// Parameters from their pointers and values.
    public init(outChannels: Int, kernelSize: Int, weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
                multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int32>, inputZeroPoint: Int32,
                outputZeroPoint: Int32, relu: Bool, inputMax: Int32 = 255, outputMax: Int32 = 255,
                quadWeights: UnsafePointer<Int8>? = nil) {
        self.outChannels = outChannels; self.kernelSize = kernelSize; self.weights = weights; self.bias = bias
        self.multiplier = multiplier; self.shift = shift
        self.inputZeroPoint = inputZeroPoint; self.outputZeroPoint = outputZeroPoint; self.relu = relu
        self.inputMax = inputMax; self.outputMax = outputMax; self.quadWeights = quadWeights
    }
}

/// One convolution's packed parameters, owned memory (64-byte aligned, zero-filled when made);
/// or, for a family that reads the weights (and biases) as the model stores them, those borrowed
/// in place (`borrowsWeights`, `borrowsBias`) and only the rest owned.
public final class PackedConvolution {
    /// The family's weights, per block of 16 output channels: `kGroups x 16 x group` values
    /// (borrowed: the model's OHWI or quad-blocked weights, never written).
    public let weights: UnsafeMutableRawPointer
    /// int32 bias per output channel, padded to a multiple of 16 (the family may fold terms in);
    /// borrowed: the model's, `outChannels` values, never written.
    public let bias: UnsafeMutablePointer<Int32>
    /// `RequantBlock.bytes` per block of 16 channels (the family's own layout of that size).
    public let requant: UnsafeMutableRawPointer
    /// Bytes of the model image that `weights` reads in place (its OHWI weights, or its quad
    /// copy), which the model keeps and this object never frees; 0 when it owns its weights.
    public let borrowedWeightBytes: Int
    /// True when `weights` are the model image's own bytes.
    public var borrowsWeights: Bool { borrowedWeightBytes > 0 }
    /// True when `bias` is the model image's own array (the family folds nothing into it).
    public let borrowsBias: Bool
    /// Bytes this object allocated (weights, biases and tables it owns): what the family's
    /// packing costs in memory beyond the model image.
    public let ownedBytes: Int
    /// K rounded up to the family's group, in groups (or further, as a family packs it: AMX rounds
    /// up to whole tiles of 16 quads); the stride of a block of weights, in groups of 16 channels.
    public let kGroups: Int
    /// Which of its kernels the family's `pack` chose for this layer (0 unless a family has several).
    public var variant = 0

    /// Zeroed storage for `outChannels` channels of `kGroups` groups of `groupBytes` bytes each
    /// per channel, or nil when memory runs out. The zeros are the padding of K and of the
    /// channels: the family's `pack` writes only the real weights.
    public init?(outChannels: Int, kGroups: Int, groupBytes: Int) {
        let blocks = (outChannels + 15) / 16
        guard let w = alignedAllocate(blocks * kGroups * 16 * groupBytes) else { return nil }
        guard let b = alignedAllocate(blocks * 16 * 4) else { Platform.deallocate(w); return nil }
        guard let r = alignedAllocate(blocks * RequantBlock.bytes) else { Platform.deallocate(w); Platform.deallocate(b); return nil }
        weights = w
        bias = b.assumingMemoryBound(to: Int32.self)
        requant = r
        self.kGroups = kGroups
        borrowedWeightBytes = 0
        borrowsBias = false
        ownedBytes = blocks * (kGroups * 16 * groupBytes + 16 * 4 + RequantBlock.bytes)
    }

    /// Weights borrowed in place from the model image (already in the family's layout, `kGroups`
    /// groups of `groupBytes` bytes per channel of a block; never written), with zeroed biases and
    /// a zeroed requantization table of its own; nil when memory runs out. The model must outlive it.
    public init?(borrowingWeights borrowed: UnsafeRawPointer, outChannels: Int, kGroups: Int, groupBytes: Int) {
        let blocks = (outChannels + 15) / 16
        guard let b = alignedAllocate(blocks * 16 * 4) else { return nil }
        guard let r = alignedAllocate(blocks * RequantBlock.bytes) else { Platform.deallocate(b); return nil }
        weights = UnsafeMutableRawPointer(mutating: borrowed)
        bias = b.assumingMemoryBound(to: Int32.self)
        requant = r
        self.kGroups = kGroups
        borrowedWeightBytes = blocks * kGroups * 16 * groupBytes
        borrowsBias = false
        ownedBytes = blocks * (16 * 4 + RequantBlock.bytes)
    }

    /// The weights and biases of `layer` in place, as the model stores them (OHWI, `kGroups` =
    /// K), with a zeroed requantization table of its own; nil when memory runs out. The model
    /// must outlive it (a model owns its packed layers).
    public init?(borrowing layer: ConvolutionWeights) {
        guard let r = alignedAllocate((layer.outChannels + 15) / 16 * RequantBlock.bytes) else { return nil }
        weights = UnsafeMutableRawPointer(mutating: layer.weights)
        bias = UnsafeMutablePointer(mutating: layer.bias)
        requant = r
        kGroups = layer.kernelSize
        borrowedWeightBytes = layer.outChannels * layer.kernelSize
        borrowsBias = true
        ownedBytes = (layer.outChannels + 15) / 16 * RequantBlock.bytes
    }

    deinit {
        if !borrowsWeights { Platform.deallocate(weights) }
        if !borrowsBias { Platform.deallocate(bias) }
        Platform.deallocate(requant)
    }
}

/// 64-byte aligned, zero-filled memory (at least 64 bytes), or nil; release it with
/// `Platform.deallocate`.
func alignedAllocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    Platform.allocate(bytes: max(bytes, 64), alignment: 64, zeroed: true)
}
