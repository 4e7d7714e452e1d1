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

    /// True when this CPU (and OS) can run the AVX2 kernels.
    public static let avx2Supported = ninpriv_cpu_has_avx2() != 0

    /// The best family this CPU supports, unless NIN_ISA names another one.
    public static var preferred: KernelISA {
        let supported = avx2Supported
        if let value = getenv("NIN_ISA"), let requested = KernelISA(rawValue: String(cString: value)) {
            return requested == .avx2 && !supported ? .generic : requested
        }
        return supported ? .avx2 : .generic
    }
}
