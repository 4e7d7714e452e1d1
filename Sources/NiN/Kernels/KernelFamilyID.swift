// Which kernel family runs: chosen once per model load from the CPU's features (the family
// table, KernelFamily.swift), overridable with the NIN_ISA environment variable ("generic"
// forces the scalar reference kernels).

import NiNCPU
import NiNPlatform

/// Which kernel family: its name (the raw value, also its `NIN_ISA` value), whether this build
/// has it and this CPU runs it, and the choice made at load. A family is not always an ISA
/// (`portable` is plain Swift, `generic` the scalar reference); its facts live in its
/// `KernelFamily` table entry. Every family gives the same bits. `generic` stays the first case
/// (the tests compare every case with the first).
public enum KernelFamilyID: String, Sendable, CaseIterable {
    /// The scalar reference kernels (the executable spec).
    case generic
    /// x86-64 AVX2 kernels (Sources/NiNAVX2).
    case avx2
    /// x86-64 AVX-512 VNNI kernels on zmm registers (Sources/NiNAVX512VNNI).
    case avx512vnni
    /// x86-64 AVX-VNNI kernels: VEX vpdpbusd on ymm, for CPUs without AVX-512 (Sources/NiNAVXVNNI).
    case avxvnni
    /// x86-64 AMX tiles (tdpbusd) with AVX-512 requantization (Sources/NiNAMX): Sapphire Rapids
    /// and later Xeons, where the kernel grants the process the tile data state.
    case amx
    /// Plain Swift kernels vectorized for the baseline target, built on every host (Sources/NiNPortable).
    case portable
    /// arm64 NEON kernels of ARMv8.0 (every arm64 CPU): widening multiplies and pairwise
    /// accumulates (Sources/NiNNEON).
    case neon
    /// arm64 dot product kernels: SDOT of ARMv8.2's asimddp (Sources/NiNNEONDot).
    case neondot
    /// arm64 int8 matrix multiply extension kernels: SUDOT/USDOT of `i8mm`, u8 x s8 without a
    /// shift (Sources/NiNI8MM).
    case i8mm
    /// WebAssembly SIMD128 kernels on i32x4.dot_i16x8_s (Sources/NiNWasmSIMD), built only into
    /// nin.wasm (tools/wasm/build.sh).
    case wasmsimd
    /// WebAssembly relaxed SIMD (i32x4.relaxed_dot_i8x16_i7x16_add_s) on layers of 7-bit inputs,
    /// wasmsimd on the others (Sources/NiNWasmRelaxed), built only into nin-relaxed.wasm.
    case wasmrelaxed
    /// Armv7E-M DSP kernels (SMLAD, SXTB16) reading the weights in place, for Cortex-M4/M7
    /// firmware (Sources/NiNCortexM; only tools/mcu/build.sh builds them).
    case cortexm

    /// True when this build has the AVX2 kernels and this CPU (and OS) can run them.
    public static let avx2Supported = KernelFamilyID.avx2.isSupported

    /// True when this build has the AVX-512 VNNI kernels and this CPU (and OS) can run them.
    public static let avx512vnniSupported = KernelFamilyID.avx512vnni.isSupported

    /// True when this build has the family's kernels (make test-portable and non-x86 hosts
    /// build without the x86 ones); generic is always built.
    public var isBuilt: Bool { entry != nil }

    /// True when this build has the family and this CPU can run it.
    public var isSupported: Bool { entry?.isSupported ?? false }

    /// The family's entry in the table, or nil when this build lacks it.
    private var entry: KernelFamily? { KernelFamily.table.first { $0.isa == self } }

    /// The raw value as a static string, NUL-terminated (the C API's family names; NIN_ISA is
    /// matched against it without making a String).
    package var staticName: StaticString {
        switch self {
        case .generic: "generic"
        case .avx2: "avx2"
        case .avx512vnni: "avx512vnni"
        case .avxvnni: "avxvnni"
        case .amx: "amx"
        case .portable: "portable"
        case .neon: "neon"
        case .neondot: "neondot"
        case .i8mm: "i8mm"
        case .wasmsimd: "wasmsimd"
        case .wasmrelaxed: "wasmrelaxed"
        case .cortexm: "cortexm"
        }
    }

    /// `self` if the CPU can run it, else the best supported family below it (in the end, generic).
    public var supportedFallback: KernelFamilyID { kernels.isa }

    /// The kernels of `supportedFallback`.
    var kernels: KernelFamily {
        let table = KernelFamily.table
        // A family this build lacks (an x86 one on arm64): the best family the build has.
        guard let index = table.firstIndex(where: { $0.isa == self }) else { return table.first(where: { $0.isSupported }) ?? .generic }
        return table[index...].first(where: { $0.isSupported }) ?? .generic
    }

    /// The families this build has, in the order a load prefers them (best first; `generic`,
    /// the reference kernels, last), whether or not this CPU runs them: the family table's order.
    public static var built: [KernelFamilyID] { KernelFamily.table.map { $0.isa } }

    /// Why this build or CPU cannot run the family ("CPU lacks avx512f/avx512bw/avx512vl/avx512_vnni",
    /// or for AMX the kernel's refusal of the tile data state); nil for a family it runs.
    public var unsupportedReason: String? {
        guard let entry else { return "not in this build (compiled out, or for another architecture)" }
        return entry.unavailableReason
    }

    /// The CPU flags the family needs, as /proc/cpuinfo names them (empty: any CPU the build
    /// runs on), or nil when this build lacks the family.
    package var cpuFlags: [String]? { entry?.cpuFlags }

    /// Why this CPU cannot run the family's instruction emulator (nil: it can, or the build has none).
    package var emulatorUnsupportedReason: String? {
        KernelFamily.emulated.first(where: { $0.isa == self })?.unavailableReason
    }

    /// The families this build can also run on an instruction emulator (`NiNModel(bytes:emulating:)`)
    /// on this CPU: AMX, wherever AVX-512 VNNI is.
    package static var emulated: [KernelFamilyID] { KernelFamily.emulated.filter({ $0.isSupported }).map { $0.isa } }

    /// The best family this CPU supports, unless NIN_ISA names another one (which falls back
    /// to the best supported family below it, with the reason on stderr, once per process).
    public static var preferred: KernelFamilyID {
        if let value = Platform.environment(staticName: "NIN_ISA"), let requested = named(value) {
            if let reason = requested.unsupportedReason { reportFallback(requested, reason) }
            return requested.supportedFallback
        }
        return (KernelFamily.table.first(where: { $0.isSupported }) ?? .generic).isa
    }
}

/// The family whose raw value is the C string `name`, byte for byte (`init(rawValue:)` compares
/// Strings with Unicode normalization: ByteString.swift; no String is made of `name`).
private func named(_ name: UnsafePointer<CChar>) -> KernelFamilyID? {
    KernelFamilyID.allCases.first { isa in
        let raw = isa.staticName
        // A shorter `name` differs at its NUL (no raw value holds one): nothing past it is read.
        for i in 0..<raw.utf8CodeUnitCount where UInt8(bitPattern: name[i]) != raw.utf8Start[i] { return false }
        return name[raw.utf8CodeUnitCount] == 0
    }
}

/// Says once per process on stderr why a requested family is not used, and which one is.
private func reportFallback(_ requested: KernelFamilyID, _ reason: String) {
    guard !fallbackReported else { return }
    fallbackReported = true
    // (an ErrorMessage, not a String: String formatting is kilobytes of a microcontroller's code)
    let line: ErrorMessage = "nin: NIN_ISA=\(requested.staticName) unavailable (\(reason)); using \(requested.supportedFallback.staticName)\n\0"
    line.utf8.withUnsafeBytes { Platform.writeStandardError(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
}

/// Whether `reportFallback` has spoken (a benign race at worst repeats its line).
nonisolated(unsafe) private var fallbackReported = false
