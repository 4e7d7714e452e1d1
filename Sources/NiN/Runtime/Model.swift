// NiNModel: a validated model image (mapped from a file, or in memory) and its typed graph.
// Immutable after load, so one model may serve any number of contexts on any threads.

import NiNKernelCore
import NiNPlatform

/// A loaded, validated model. Weights are read in place from the mapped or given bytes.
public final class NiNModel: @unchecked Sendable {
    /// The network, validated.
    public let graph: ModelGraph
    /// Start of the model image (64-byte aligned).
    let base: UnsafeRawPointer
    /// Size of the model image in bytes.
    public let byteCount: Int
    /// A copy of the model image's bytes (tools: to load the same model on an emulator).
    package var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: byteCount)) }
    private let release: Release
    /// The kernel family this model's contexts run (see `KernelFamilyID`).
    public let isa: KernelFamilyID
    /// The kernels of `isa`: the family table entry every run dispatches through.
    let kernels: KernelFamily
    /// Per layer: its fixed kernel arguments, with a convolution's parameters as the family's
    /// `pack` made them.
    let steps: [LayerStep]

    /// The kernel that runs layer `index`: the family, and for a family with several
    /// convolution kernels the one its `pack` chose for this layer (e.g. "avx2 (int16)").
    public func kernelName(layer index: Int) -> String {
        guard index < steps.count, let p = steps[index].packed, let name = kernels.convolution.variantName else { return isa.rawValue }
        return "\(isa.rawValue) (\(name(p.variant)))"
    }

    private enum Release {
        case unmap
        case free
        case none
    }

    /// Maps the file at `path` read-only and validates it. `isa` nil picks `KernelFamilyID.preferred`;
    /// a family the CPU lacks falls back to the best family below it that the CPU has.
    public convenience init(path: String, isa: KernelFamilyID? = nil) throws(NiNError) {
        try self.init(path: FilePath(path), isa: isa)
    }

    /// As `init(path:isa:)`, for a path given as its exact bytes (any file name Linux allows).
    public convenience init(path: FilePath, isa: KernelFamilyID? = nil) throws(NiNError) {
        let mapped = path.withCString { path in Result { () throws(Platform.MappingFailure) in try Platform.mapReadOnly(path) } }
        let mapping: UnsafeRawBufferPointer
        switch mapped {
        case .success(let m): mapping = m
        case .failure(.cannotOpen(let reason)): throw NiNError(.io, "cannot open model \"\(path)\": \(reason)")
        case .failure(.cannotStat(let reason)): throw NiNError(.io, "cannot stat model \"\(path)\": \(reason)")
        case .failure(.notRegularFile): throw NiNError(.io, "model \"\(path)\" is not a regular file")
        case .failure(.empty): throw .badModel("\"\(path)\" is empty")
        case .failure(.cannotMap(let reason)): throw NiNError(.io, "cannot map model \"\(path)\": \(reason)")
        }
        do {
            try self.init(base: mapping.baseAddress!, count: mapping.count, release: .unmap, isa: isa)
        } catch {
            Platform.unmap(mapping)
            throw error
        }
    }

    /// Validates a model image in memory. Aligned bytes are used in place (the caller keeps them
    /// alive and unchanged for the model's lifetime); unaligned bytes are copied once.
    package convenience init(borrowing bytes: UnsafeRawBufferPointer) throws(NiNError) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { throw .invalid("model data is NULL or empty") }
        if Int(bitPattern: source) % ModelFormat.alignment == 0 {
            try self.init(base: source, count: bytes.count, release: .none)
        } else {
            let copy = try copyAligned(bytes)
            do { try self.init(base: UnsafeRawPointer(copy), count: bytes.count, release: .free) } catch {
                Platform.deallocate(copy)
                throw error
            }
        }
    }

    /// Validates a copy of `bytes`; the model owns the copy. `isa` as for `init(path:isa:)`.
    public convenience init(bytes: [UInt8], isa: KernelFamilyID? = nil) throws(NiNError) {
        let copied = bytes.withUnsafeBytes { raw in Result { () throws(NiNError) in try copyAligned(raw) } }
        let copy = try copied.get()
        do { try self.init(base: UnsafeRawPointer(copy), count: bytes.count, release: .free, isa: isa) } catch {
            Platform.deallocate(copy)
            throw error
        }
    }

    /// Validates a copy of `bytes` and runs it on family `isa`'s instruction emulator (tests and
    /// nin-kernel-check; `KernelFamilyID.emulated` lists the families that have one).
    package convenience init(bytes: [UInt8], emulating isa: KernelFamilyID) throws(NiNError) {
        guard let family = KernelFamily.emulated.first(where: { $0.isa == isa && $0.isSupported }) else {
            throw .invalid("no emulator of kernel family \(isa.rawValue) on this build and CPU")
        }
        try self.init(bytes: bytes, family: family)
    }

    /// Validates a copy of `bytes` and runs it on family `isa`'s driver with its core
    /// instructions as no-ops (AMX: the tiles), for timing the rest; its outputs are wrong.
    package convenience init(bytes: [UInt8], timingWithoutCoreInstructions isa: KernelFamilyID) throws(NiNError) {
        guard let family = KernelFamily.withoutCoreInstructions.first(where: { $0.isa == isa && $0.isSupported }) else {
            throw .invalid("no no-op variant of kernel family \(isa.rawValue) on this build and CPU")
        }
        try self.init(bytes: bytes, family: family)
    }

    /// A copy of `bytes`, validated and run on `family`.
    private convenience init(bytes: [UInt8], family: KernelFamily) throws(NiNError) {
        let isa = family.isa
        let copied = bytes.withUnsafeBytes { raw in Result { () throws(NiNError) in try copyAligned(raw) } }
        let copy = try copied.get()
        do { try self.init(base: UnsafeRawPointer(copy), count: bytes.count, release: .free, isa: isa, family: family) } catch {
            Platform.deallocate(copy)
            throw error
        }
    }

    private init(base: UnsafeRawPointer, count: Int, release: Release, isa requested: KernelFamilyID? = nil,
                 family: KernelFamily? = nil) throws(NiNError) {
        let image = UnsafeRawBufferPointer(start: base, count: count)
        self.graph = try readModelGraph(image, isFileMapping: release == .unmap)
        self.base = base
        self.byteCount = count
        self.release = release
        let isa = family?.isa ?? requested?.supportedFallback ?? KernelFamilyID.preferred
        let kernels = family ?? isa.kernels
        var steps: [LayerStep] = []
        for (index, layer) in graph.layers.enumerated() {
            var packed: PackedConvolution?
            if layer.kind == .convolution {
                let weights = layer.convolutionWeights(base: base)
                packed = kernels.convolution.pack(weights)
                guard let p = packed else { throw NiNError(.outOfMemory, "cannot allocate the packed weights of the model") }
                if release == .unmap && UnsafeRawPointer(p.weights) != UnsafeRawPointer(weights.weights) {
                    // (this layer's OHWI weights, read by `pack`, as the reader drops them: the
                    // file and its packed copy are then not resident together at load's peak)
                    Platform.discardPages(of: image, layer.weightsOffset..<(layer.weightsOffset + weights.outChannels * weights.kernelSize))
                }
            }
            steps.append(LayerStep(layer, index: index, packed: packed))
        }
        self.isa = isa
        self.kernels = kernels
        self.steps = steps
        if release == .unmap {
            // Let the kernel drop every mapped page of WGHT once every layer is packed (a page
            // fault maps a whole folio of the page cache, which can reach a neighbouring array,
            // so pages dropped layer by layer came back): what the family packed is never read
            // again, and what it reads in place (its weights, a 1.2 file's quad copy) comes back
            // from the page cache at the first run, alone. A private read-only file mapping
            // re-reads its pages when touched.
            Platform.discardPages(of: image, graph.weightsSection)
        }
    }

    /// Bytes the kernel family allocated for this model's layers (packed weights, folded biases,
    /// requantization tables): 0 weight bytes when the family reads the weights in place (the
    /// reference and cortexm families read the OHWI weights, the quad families a 1.2 file's
    /// quad weights), so processes mapping the same file share those pages.
    public var packedBytes: Int { steps.reduce(0) { $0 + ($1.packed?.ownedBytes ?? 0) } }

    /// Bytes of the model image that the family reads in place as weights.
    public var weightsReadInPlace: Int { steps.reduce(0) { $0 + ($1.packed?.borrowedWeightBytes ?? 0) } }

    deinit {
        switch release {
        case .unmap: Platform.unmap(UnsafeRawBufferPointer(start: base, count: byteCount))
        case .free: Platform.deallocate(UnsafeMutableRawPointer(mutating: base))
        case .none: break
        }
    }

    /// The label of class `index` as a NUL-terminated C string inside the model image.
    package func labelCString(_ index: Int) -> UnsafePointer<CChar> {
        (base + graph.labelOffsets[index]).assumingMemoryBound(to: CChar.self)
    }

    /// The value of metadata `key` as a NUL-terminated C string inside the model image.
    package func metadataCString(_ key: String) -> UnsafePointer<CChar>? {
        guard let i = graph.metadata.firstIndex(where: { $0.key.hasSameBytes(as: key) }) else { return nil }
        return (base + graph.metadataValueOffsets[i]).assumingMemoryBound(to: CChar.self)
    }

    /// The value of metadata `key`, if present.
    public func metadata(_ key: String) -> String? {
        graph.metadata.first(where: { $0.key.hasSameBytes(as: key) })?.value
    }

    /// Typed pointer to an array at a byte offset of the image (offsets are 64-byte aligned).
    func pointer<T>(_ offset: Int, as type: T.Type) -> UnsafePointer<T> {
        (base + offset).assumingMemoryBound(to: type)
    }
}

private func copyAligned(_ bytes: UnsafeRawBufferPointer) throws(NiNError) -> UnsafeMutableRawPointer {
    guard let memory = Platform.allocate(bytes: max(bytes.count, ModelFormat.alignment), alignment: ModelFormat.alignment) else {
        throw NiNError(.outOfMemory, "cannot allocate \(bytes.count) bytes for the model")
    }
    if let source = bytes.baseAddress { memory.copyMemory(from: source, byteCount: bytes.count) }
    return memory
}
