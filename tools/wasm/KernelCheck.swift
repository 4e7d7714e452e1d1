// KernelCheck.swift - nin-kernel-check for WebAssembly (tools/wasm/build.sh builds it into
// .build-wasm/kernel-check.wasm; Tests/wasm runs it): the random convolutions and classic NiN
// layers of NiNKernelCheck on every kernel family of the wasm build (wasmsimd, portable) against
// the reference kernels, bit for bit.

import NiN
import NiNKernelCheck

/// Runs `trials` random convolutions (seed `seed`) and the classic layers on every family but
/// the reference; returns how many (family, case) pairs differed from the reference, or -1 when
/// a model could not be loaded or run.
@_cdecl("ninwasm_kernel_check")
public func ninwasmKernelCheck(_ trials: Int32, _ seed: UInt32) -> Int32 {
    var rng = SplitMix(state: UInt64(seed))
    var cases: [RandomConvolution] = (0..<Int(trials)).map { RandomConvolution(trial: $0, using: &rng) }
    cases += classicLayers.map { RandomConvolution(classic: $0, using: &rng) }
    let families = CheckedFamily.runnable.filter { $0.isa != .generic }
    var mismatches: Int32 = 0
    do throws(NiNError) {
        for trial in cases {
            let model = trial.model
            let reference = try runLayers(CheckedFamily(isa: .generic).load(model), input: trial.input, batch: trial.batch, threads: 1)
            for family in families where try runLayers(family.load(model), input: trial.input, batch: trial.batch, threads: 1) != reference {
                mismatches += 1
            }
        }
    } catch {
        return -1
    }
    return mismatches
}

/// How many kernel families ninwasm_kernel_check compares with the reference.
@_cdecl("ninwasm_kernel_check_families")
public func ninwasmKernelCheckFamilies() -> Int32 {
    Int32(CheckedFamily.runnable.filter { $0.isa != .generic }.count)
}

/// Per-layer profile for tools/wasm/profile.mjs: loads the model of `length` bytes at `bytes` with
/// the family a load picks (`family` -1) or family `family` (an index into the runnable families:
/// `CheckedFamily.runnable`, the reference last), runs one prepared image
/// (nin_bench's input bytes) `runs` times with profiling on and stores each layer's median
/// nanoseconds at `out` (room for 64 layers); returns the layer count, or -1 when the model
/// could not be loaded or run.
@_cdecl("ninwasm_profile")
public func ninwasmProfile(_ bytes: UnsafePointer<UInt8>, _ length: Int32, _ family: Int32, _ runs: Int32,
                           _ out: UnsafeMutablePointer<UInt64>) -> Int32 {
    let families = CheckedFamily.runnable
    guard family >= -1 && Int(family) < families.count && runs > 0 else { return -1 }
    do throws(NiNError) {
        let image = Array(UnsafeBufferPointer(start: bytes, count: Int(length)))
        let model = family < 0 ? try NiNModel(bytes: image) : try families[Int(family)].load(image)
        let layers = model.graph.layers.count
        guard layers <= 64 else { return -1 }
        let size = model.graph.input.elementCount
        let input = (0..<size).map { UInt8(truncatingIfNeeded: (UInt32(truncatingIfNeeded: $0) &* 2654435761) >> 24) }
        let context = try NiNContext(model: model)
        context.profiling = true
        var samples = [[UInt64]](repeating: [], count: layers)
        for _ in 0..<Int(runs) {
            try context.run(preparedInput: input, count: 1)
            for (i, t) in context.layerNanoseconds.enumerated() { samples[i].append(t) }
        }
        for i in 0..<layers { out[i] = samples[i].sorted()[Int(runs) / 2] }
        return Int32(layers)
    } catch {
        return -1
    }
}
