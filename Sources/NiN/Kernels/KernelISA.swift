// Which kernel family runs: chosen once per model load from the CPU's features, overridable
// with the NIN_ISA environment variable ("generic" forces the portable reference kernels).

import NiNCPU
#if canImport(Glibc)
import Glibc
#endif

/// A family of kernels. All of them produce the same bits.
public enum KernelISA: String, Sendable, CaseIterable {
    /// The portable scalar reference kernels (the executable spec).
    case generic
    /// x86-64 AVX2 kernels (Sources/NiNAVX2).
    case avx2
    /// x86-64 AVX-512 VNNI kernels on 256-bit vectors (Sources/NiNAVX512VNNI).
    case avx512vnni

    /// True when this CPU (and OS) can run the AVX2 kernels.
    public static let avx2Supported = ninpriv_cpu_has_avx2() != 0

    /// True when this CPU (and OS) can run the AVX-512 VNNI kernels.
    public static let avx512vnniSupported = ninpriv_cpu_has_avx512vnni() != 0

    /// True when this CPU can run the family.
    public var isSupported: Bool {
        switch self {
        case .generic: true
        case .avx2: KernelISA.avx2Supported
        case .avx512vnni: KernelISA.avx512vnniSupported
        }
    }

    /// `self` if the CPU can run it, else the best supported family below it.
    public var supportedFallback: KernelISA {
        if isSupported { return self }
        return self == .avx512vnni && KernelISA.avx2Supported ? .avx2 : .generic
    }

    /// The best family this CPU supports, unless NIN_ISA names another one (which falls back
    /// to the best supported family below it).
    public static var preferred: KernelISA {
        if let value = getenv("NIN_ISA"), let requested = KernelISA(rawValue: String(cString: value)) {
            return requested.supportedFallback
        }
        return KernelISA.avx512vnni.supportedFallback
    }
}
