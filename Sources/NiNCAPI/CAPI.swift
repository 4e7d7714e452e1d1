// The exported C API of include/nin.h. Each function validates its arguments, translates
// between C and Swift types and calls the engine; nothing else lives here. No Swift error,
// trap or precondition is reachable from C input: failures become nin_status + nin_last_error.

import CNiN
import NiN
import NiNCPU
import NiNPlatform
import NiNPNG

// MARK: Helpers

/// Runs `body`; a thrown error becomes its status and this thread's last error.
@inline(__always)
private func guarded(_ body: () throws(NiNError) -> Void) -> nin_status {
    do {
        try body()
        return NIN_OK
    } catch {
        LastError.set(error.text)
        return nin_status(rawValue: UInt32(error.code.rawValue))
    }
}

/// Runs `body` on the context behind `handle`, claimed for this call: a second thread calling
/// into the same context meanwhile gets NIN_ERROR_STATE ("context is in use by another thread").
@inline(__always)
private func withContext(_ handle: OpaquePointer?, _ body: (NiNContext) throws(NiNError) -> Void) -> nin_status {
    guarded { () throws(NiNError) in
        let ctx = try context(handle)
        try ctx.exclusively { () throws(NiNError) in try body(ctx) }
    }
}

private func required<T>(_ pointer: T?, _ name: StaticString) throws(NiNError) -> T {
    guard let pointer else { throw NiNError(.invalidArgument, "\(name) is NULL") }
    return pointer
}

// MARK: Version and status

// The version string and the status names are the header's own (NIN_VERSION_STRING and the
// nin_status enum, through the static inline helpers of Sources/CNiN/nin_names.h).

@_cdecl("nin_version")
public func ninVersion() -> UnsafePointer<CChar> { ninpriv_version_string() }

@_cdecl("nin_status_string")
public func ninStatusString(_ status: nin_status) -> UnsafePointer<CChar> { ninpriv_status_name(status) }

@_cdecl("nin_last_error")
public func ninLastError() -> UnsafePointer<CChar> { LastError.current }

// MARK: Models

@_cdecl("nin_model_load_file")
public func ninModelLoadFile(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> nin_status {
    guarded { () throws(NiNError) in
        let path = try required(path, "path")
        let out = try required(out, "out_model")
        let loaded = try NiNModel(path: FilePath(cString: path))
        out.pointee = makeHandle(loaded, .model)
    }
}

@_cdecl("nin_default_model_path")
public func ninDefaultModelPath(_ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> nin_status {
    guarded { () throws(NiNError) in
        let buffer = try required(buffer, "buffer")
        var library = [CChar](repeating: 0, count: 4096)
        let known = ninpriv_binary_path(&library, library.count) >= 0
        let path = try DefaultModel.locate(binary: known ? library.withUnsafeBufferPointer { FilePath(cString: $0.baseAddress!) } : nil)
        let bytes = path.bytes
        guard bytes.count < capacity else {
            throw NiNError(.bufferTooSmall, "buffer holds \(capacity) bytes but the path \"\(path)\" needs \(bytes.count + 1)")
        }
        for (i, byte) in bytes.enumerated() { buffer[i] = CChar(bitPattern: byte) }
        buffer[bytes.count] = 0
    }
}

@_cdecl("nin_model_load_memory")
public func ninModelLoadMemory(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> nin_status {
    guarded { () throws(NiNError) in
        let data = try required(data, "data")
        let out = try required(out, "out_model")
        guard size > 0 else { throw NiNError(.invalidArgument, "size is 0") }
        let loaded = try NiNModel(borrowing: UnsafeRawBufferPointer(start: data, count: size))
        out.pointee = makeHandle(loaded, .model)
    }
}

@_cdecl("nin_model_free")
public func ninModelFree(_ handle: OpaquePointer?) {
    guard let handle, Handles.remove(UnsafeRawPointer(handle), .model) else { return }
    Unmanaged<NiNModel>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("nin_model_input_shape")
public func ninModelInputShape(_ handle: OpaquePointer?, _ channels: UnsafeMutablePointer<Int32>?,
                               _ height: UnsafeMutablePointer<Int32>?, _ width: UnsafeMutablePointer<Int32>?) -> nin_status {
    guarded { () throws(NiNError) in
        let input = try model(handle).graph.input
        channels?.pointee = Int32(input.channels)
        height?.pointee = Int32(input.height)
        width?.pointee = Int32(input.width)
    }
}

@_cdecl("nin_model_map_shape")
public func ninModelMapShape(_ handle: OpaquePointer?, _ classes: UnsafeMutablePointer<Int32>?,
                             _ height: UnsafeMutablePointer<Int32>?, _ width: UnsafeMutablePointer<Int32>?) -> nin_status {
    guarded { () throws(NiNError) in
        let maps = try model(handle).graph.mapShape
        classes?.pointee = Int32(maps.channels)
        height?.pointee = Int32(maps.height)
        width?.pointee = Int32(maps.width)
    }
}

@_cdecl("nin_model_weight_memory")
public func ninModelWeightMemory(_ handle: OpaquePointer?, _ packedBytes: UnsafeMutablePointer<Int>?,
                                 _ weightsInPlace: UnsafeMutablePointer<Int>?) -> nin_status {
    guarded { () throws(NiNError) in
        let m = try model(handle)
        packedBytes?.pointee = m.packedBytes
        weightsInPlace?.pointee = m.weightsReadInPlace
    }
}

@_cdecl("nin_model_class_count")
public func ninModelClassCount(_ handle: OpaquePointer?) -> Int32 {
    var count: Int32 = 0
    _ = guarded { () throws(NiNError) in count = Int32(try model(handle).graph.classCount) }
    return count
}

@_cdecl("nin_model_label")
public func ninModelLabel(_ handle: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    var label: UnsafePointer<CChar>?
    _ = guarded { () throws(NiNError) in
        let m = try model(handle)
        guard index >= 0, Int(index) < m.graph.classCount else {
            throw NiNError(.invalidArgument, "label index \(index) is outside 0..<\(m.graph.classCount)")
        }
        label = m.labelCString(Int(index))
    }
    return label
}

@_cdecl("nin_model_kernels")
public func ninModelKernels(_ handle: OpaquePointer?) -> UnsafePointer<CChar>? {
    var name: UnsafePointer<CChar>?
    _ = guarded { () throws(NiNError) in name = staticCString(try model(handle).isa) }
    return name
}

/// The family's `NIN_ISA` name in static storage (its static string: no copy is made).
private func staticCString(_ isa: KernelFamilyID) -> UnsafePointer<CChar> {
    UnsafeRawPointer(isa.staticName.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Each family of the build (`KernelFamilyID.built`, best first) with its name, unavailable reason
/// and CPU flags as C strings, made once on first use and kept for the life of the process (the
/// header promises static storage).
private let kernelFamilyStrings: [(isa: KernelFamilyID, name: UnsafePointer<CChar>, reason: UnsafePointer<CChar>?,
                                   cpuFlags: UnsafePointer<CChar>)] =
    KernelFamilyID.built.map { isa in
        (isa, staticCString(isa), isa.unsupportedReason.map(staticCopy),
         staticCopy((isa.cpuFlags ?? []).joined(separator: " ")))
    }

/// `text` as a C string kept for the life of the process.
private func staticCopy(_ text: String) -> UnsafePointer<CChar> { UnsafePointer(Platform.copyCString(text)!) }

@_cdecl("nin_kernel_family_count")
public func ninKernelFamilyCount() -> Int32 { Int32(kernelFamilyStrings.count) }

@_cdecl("nin_kernel_family_name")
public func ninKernelFamilyName(_ index: Int32) -> UnsafePointer<CChar>? {
    kernelFamilyStrings.indices.contains(Int(index)) ? kernelFamilyStrings[Int(index)].name : nil
}

@_cdecl("nin_kernel_family_supported")
public func ninKernelFamilySupported(_ index: Int32) -> Int32 {
    guard kernelFamilyStrings.indices.contains(Int(index)) else { return -1 }
    return kernelFamilyStrings[Int(index)].reason == nil ? 1 : 0
}

@_cdecl("nin_kernel_family_unavailable_reason")
public func ninKernelFamilyUnavailableReason(_ index: Int32) -> UnsafePointer<CChar>? {
    kernelFamilyStrings.indices.contains(Int(index)) ? kernelFamilyStrings[Int(index)].reason : nil
}

@_cdecl("nin_kernel_family_cpu_flags")
public func ninKernelFamilyCPUFlags(_ index: Int32) -> UnsafePointer<CChar>? {
    kernelFamilyStrings.indices.contains(Int(index)) ? kernelFamilyStrings[Int(index)].cpuFlags : nil
}

@_cdecl("nin_model_metadata")
public func ninModelMetadata(_ handle: OpaquePointer?, _ key: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    var value: UnsafePointer<CChar>?
    _ = guarded { () throws(NiNError) in
        let m = try model(handle)
        value = m.metadataCString(String(cString: try required(key, "key")))
    }
    return value
}

// MARK: Contexts

@_cdecl("nin_context_default_params")
public func ninContextDefaultParams() -> nin_context_params {
    nin_context_params(threads: 1, batch_size: 1, arena: nil, arena_bytes: 0)
}

private func checkedParams(_ params: UnsafePointer<nin_context_params>?) throws(NiNError) -> nin_context_params {
    let p = params?.pointee ?? ninContextDefaultParams()
    try NiNContext.checkLimits(threads: Int(p.threads), batchSize: Int(p.batch_size), prefix: "params.")
    return p
}

@_cdecl("nin_model_arena_bytes")
public func ninModelArenaBytes(_ handle: OpaquePointer?, _ params: UnsafePointer<nin_context_params>?) -> Int {
    var bytes = 0
    _ = guarded { () throws(NiNError) in
        let m = try model(handle)
        let p = try checkedParams(params)
        bytes = NiNContext.arenaBytes(model: m, batchSize: Int(p.batch_size), threads: Int(p.threads))
    }
    return bytes
}

@_cdecl("nin_context_create")
public func ninContextCreate(_ handle: OpaquePointer?, _ params: UnsafePointer<nin_context_params>?,
                             _ out: UnsafeMutablePointer<OpaquePointer?>?) -> nin_status {
    guarded { () throws(NiNError) in
        let m = try model(handle)
        let out = try required(out, "out_context")
        let p = try checkedParams(params)
        var arena: UnsafeMutableRawBufferPointer?
        if p.arena != nil || p.arena_bytes != 0 {
            arena = UnsafeMutableRawBufferPointer(start: try required(p.arena, "params.arena"), count: p.arena_bytes)
        }
        let made = try NiNContext(model: m, threads: Int(p.threads), batchSize: Int(p.batch_size), arena: arena)
        out.pointee = makeHandle(made, .context)
    }
}

@_cdecl("nin_context_free")
public func ninContextFree(_ handle: OpaquePointer?) {
    guard let handle, Handles.remove(UnsafeRawPointer(handle), .context) else { return }
    Unmanaged<NiNContext>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// MARK: Images

@_cdecl("nin_image_load_png")
public func ninImageLoadPNG(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<nin_image>?) -> nin_status {
    guarded { () throws(NiNError) in
        let path = try required(path, "path")
        let out = try required(out, "out_image")
        let image = try PNGDecoder.load(path: FilePath(cString: path))
        try hand(image, to: out)
    }
}

@_cdecl("nin_image_load_png_memory")
public func ninImageLoadPNGMemory(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<nin_image>?) -> nin_status {
    guarded { () throws(NiNError) in
        let data = try required(data, "data")
        let out = try required(out, "out_image")
        guard size > 0 else { throw NiNError(.invalidArgument, "size is 0") }
        try hand(PNGDecoder.decode(UnsafeRawBufferPointer(start: data, count: size)), to: out)
    }
}

/// Copies a decoded image into pixels of our own (aligned malloc memory) that nin_image_free
/// releases, and fills `out`.
private func hand(_ image: Image, to out: UnsafeMutablePointer<nin_image>) throws(NiNError) {
    guard let pixels = Platform.allocate(bytes: image.pixels.count, alignment: 16) else {
        throw NiNError(.outOfMemory, "cannot allocate \(image.pixels.count) bytes of pixels")
    }
    image.pixels.withUnsafeBytes { pixels.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    Handles.insert(UnsafeRawPointer(pixels), .pixels)
    out.pointee = nin_image(pixels: pixels.assumingMemoryBound(to: UInt8.self), width: Int32(image.width),
                            height: Int32(image.height), channels: Int32(image.channels), stride: image.stride)
}

@_cdecl("nin_image_free")
public func ninImageFree(_ image: UnsafeMutablePointer<nin_image>?) {
    guard let image, let pixels = image.pointee.pixels else { return }
    if Handles.remove(UnsafeRawPointer(pixels), .pixels) { Platform.deallocate(pixels) }
    image.pointee = nin_image(pixels: nil, width: 0, height: 0, channels: 0, stride: 0)
}

// MARK: Running

@_cdecl("nin_run_images")
public func ninRunImages(_ handle: OpaquePointer?, _ images: UnsafePointer<nin_image>?, _ count: Int32) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        ctx.invalidateResults()
        let images = try required(images, "images")
        guard count >= 1, Int(count) <= ctx.plan.batchSize else {
            throw NiNError(.invalidArgument, "count is \(count), expected 1 to the context's batch size \(ctx.plan.batchSize)")
        }
        for n in 0..<Int(count) {
            let image = images[n]
            guard image.pixels != nil else { throw NiNError(.invalidArgument, "images[\(n)].pixels is NULL") }
            let stride = image.stride == 0 ? Int(image.width) * Int(image.channels) : image.stride
            do throws(NiNError) {
                try checkImageShape(width: Int(image.width), height: Int(image.height), channels: Int(image.channels), stride: stride)
            } catch {
                throw NiNError(error.code, "images[\(n)]: \(error.text)")
            }
        }
        try ctx.run(count: Int(count)) { n in
            let image = images[n]
            return PixelView(base: UnsafePointer(image.pixels!), width: Int(image.width), height: Int(image.height),
                             channels: Int(image.channels),
                             stride: image.stride == 0 ? Int(image.width) * Int(image.channels) : image.stride)
        }
    }
}

@_cdecl("nin_run_prepared_u8")
public func ninRunPreparedU8(_ handle: OpaquePointer?, _ input: UnsafePointer<UInt8>?, _ bytes: Int, _ count: Int32) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        ctx.invalidateResults()
        let input = try required(input, "input")
        try ctx.run(prepared: UnsafeBufferPointer(start: input, count: bytes), count: Int(count))
    }
}

@_cdecl("nin_run_prepared_f32")
public func ninRunPreparedF32(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ values: Int, _ count: Int32) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        ctx.invalidateResults()
        let input = try required(input, "input")
        try ctx.run(preparedFloat: UnsafeBufferPointer(start: input, count: values), count: Int(count))
    }
}

// MARK: Results

private func copyResult(_ handle: OpaquePointer?, _ index: Int32, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                        probabilities: Bool) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        let out = try required(out, "out")
        let classes = ctx.model.graph.classCount
        guard capacity >= classes else {
            throw NiNError(.bufferTooSmall, "out holds \(capacity) floats but the model has \(classes) classes")
        }
        let source = try ctx.result(probabilities ? .probabilities : .logits, image: Int(index))
        out.update(from: source.baseAddress!, count: classes)
    }
}

@_cdecl("nin_context_logits")
public func ninContextLogits(_ handle: OpaquePointer?, _ index: Int32, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> nin_status {
    copyResult(handle, index, out, capacity, probabilities: false)
}

@_cdecl("nin_context_probabilities")
public func ninContextProbabilities(_ handle: OpaquePointer?, _ index: Int32, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> nin_status {
    copyResult(handle, index, out, capacity, probabilities: true)
}

@_cdecl("nin_context_top_k")
public func ninContextTopK(_ handle: OpaquePointer?, _ index: Int32, _ k: Int32, _ classes: UnsafeMutablePointer<Int32>?,
                           _ probabilities: UnsafeMutablePointer<Float>?) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        let classes = try required(classes, "classes")
        var rank = 0
        try ctx.forEachTopK(Int(index), k: Int(k)) { best, probability in
            classes[rank] = Int32(best)
            probabilities?[rank] = probability
            rank += 1
        }
    }
}

@_cdecl("nin_context_confidence_maps")
public func ninContextConfidenceMaps(_ handle: OpaquePointer?, _ index: Int32, _ out: UnsafeMutablePointer<Float>?,
                                     _ capacity: Int) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        let out = try required(out, "out")
        let shape = ctx.model.graph.mapShape
        guard capacity >= shape.elementCount else {
            throw NiNError(.bufferTooSmall, "out holds \(capacity) floats but the maps need \(shape.elementCount)")
        }
        try ctx.copyConfidenceMaps(Int(index), into: out)
    }
}

@_cdecl("nin_context_result_count")
public func ninContextResultCount(_ handle: OpaquePointer?) -> Int32 {
    var count: Int32 = 0
    _ = withContext(handle) { ctx in count = Int32(ctx.resultCount) }
    return count
}

// MARK: Heatmaps

@_cdecl("nin_context_heatmap")
public func ninContextHeatmap(_ handle: OpaquePointer?, _ index: Int32, _ classIndex: Int32, _ image: UnsafePointer<nin_image>?,
                              _ out: UnsafeMutablePointer<nin_image>?) -> nin_status {
    withContext(handle) { (ctx) throws(NiNError) in
        let given = try required(image, "image").pointee
        let out = try required(out, "out_image")
        guard let base = given.pixels else { throw NiNError(.invalidArgument, "image.pixels is NULL") }
        let stride = given.stride == 0 ? Int(given.width) * Int(given.channels) : given.stride
        try checkImageShape(width: Int(given.width), height: Int(given.height), channels: Int(given.channels), stride: stride)
        let view = PixelView(base: UnsafePointer(base), width: Int(given.width), height: Int(given.height),
                             channels: Int(given.channels), stride: stride)
        let heatmap = try ctx.heatmap(Int(index), classIndex: classIndex < 0 ? nil : Int(classIndex), image: view)
        try hand(heatmap, to: out)
    }
}
