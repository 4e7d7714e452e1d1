// KernelCheck.swift - the check firmware's kernel check (tools/mcu/build.sh builds it with
// check.c into .build-mcu/nin-mcu-check.elf; tools/mcu/test.py runs it under qemu): the random
// convolutions of NiNKernelCheck (the generator nin-kernel-check and the Swift tests use: kernel
// sizes, strides, paddings, odd channel counts, zero points, 7-bit and 8-bit bounds, exact ties,
// batches of 1 to 3) run on the board by every kernel family of the firmware (cortexm) and by the
// reference kernels (generic), every layer's output compared byte for byte.

import NiN
import NiNKernelCheck

/// Runs random convolutions 0..<`trials` (seed `seed`, the trials nin-kernel-check makes with
/// the same seed) on every family of this build but the reference, each against the reference
/// kernels run on the same board; prints one line per family (`kernel-check FAMILY ok N/N`, or
/// its first mismatch) and returns how many (family, trial) pairs differed, or -1 when a model
/// could not be loaded or run.
@_cdecl("ninmcu_kernel_check")
public func ninmcuKernelCheck(_ trials: Int32, _ seed: UInt32) -> Int32 {
    var rng = SplitMix(state: UInt64(seed))
    let families = CheckedFamily.runnable.filter { $0.isa != .generic }
    var passed = [Int](repeating: 0, count: families.count)
    var mismatches: Int32 = 0
    do throws(NiNError) {
        for index in 0..<Int(trials) {
            // One trial at a time (the generator's draws do not depend on running them).
            let trial = RandomConvolution(trial: index, using: &rng)
            let model = trial.model
            let reference = try runLayers(CheckedFamily(isa: .generic).load(model), input: trial.input, batch: trial.batch, threads: 1)
            for (f, family) in families.enumerated() {
                let result = try runLayers(family.load(model), input: trial.input, batch: trial.batch, threads: 1)
                if result == reference {
                    passed[f] += 1
                    continue
                }
                if passed[f] == index {  // the family's first mismatch
                    let at = (0..<min(result.count, reference.count)).first { result[$0] != reference[$0] } ?? min(result.count, reference.count)
                    let got = at < result.count ? String(result[at]) : "none", expected = at < reference.count ? String(reference[at]) : "none"
                    print("kernel-check \(family.name) mismatch: trial \(index): \(trial.summary): byte \(at) of \(reference.count) is \(got), reference \(expected)")
                }
                mismatches += 1
            }
        }
    } catch {
        print("kernel-check: \(error)")
        return -1
    }
    for (f, family) in families.enumerated() {
        print("kernel-check \(family.name) \(passed[f] == Int(trials) ? "ok" : "FAILED") \(passed[f])/\(trials) seed \(seed)")
    }
    return mismatches
}
