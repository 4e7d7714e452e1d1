// Which kernel family runs: chosen once per model load from the CPU's features (the family
// table, KernelFamily.swift), overridable with the NIN_ISA environment variable ("generic"
// forces the scalar reference kernels).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A family of kernels. All of them produce the same bits. Each case is a `NIN_ISA` value;
/// `generic` stays the first (the tests compare every case with the first).
public enum KernelISA: String, Sendable, CaseIterable {
    /// The scalar reference kernels (the executable spec).
    case generic
    /// x86-64 AVX2 kernels (Sources/NiNAVX2).
    case avx2
    /// x86-64 AVX-512 VNNI kernels on zmm registers (Sources/NiNAVX512VNNI).
    case avx512vnni
    /// Plain Swift kernels vectorized for the baseline target, built on every host (Sources/NiNPortable).
    case portable

    /// True when this build has the AVX2 kernels and this CPU (and OS) can run them.
    public static let avx2Supported = KernelISA.avx2.isSupported

    /// True when this build has the AVX-512 VNNI kernels and this CPU (and OS) can run them.
    public static let avx512vnniSupported = KernelISA.avx512vnni.isSupported

    /// True when this build has the family's kernels (make test-portable and non-x86 hosts
    /// build without the x86 ones); generic is always built.
    public var isBuilt: Bool { KernelFamily.table.contains { $0.isa == self } }

    /// True when this build has the family and this CPU can run it.
    public var isSupported: Bool { KernelFamily.table.contains { $0.isa == self && $0.isSupported } }

    /// `self` if the CPU can run it, else the best supported family below it (in the end, generic).
    public var supportedFallback: KernelISA { kernels.isa }

    /// The kernels of `supportedFallback`.
    var kernels: KernelFamily {
        let table = KernelFamily.table
        // A family this build lacks (an x86 one on arm64): the best family the build has.
        guard let index = table.firstIndex(where: { $0.isa == self }) else { return table.first(where: \.isSupported) ?? .reference }
        return table[index...].first(where: \.isSupported) ?? .reference
    }

    /// The best family this CPU supports, unless NIN_ISA names another one (which falls back
    /// to the best supported family below it).
    public static var preferred: KernelISA {
        if let value = getenv("NIN_ISA"), let requested = KernelISA(rawValue: String(cString: value)) {
            return requested.supportedFallback
        }
        return (KernelFamily.table.first(where: \.isSupported) ?? .reference).isa
    }
}
