// Which kernel families the tests exercise on this machine. Prints one line that `make test`
// shows ("kernel families: avx512vnni tested, avx2 tested, generic tested", or "... skipped:
// <reason>"), and fails when the engine's CPU detection disagrees with the kernel's
// /proc/cpuinfo flags, so a family the CPU has can never be skipped by a broken check.

import Foundation
import NiN
import NiNKernelCheck
import Testing

/// The flags of the first processor in /proc/cpuinfo, or nil where there is none (not Linux).
private func cpuinfoFlags() -> Set<Substring>? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
          let colon = line.firstIndex(of: ":") else { return nil }
    return Set(line[line.index(after: colon)...].split(separator: " "))
}

@Test("kernel families: every family the CPU has is tested, the others are named with the reason")
func kernelFamilies() throws {
    let tested = testedKernelFamilies.map { "\($0.rawValue) tested" }
        + testedFamilies.filter(\.emulated).map { "\($0.name) tested" }
    let skipped = skippedKernelFamilies.map { "\($0.family.rawValue) skipped: \($0.reason)" } + skippedEmulators
    print("kernel families: " + (tested + skipped).joined(separator: ", "))
    #expect(testedKernelFamilies.last == .generic)
    #if arch(x86_64)
    // Where the x86 families are built, the engine's CPU checks must agree with /proc/cpuinfo.
    let flags = try #require(cpuinfoFlags(), "no flags line in /proc/cpuinfo")
    if KernelISA.avx2.isBuilt {
        #expect(KernelISA.avx2Supported == (flags.contains("avx2") && flags.contains("fma")),
                "the engine's AVX2 check disagrees with /proc/cpuinfo")
    }
    if KernelISA.avx512vnni.isBuilt {
        let vnni = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"].allSatisfy { flags.contains(Substring($0)) }
        #expect(KernelISA.avx512vnniSupported == vnni, "the engine's AVX-512 VNNI check disagrees with /proc/cpuinfo")
    }
    if KernelISA.avxvnni.isBuilt {
        let avxvnni = ["avx2", "fma", "avx_vnni"].allSatisfy { flags.contains(Substring($0)) }
        #expect(KernelISA.avxvnni.isSupported == avxvnni, "the engine's AVX-VNNI check disagrees with /proc/cpuinfo")
    }
    if KernelISA.amx.isBuilt {
        // AMX also needs the kernel's permission: without the CPU flags it must be off, and
        // with them it is on unless the reason names the OS or the kernel.
        let amx = KernelISA.avx512vnniSupported && flags.contains("amx_tile") && flags.contains("amx_int8")
        if !amx { #expect(!KernelISA.amx.isSupported, "the engine's AMX check disagrees with /proc/cpuinfo") }
        if amx && !KernelISA.amx.isSupported {
            let reason = KernelISA.amx.unsupportedReason ?? ""
            #expect(reason.contains("kernel") || reason.contains("OS"), "AMX refused on a CPU with it: \(reason)")
        }
    }
    #endif
    // A family the CPU has is the one a model loads with when asked for it.
    let path = repositoryRoot + "/Tests/golden/net/pools/model.nin"
    for family in testedKernelFamilies {
        #expect(try NiNModel(path: path, isa: family).isa == family)
    }
}
