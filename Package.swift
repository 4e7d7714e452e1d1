// swift-tools-version: 6.0
// nin: an int8 inference runtime for Network-in-Network CNNs.
//   libnin.so  (product "nin", dynamic): the C API of include/nin.h
//   nin-infer  : the command-line classifier
// No package dependencies. The engine (target NiN) does not import Foundation, and neither
// does nin-infer (a static executable: Foundation would cost it megabytes of resident memory).
import PackageDescription

// libnin.so exports only the nin_* functions. lld, unlike gold, also leaves no localized Swift
// symbols in the dynamic symbol table, so `nm -D` lists exactly the C API.
let exportList = Context.packageDirectory + "/Sources/NiNCAPI/exports.map"
// The ABI name the library records (SONAME): libnin.so.<NIN_VERSION_MAJOR of include/nin.h>.
// `make lib` links libnin.so.0 -> libnin.so beside it; `make install` installs the versioned file.
let soname = "libnin.so.0"

// Kernel families: the x86-64 ones (their targets use x86 intrinsics and -m flags) are built only
// on an x86-64 host, and not with NIN_PORTABLE=1 (`make test-portable`), which builds what any
// other host gets: the portable family and the reference kernels.
#if arch(x86_64)
let x86Kernels = Context.environment["NIN_PORTABLE"] != "1"
#else
let x86Kernels = false
#endif
let kernelTargets: [Target] = x86Kernels ? [
    // Optimized kernels need their own compiler flags, so each ISA is a target of its own;
    // the engine picks one at model load (KernelFamily). Nothing else is built with AVX2.
    .target(name: "NiNAVX2", dependencies: ["NiNKernelCore", "NiNCPU"], path: "Sources/NiNAVX2",
            swiftSettings: [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Ounchecked"])]),
    .target(name: "NiNAVXVNNI", dependencies: ["NiNKernelCore", "NiNAVX2"], path: "Sources/NiNAVXVNNI",
            swiftSettings: [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mavxvnni", "-Ounchecked"])]),
    .target(name: "NiNAVX512VNNI", dependencies: ["NiNKernelCore"], path: "Sources/NiNAVX512VNNI",
            swiftSettings: [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mavx512f", "-Xcc", "-mavx512vl",
                                          "-Xcc", "-mavx512bw", "-Xcc", "-mavx512vnni", "-Ounchecked"])]),
    // AMX (Sapphire Rapids and later): the tile instructions as C wrappers (CNiNAMX), driven
    // from Swift with the VNNI family's weight layout, im2col and AVX-512 requantization.
    .systemLibrary(name: "CNiNAMX", path: "Sources/CNiNAMX"),
    // The tile instructions as a protocol, and their exact scalar emulator: plain Swift with no
    // ISA flags, so the emulator's own code runs on any x86-64 CPU (the driver over it is
    // NiNAMX's, reached only where the CPU has AVX-512 VNNI).
    .target(name: "NiNAMXTiles", dependencies: ["NiNPlatform"], path: "Sources/NiNAMXTiles"),
    .target(name: "NiNAMX", dependencies: ["NiNKernelCore", "NiNAVX512VNNI", "NiNAMXTiles", "CNiNAMX", "NiNPlatform"], path: "Sources/NiNAMX",
            swiftSettings: [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mavx512f", "-Xcc", "-mavx512vl",
                                          "-Xcc", "-mavx512bw", "-Xcc", "-mavx512vnni", "-Xcc", "-mamx-tile",
                                          "-Xcc", "-mamx-int8", "-Ounchecked"])]),
] : []

// Kernel families for arm64 (Sources/NiNNEON, NiNNEONDot, NiNI8MM), built only on an arm64 host and not
// with NIN_PORTABLE=1. The toolchain has no hosted Swift for arm64 Linux here, so `make arm64`
// builds them with Embedded Swift (tools/embedded/build.sh); these targets are what a hosted
// arm64 toolchain would build.
#if arch(arm64)
let arm64Kernels = Context.environment["NIN_PORTABLE"] != "1"
#else
let arm64Kernels = false
#endif
let arm64KernelTargets: [Target] = arm64Kernels ? [
    // ARMv8.0 NEON: every arm64 CPU; also the arm64 families' packing and requantization.
    .target(name: "NiNNEON", dependencies: ["NiNKernelCore", "NiNCPU"], path: "Sources/NiNNEON",
            swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
    .target(name: "NiNNEONDot", dependencies: ["NiNKernelCore", "NiNNEON"], path: "Sources/NiNNEONDot",
            swiftSettings: [.unsafeFlags(["-Xcc", "-march=armv8.2-a+dotprod", "-Ounchecked"])]),
    .target(name: "NiNI8MM", dependencies: ["NiNKernelCore", "NiNNEONDot"], path: "Sources/NiNI8MM",
            swiftSettings: [.unsafeFlags(["-Xcc", "-march=armv8.2-a+dotprod+i8mm", "-Ounchecked"])]),
] : []

let package = Package(
    name: "nin",
    products: [
        .library(name: "nin", type: .dynamic, targets: ["NiNCAPI"]),
        .executable(name: "nin-infer", targets: ["nin-infer"]),
        .executable(name: "nin-kernel-check", targets: ["nin-kernel-check"]),
    ],
    dependencies: [],
    targets: [
        .target(name: "NiN",
                dependencies: ["NiNKernelCore", "NiNCPU", "NiNPlatform", "CNiNPlatform"]
                    + ["NiNPortable"] + (x86Kernels ? ["NiNAVX2", "NiNAVXVNNI", "NiNAVX512VNNI", "NiNAMX"] : [])
                    + (arm64Kernels ? ["NiNNEON", "NiNNEONDot", "NiNI8MM"] : []) as [Target.Dependency],
                path: "Sources/NiN",
                swiftSettings: x86Kernels ? [.define("NIN_X86_KERNELS")] : arm64Kernels ? [.define("NIN_ARM64_KERNELS")] : []),
        // What every kernel family shares (geometry, call, packing storage, requantization
        // tables, pixel order, scratch sizing): plain Swift, no ISA flags, no intrinsics.
        .target(name: "NiNKernelCore", dependencies: ["NiNPlatform"], path: "Sources/NiNKernelCore"),
        // Every system call the engine makes (memory, file mapping, environment, clock, stderr),
        // in one file: what a platform without them replaces.
        .target(name: "NiNPlatform", dependencies: ["CNiNPlatform"], path: "Sources/NiNPlatform"),
        // The C library as the platform layer imports it (hosted and Embedded alike: Embedded
        // Swift has no Glibc module), with helpers for errno, open and MAP_FAILED. Header only.
        .systemLibrary(name: "CNiNPlatform", path: "Sources/CNiNPlatform"),
        // The portable kernel family: plain Swift vectorized for the baseline target (SSE2 on
        // x86-64, NEON on arm64), no ISA flags, built on every host.
        .target(name: "NiNPortable", dependencies: ["NiNKernelCore"], path: "Sources/NiNPortable",
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "NiNCPU", path: "Sources/NiNCPU"),
        .systemLibrary(name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // libpng's regular API reports errors with longjmp: its calls live in a C target behind setjmp.
        .target(name: "NiNPNGRead", dependencies: ["CLibPNG"], path: "Sources/NiNPNGRead",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("m")]),  // libm after libpng: static links
        .target(name: "NiNPNG", dependencies: ["NiN", "NiNPNGRead", "NiNPlatform", "CNiNPlatform"], path: "Sources/NiNPNG"),
        .systemLibrary(name: "CNiN", path: "Sources/CNiN"),
        .target(name: "NiNCAPI", dependencies: ["NiN", "NiNPNG", "NiNCPU", "CNiN", "NiNPlatform"], path: "Sources/NiNCAPI",
                exclude: ["exports.map"],
                linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--version-script=\(exportList)",
                                               "-Xlinker", "-soname", "-Xlinker", soname])]),
        .executableTarget(name: "nin-infer",
                          dependencies: ["NiN", "NiNPNG", "CNiN", "NiNCPU", "NiNPlatform", "CNiNPlatform"],
                          path: "Sources/nin-infer"),
        // Random convolutions run on every kernel family against the reference: shared by the
        // tests and nin-kernel-check (a static executable for machines without Swift).
        .target(name: "NiNKernelCheck", dependencies: ["NiN"], path: "Sources/NiNKernelCheck"),
        .executableTarget(name: "nin-kernel-check", dependencies: ["NiN", "NiNKernelCheck", "NiNCPU", "CNiNPlatform"],
                          path: "Sources/nin-kernel-check"),
        .testTarget(name: "NiNTests", dependencies: ["NiN", "NiNPNG", "NiNKernelCore", "NiNKernelCheck", "CNiN"]
                        + (x86Kernels ? ["NiNAMX", "NiNAMXTiles"] : []) as [Target.Dependency],
                    path: "Tests/NiNTests"),
    ] + kernelTargets + arm64KernelTargets,
    swiftLanguageModes: [.v5]
)

// libFuzzer targets (fuzz/), built only by `make fuzz` with NIN_FUZZ=1 and the sanitizer flags
// of fuzz/run.sh (which explains them). They have no main of their own (libFuzzer's).
if Context.environment["NIN_FUZZ"] == "1" {
    package.targets += [
        .executableTarget(name: "fuzz-model", dependencies: ["NiN"], path: "fuzz/FuzzModel",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(name: "fuzz-png", dependencies: ["NiN", "NiNPNG"], path: "fuzz/FuzzPNG",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
}
