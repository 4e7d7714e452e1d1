// nin-kernel-check: every kernel family this CPU runs (and the AMX emulator, where AVX-512 VNNI
// is) against the reference kernels on random convolutions (the Swift tests' generator) and on
// the classic NiN's layer geometries, each at 1 and 3 threads; prints `<family>: ok N/N` or the
// first mismatch per family, and exits 1 on any mismatch. A fully static executable (make
// kernel-check), so it runs on a machine without the Swift toolchain, e.g. to try a family on
// hardware the development machines lack (AMX).
//   nin-kernel-check [--trials N] [--seed S]
// With --amx-split MODEL it instead times each layer of MODEL on the AMX tiles and on the AMX
// driver with no-op tiles (the work outside the tiles), against the tdpbusd peak (AMXSplit.swift).
//   nin-kernel-check --amx-split MODEL.nin [--runs N] [--threads T]

import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)
import NiN
import NiNCPU
import NiNKernelCheck

let usage = "usage: nin-kernel-check [--trials N] [--seed S] | --amx-split MODEL.nin [--runs N] [--threads T]"
var trials = 300
var seed: UInt64 = 2026
var splitModel: String? = nil
var runs = 100, threads = 1
// (argv from NiNCPU: Embedded Swift has no CommandLine)
var arguments = ArraySlice((1..<max(1, Int(ninpriv_argument_count()))).map { String(cString: ninpriv_arguments()![$0]!) })
while let option = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fputs("nin-kernel-check: \(option) needs a value (\(usage))\n", ninpriv_stderr()); exit(2) }
    switch option {
    case "--trials" where Int(value) != nil && Int(value)! >= 0: trials = Int(value)!
    case "--seed" where UInt64(value) != nil: seed = UInt64(value)!
    case "--amx-split": splitModel = value
    case "--runs" where Int(value) != nil && Int(value)! >= 1: runs = Int(value)!
    case "--threads" where Int(value) != nil && (1...256).contains(Int(value)!): threads = Int(value)!
    default: fputs("nin-kernel-check: bad option \(option) \(value) (\(usage))\n", ninpriv_stderr()); exit(2)
    }
}

// --amx-split: each layer of a model on the AMX tiles and on the driver with no-op tiles.
if let splitModel {
    do throws(NiNError) {
        let bytes = try NiNModel(path: splitModel, isa: .generic).bytes  // (validated, read as any load reads it)
        let split = try amxSplit(modelBytes: bytes, runs: runs, threads: threads)
        for line in split.lines { print(line) }
        exit(0)
    } catch {
        print("nin-kernel-check: \(error)")
        exit(1)
    }
}

let families = CheckedFamily.runnable.filter { $0.isa != .generic }
for isa in KernelFamilyID.allCases where isa != .generic && !isa.isSupported {
    print("\(isa.rawValue): not run (\(isa.unsupportedReason ?? "unsupported"))")  // (every unsupported family has a reason)
}
if families.isEmpty { print("no optimized kernel family to check on this build and CPU"); exit(0) }

var rng = SplitMix(state: seed)
var cases: [RandomConvolution] = (0..<trials).map { RandomConvolution(trial: $0, using: &rng) }
cases += classicLayers.map { RandomConvolution(classic: $0, using: &rng) }
var passed = [Int](repeating: 0, count: families.count)
var failure = [String?](repeating: nil, count: families.count)
let threadCounts = [1, 3]
do throws(NiNError) {
    for (index, trial) in cases.enumerated() {
        let model = trial.model
        let reference = try runLayers(CheckedFamily(isa: .generic).load(model), input: trial.input, batch: trial.batch, threads: 1)
        for (f, family) in families.enumerated() where failure[f] == nil {
            let loaded = try family.load(model)
            var ok = true
            for threads in threadCounts where ok {
                let result = try runLayers(loaded, input: trial.input, batch: trial.batch, threads: threads)
                if result != reference {
                    let at = (0..<min(result.count, reference.count)).first { result[$0] != reference[$0] } ?? min(result.count, reference.count)
                    let got = at < result.count ? String(result[at]) : "none", expected = at < reference.count ? String(reference[at]) : "none"
                    failure[f] = "case \(index) (\(index < trials ? "random trial" : "classic layer")), \(threads) threads: "
                        + "\(trial.summary): byte \(at) of \(reference.count) is \(got), reference \(expected)"
                    ok = false
                }
            }
            if ok { passed[f] += 1 }
        }
    }
} catch {
    print("nin-kernel-check: \(error)")
    exit(1)
}
for (f, family) in families.enumerated() {
    if let failure = failure[f] {
        print("\(family.name): MISMATCH after \(passed[f]) ok: \(failure)")
    } else {
        print("\(family.name): ok \(passed[f])/\(cases.count)")
    }
}
exit(failure.contains { $0 != nil } ? 1 : 0)
