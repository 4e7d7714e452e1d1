// The kernel seam: what the engine calls for each layer, as one table of function values per
// kernel family, and the table of every family this build has. A model picks its family once,
// at load (`KernelFamilyID`); a run then calls through the chosen entry once per layer (or part of
// one), never inside a kernel's loops. Adding a family: docs/ARCHITECTURE.md, "How to add a
// kernel family".

import NiNCPU
import NiNKernelCore
import NiNPortable
#if NIN_X86_KERNELS
import NiNAVX2
import NiNAVX512VNNI
import NiNAVXVNNI
import NiNAMX
#elseif NIN_ARM64_KERNELS
import NiNNEON
import NiNNEONDot
import NiNI8MM
#elseif NIN_WASM_KERNELS
import NiNWasmSIMD
#if NIN_WASM_RELAXED
import NiNWasmRelaxed
#endif
#elseif NIN_CORTEXM_KERNELS
import NiNCortexM
#endif

/// A family's convolution: the packing of a layer's weights at model load and the kernel that
/// reads what it packed, one value, so neither is ever set without the other.
struct ConvolutionKernels {
    /// Repacks a convolution's weights into the family's layout at model load (nil: out of memory).
    let pack: (ConvolutionWeights) -> PackedConvolution?
    /// Scratch bytes one thread needs for a convolution of this geometry over `totalRows` rows
    /// with the kernel `pack` chose for it (`PackedConvolution.variant`); 0 when it needs none.
    let scratchBytes: (_ geometry: ConvolutionGeometry, _ totalRows: Int, _ variant: Int) -> Int
    /// Computes part `part` of `parts` of a convolution call, with weights from `pack`.
    let run: (_ call: ConvolutionCall, _ part: Int, _ parts: Int) -> Void
    /// The name of the kernel `pack` chose for a layer (`PackedConvolution.variant`), for plans
    /// and profiles; nil: the family has one convolution kernel.
    var variantName: ((_ variant: Int) -> String)? = nil
}

extension ConvolutionKernels {
    /// A family whose scratch depends on the geometry alone (every kernel it packs for needs the same).
    init(pack: @escaping (ConvolutionWeights) -> PackedConvolution?,
         scratchBytes: @escaping (_ geometry: ConvolutionGeometry, _ totalRows: Int) -> Int,
         run: @escaping (_ call: ConvolutionCall, _ part: Int, _ parts: Int) -> Void,
         variantName: ((_ variant: Int) -> String)? = nil) {
        self.init(pack: pack, scratchBytes: { geometry, rows, _ in scratchBytes(geometry, rows) }, run: run,
                  variantName: variantName)
    }
}

/// One family's kernels: one entry of the family table, the single place a family's facts
/// live (name, CPU flags and probe, place in the order, kernels). The scalar reference kernels
/// (the executable spec every family equals bit for bit) are an entry like the others, `generic`.
struct KernelFamily {
    /// The family's name, also its `NIN_ISA` value.
    let isa: KernelFamilyID
    /// The CPU flags the family needs, as /proc/cpuinfo names them (empty: every CPU of the
    /// build's architecture): what its probe checks, named in its reason and by the tests.
    var cpuFlags: [String] = []
    /// Why this CPU (or OS) cannot run the family, from its probe in Sources/NiNCPU; nil when it
    /// can. Nothing of a family's target runs before this said nil: its code may use any
    /// instruction its flags allow, even where plain Swift does (Package.swift's -m flags).
    let unavailableReason: String?
    /// The family's convolution.
    let convolution: ConvolutionKernels
    /// Computes output rows `rows` (indices into batch x outHeight) of a max pool.
    let maxPool: (_ geometry: ConvolutionGeometry, _ input: UnsafePointer<UInt8>, _ output: UnsafeMutablePointer<UInt8>,
                  _ rows: Range<Int>) -> Void
    /// Called on the calling thread when a run ends: a family that keeps per-thread state across
    /// a run's layers gives it back there (AMX: the tiles its first layer configured).
    var endRun: (() -> Void)? = nil
    /// Makes the family's register-only loop of its multiply instruction, the peak its
    /// convolutions are measured against (`KernelPeak`); nil for the portable and reference
    /// families. A function, not a value: building the table runs nothing of a family's target.
    var peakLoop: (() -> DotProductLoop)? = nil

    /// Whether this CPU (and OS) can run the family.
    var isSupported: Bool { unavailableReason == nil }

    /// The scalar reference kernels (Kernels/Reference), `NIN_ISA=generic`: every CPU runs them.
    /// They read the model's weights in place (`packReference` borrows them).
    static let generic = KernelFamily(
        isa: .generic, unavailableReason: nil,
        convolution: ConvolutionKernels(pack: packReference, scratchBytes: { _, _ in 0 },
                                        run: { call, part, parts in convolutionReference(call, part: part, parts: parts) }),
        maxPool: { geometry, input, output, rows in maxPoolReference(geometry, input: input, output: output, rows: rows) })

    /// Every family this build has, best first; a family the CPU lacks falls back to the first
    /// supported one after it. The reference family is last. NIN_NO_PORTABLE_FAMILY leaves the
    /// portable family out (the Cortex-M firmware's small image, tools/mcu/build.sh, and
    /// nin-relaxed.wasm, tools/wasm/build.sh).
    #if NIN_NO_PORTABLE_FAMILY
    static let table: [KernelFamily] = optimizedFamilies + [generic]
    #else
    static let table: [KernelFamily] = optimizedFamilies + [portable, generic]
    #endif

    #if !NIN_NO_PORTABLE_FAMILY
    /// The portable family (Sources/NiNPortable): baseline instructions only, so every CPU runs it.
    static let portable = KernelFamily(
        isa: .portable, unavailableReason: nil,
        convolution: ConvolutionKernels(pack: packInt16Pairs, scratchBytes: convolutionPortableScratchBytes,
                                        run: convolutionPortable),
        maxPool: maxPoolPortable)
    #endif

    /// Families whose instructions this build can also run on a scalar emulator, with the same
    /// driver (tests and nin-kernel-check only; never chosen by a model load or NIN_ISA).
    static let emulated: [KernelFamily] = emulatedFamilies

    /// Families whose driver can also run with its core instructions as no-ops, to time the
    /// rest (nin-kernel-check --amx-split; outputs wrong, never chosen by a load).
    static let withoutCoreInstructions: [KernelFamily] = familiesWithoutCoreInstructions
}

#if NIN_X86_KERNELS
/// What each x86 family's probe checks, as /proc/cpuinfo names the flags.
private let avx2Flags = ["avx2", "fma"]
private let avx512vnniFlags = avx2Flags + ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"]
private let avxvnniFlags = avx2Flags + ["avx_vnni"]
private let amxFlags = avx512vnniFlags + ["amx_tile", "amx_int8"]

/// nil where `probe` (a NiNCPU check) says yes, else the flags the CPU may lack: all of
/// `flags`, or those beyond AVX2's where the CPU has AVX2.
private func lacking(_ probe: Int32, _ flags: [String]) -> String? {
    guard probe == 0 else { return nil }
    let beyond = ninpriv_cpu_has_avx2() != 0 ? flags.filter { flag in !avx2Flags.contains { $0.hasSameBytes(as: flag) } } : flags
    return "CPU lacks " + beyond.joined(separator: "/")
}

/// The x86-64 families (Package.swift builds their targets only on x86-64 hosts). Each probe
/// requires the one below it (AMX the AVX-512 VNNI one, the VNNI ones AVX2).
private let optimizedFamilies: [KernelFamily] = [
    KernelFamily(isa: .amx, cpuFlags: amxFlags,
                 // (with AVX-512 VNNI, the AMX probe says whether the CPU or the kernel refuses)
                 unavailableReason: ninpriv_cpu_has_avx512vnni() == 0 ? lacking(0, amxFlags)
                     : ninpriv_cpu_amx_unavailable().map { String(cString: $0) },
                 convolution: ConvolutionKernels(pack: packAMX, scratchBytes: convolutionAMXScratchBytes,
                                                  run: convolutionAMX),
                 maxPool: maxPoolAVX2, endRun: releaseAMXTiles, peakLoop: peakLoopAMX),
    KernelFamily(isa: .avx512vnni, cpuFlags: avx512vnniFlags,
                 unavailableReason: lacking(ninpriv_cpu_has_avx512vnni(), avx512vnniFlags),
                 convolution: ConvolutionKernels(pack: { packQuads($0) }, scratchBytes: convolutionAVX512VNNIScratchBytes,
                                                 run: convolutionAVX512VNNI),
                 maxPool: maxPoolAVX2, peakLoop: peakLoopAVX512VNNI),
    KernelFamily(isa: .avxvnni, cpuFlags: avxvnniFlags,
                 unavailableReason: lacking(ninpriv_cpu_has_avxvnni(), avxvnniFlags),
                 convolution: ConvolutionKernels(pack: { packQuads($0) }, scratchBytes: convolutionAVXVNNIScratchBytes,
                                                  run: convolutionAVXVNNI),
                 maxPool: maxPoolAVX2, peakLoop: peakLoopAVXVNNI),
    KernelFamily(isa: .avx2, cpuFlags: avx2Flags, unavailableReason: lacking(ninpriv_cpu_has_avx2(), avx2Flags),
                 convolution: ConvolutionKernels(pack: packAVX2, scratchBytes: convolutionAVX2ScratchBytes,
                                                  run: convolutionAVX2, variantName: avx2KernelName),
                 maxPool: maxPoolAVX2, peakLoop: peakLoopAVX2),
]

/// AMX on the scalar tile emulator (NiNAMXTiles): the driver, its requantization and im2col
/// are NiNAMX's AVX-512 code, so it needs AVX-512 VNNI.
private let emulatedFamilies: [KernelFamily] = [
    KernelFamily(isa: .amx, cpuFlags: avx512vnniFlags,
                 unavailableReason: lacking(ninpriv_cpu_has_avx512vnni(), avx512vnniFlags)
                     .map { $0 + " (for the emulated driver's requantization)" },
                 convolution: ConvolutionKernels(pack: packAMX, scratchBytes: convolutionAMXScratchBytes,
                                                  run: convolutionAMXEmulated),
                 maxPool: maxPoolAVX2, endRun: releaseEmulatedAMXTiles,
                 peakLoop: peakLoopAMXEmulated),
]

/// AMX with its tile instructions as no-ops (AMXWithoutTiles.swift): the time outside the tiles.
private let familiesWithoutCoreInstructions: [KernelFamily] = [
    KernelFamily(isa: .amx, cpuFlags: avx512vnniFlags,
                 unavailableReason: lacking(ninpriv_cpu_has_avx512vnni(), avx512vnniFlags),
                 convolution: ConvolutionKernels(pack: packAMX, scratchBytes: convolutionAMXScratchBytes,
                                                  run: convolutionAMXWithoutTiles),
                 maxPool: maxPoolAVX2),
]
#elseif NIN_ARM64_KERNELS
/// The arm64 families (Package.swift and tools/embedded/build.sh build their targets only for
/// arm64), best first; each probe (HWCAP on Linux) requires the one below it.
private let optimizedFamilies: [KernelFamily] = [
    KernelFamily(isa: .i8mm, cpuFlags: ["asimd", "asimddp", "i8mm"],
                 unavailableReason: ninpriv_cpu_has_i8mm() != 0 ? nil
                     : ninpriv_cpu_has_asimddp() != 0 ? "CPU lacks i8mm" : "CPU lacks asimddp/i8mm",
                 convolution: ConvolutionKernels(pack: packI8MM, scratchBytes: convolutionI8MMScratchBytes,
                                                  run: convolutionI8MM),
                 maxPool: maxPoolNEON, peakLoop: peakLoopI8MM),
    KernelFamily(isa: .neondot, cpuFlags: ["asimd", "asimddp"],
                 unavailableReason: ninpriv_cpu_has_asimddp() != 0 ? nil : "CPU lacks asimddp",
                 convolution: ConvolutionKernels(pack: packNEON, scratchBytes: convolutionNEONDotScratchBytes,
                                                  run: convolutionNEONDot, variantName: neonDotKernelName),
                 maxPool: maxPoolNEON, peakLoop: peakLoopNEONDot),
    KernelFamily(isa: .neon, cpuFlags: ["asimd"],
                 unavailableReason: ninpriv_cpu_has_asimd() != 0 ? nil : "CPU lacks asimd",
                 convolution: ConvolutionKernels(pack: packNEON, scratchBytes: convolutionNEONScratchBytes,
                                                  run: convolutionNEON, variantName: neonKernelName),
                 maxPool: maxPoolNEON, peakLoop: peakLoopNEON),
]
private let emulatedFamilies: [KernelFamily] = []
private let familiesWithoutCoreInstructions: [KernelFamily] = []
#elseif NIN_WASM_KERNELS
/// The WebAssembly family (nin.wasm, tools/wasm/build.sh): SIMD128, which every engine that
/// accepts nin.wasm runs (it would refuse the module otherwise), so no probe.
private let optimizedFamilies: [KernelFamily] = wasmRelaxedFamilies + [
    KernelFamily(isa: .wasmsimd, unavailableReason: nil,
                 convolution: ConvolutionKernels(pack: packInt16Pairs, scratchBytes: convolutionWasmSIMDScratchBytes,
                                                 run: convolutionWasmSIMD),
                 maxPool: maxPoolPortable),
]
#if NIN_WASM_RELAXED
/// nin-relaxed.wasm's relaxed-SIMD family, which nin.js loads only where the engine validates
/// relaxed SIMD (so no probe here either).
private let wasmRelaxedFamilies: [KernelFamily] = [
    KernelFamily(isa: .wasmrelaxed, unavailableReason: nil,
                 convolution: ConvolutionKernels(pack: packWasmRelaxed, scratchBytes: convolutionWasmRelaxedScratchBytes,
                                                 run: convolutionWasmRelaxed, variantName: wasmRelaxedKernelName),
                 maxPool: maxPoolPortable),
]
#else
private let wasmRelaxedFamilies: [KernelFamily] = []
#endif
private let emulatedFamilies: [KernelFamily] = []
private let familiesWithoutCoreInstructions: [KernelFamily] = []
#elseif NIN_CORTEXM_KERNELS
/// The Cortex-M firmware's build (tools/mcu/build.sh, armv7em): its DSP family first. Every
/// Armv7E-M core has the DSP extension (the build's target guarantees it).
private let optimizedFamilies: [KernelFamily] = [
    KernelFamily(isa: .cortexm, cpuFlags: ["dsp"], unavailableReason: nil,
                 convolution: ConvolutionKernels(pack: packCortexM, scratchBytes: convolutionCortexMScratchBytes,
                                                 run: convolutionCortexM),
                 maxPool: maxPoolPortable),
]
private let emulatedFamilies: [KernelFamily] = []
private let familiesWithoutCoreInstructions: [KernelFamily] = []
#else
/// No optimized family in this build (another architecture, or NIN_PORTABLE=1): the portable family is the best.
private let optimizedFamilies: [KernelFamily] = []
private let emulatedFamilies: [KernelFamily] = []
private let familiesWithoutCoreInstructions: [KernelFamily] = []
#endif
