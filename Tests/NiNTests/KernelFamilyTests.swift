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
    // Where the x86 families are built, the engine's CPU checks must agree with /proc/cpuinfo,
    // except under qemu-user (`make test-cpus`), whose /proc/cpuinfo is the host's: there the
    // script checks the families against the emulated CPU model instead.
    if ProcessInfo.processInfo.environment["NIN_EMULATED_CPU"] != nil {
        print("kernel families: cpuinfo check skipped: emulated CPU \(ProcessInfo.processInfo.environment["NIN_EMULATED_CPU"]!) (/proc/cpuinfo is the host's)")
        return
    }
    let flags = try #require(cpuinfoFlags(), "no flags line in /proc/cpuinfo")
    // Each family's probe agrees with the flags its entry names (AMX also needs the kernel's
    // permission: with its flags it is on unless the reason names the OS or the kernel).
    for family in KernelFamilyID.allCases {
        guard let needed = family.cpuFlags, !needed.isEmpty else { continue }
        let present = needed.allSatisfy { flags.contains(Substring($0)) }
        if family == .amx && present && !family.isSupported {
            let reason = family.unsupportedReason ?? ""
            #expect(reason.contains("kernel") || reason.contains("OS"), "AMX refused on a CPU with it: \(reason)")
        } else {
            #expect(family.isSupported == present, "the engine's \(family.rawValue) check disagrees with /proc/cpuinfo \(needed)")
        }
        if !present { #expect(family.unsupportedReason?.hasPrefix("CPU lacks ") == true) }
    }
    #endif
    // A family the CPU has is the one a model loads with when asked for it.
    let path = repositoryRoot + "/Tests/golden/net/pools/model.nin"
    for family in testedKernelFamilies {
        #expect(try NiNModel(path: path, isa: family).isa == family)
    }
}

@Test("each family's static name (the C API's and NIN_ISA's) spells its raw value, NUL-terminated")
func staticNamesSpellRawValues() {
    for isa in KernelFamilyID.allCases {
        let name = isa.staticName
        let bytes = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        #expect(String(decoding: bytes, as: UTF8.self) == isa.rawValue)
        #expect(name.utf8Start[name.utf8CodeUnitCount] == 0)
    }
}
