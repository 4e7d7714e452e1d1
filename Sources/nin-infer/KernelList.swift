// nin-infer --list-kernels: the build's kernel families in the order a load prefers them, whether
// this CPU runs each (and why not), and which one a model loaded now would run (the best the CPU
// has, or NIN_ISA's); as text, or as one JSON array with --json. The same list as nin.h's
// nin_kernel_family_* functions and Python's nin.kernel_families().

import NiN

/// Formats `KernelFamilyID.built` for `--list-kernels`.
enum KernelList {
    /// One line per family: its name, then "yes" (and "(chosen)" for the one a load takes) or
    /// "no: <reason>".
    static func text() -> String {
        let chosen = KernelFamilyID.preferred
        let width = KernelFamilyID.built.map { $0.rawValue.count }.max() ?? 0
        return KernelFamilyID.built.map { isa in
            let name = isa.rawValue + String(repeating: " ", count: width - isa.rawValue.count)
            guard let reason = isa.unsupportedReason else { return "\(name)  yes" + (isa == chosen ? " (chosen)" : "") }
            return "\(name)  no: \(reason)"
        }.joined(separator: "\n")
    }

    /// One JSON array of `{"name", "supported", "reason" (null when supported), "chosen",
    /// "cpu_flags"}` (cpu_flags: what the family's probe checks, as /proc/cpuinfo names them).
    static func json() -> String {
        let chosen = KernelFamilyID.preferred
        let objects = KernelFamilyID.built.map { isa in
            let flags = (isa.cpuFlags ?? []).map(jsonString).joined(separator: ", ")
            return "{\"name\": \(jsonString(isa.rawValue)), \"supported\": \(isa.isSupported), "
                + "\"reason\": \(isa.unsupportedReason.map(jsonString) ?? "null"), \"chosen\": \(isa == chosen), "
                + "\"cpu_flags\": [\(flags)]}"
        }
        return "[" + objects.joined(separator: ", ") + "]"
    }
}
