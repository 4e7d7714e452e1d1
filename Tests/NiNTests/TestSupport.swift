// Shared helpers for the Swift tests: the repository root and file access.

import Foundation
import NiN
import NiNKernelCheck

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func listDirectory(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Little-endian int32 values of raw bytes.
func int32Values(_ bytes: [UInt8]) -> [Int32] {
    stride(from: 0, to: bytes.count, by: 4).map {
        Int32(bitPattern: UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24)
    }
}

/// Little-endian float32 values of raw bytes.
func float32Values(_ bytes: [UInt8]) -> [Float] {
    int32Values(bytes).map { Float(bitPattern: UInt32(bitPattern: $0)) }
}

/// The kernel families a comparison test runs on this CPU: every family the CPU supports, best
/// first. The others are listed by `skippedKernelFamilies` with the reason, never dropped silently.
let testedKernelFamilies: [KernelFamilyID] = KernelFamilyID.built.filter { $0 != .generic && $0.isSupported } + [.generic]

/// What the comparison tests run: every family this CPU supports, then the instruction
/// emulators this CPU runs (AMX, wherever AVX-512 VNNI is), then generic.
let testedFamilies: [CheckedFamily] = CheckedFamily.runnable

/// The kernel families this build or CPU cannot run, each with the reason it is not tested
/// (the family entry's own: "CPU lacks avx512f/avx512bw/avx512vl/avx512_vnni").
let skippedKernelFamilies: [(family: KernelFamilyID, reason: String)] = KernelFamilyID.allCases
    .filter { $0 != .generic && !$0.isSupported }
    .map { ($0, $0.unsupportedReason ?? "unsupported") }

/// The instruction emulators this build has but this CPU cannot run (they need AVX-512 VNNI).
let skippedEmulators: [String] = KernelFamilyID.amx.emulatorUnsupportedReason.map { ["amx-emulator skipped: \($0)"] } ?? []
