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
