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

let package = Package(
    name: "nin",
    products: [
        .library(name: "nin", type: .dynamic, targets: ["NiNCAPI"]),
        .executable(name: "nin-infer", targets: ["nin-infer"]),
    ],
    dependencies: [],
    targets: [
        .target(name: "NiN", dependencies: ["NiNAVX2", "NiNAVX512VNNI", "NiNCPU"], path: "Sources/NiN"),
        // Optimized kernels need their own compiler flags, so each ISA is a target of its own;
        // the engine picks one at model load (KernelISA). Nothing else is built with AVX2.
        .target(name: "NiNAVX2", path: "Sources/NiNAVX2",
                swiftSettings: [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Ounchecked"])]),
        .target(name: "NiNAVX512VNNI", dependencies: ["NiNAVX2"], path: "Sources/NiNAVX512VNNI",
                swiftSettings: [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mavx512f", "-Xcc", "-mavx512vl",
                                              "-Xcc", "-mavx512bw", "-Xcc", "-mavx512vnni", "-Ounchecked"])]),
        .target(name: "NiNCPU", path: "Sources/NiNCPU"),
        .systemLibrary(name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .target(name: "NiNPNG", dependencies: ["NiN", "CLibPNG"], path: "Sources/NiNPNG"),
        .systemLibrary(name: "CNiN", path: "Sources/CNiN"),
        .target(name: "NiNCAPI", dependencies: ["NiN", "NiNPNG", "CNiN"], path: "Sources/NiNCAPI",
                exclude: ["exports.map"],
                linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--version-script=\(exportList)"])]),
        .executableTarget(name: "nin-infer",
                          dependencies: ["NiN", "NiNPNG"],
                          path: "Sources/nin-infer"),
        .testTarget(name: "NiNTests", dependencies: ["NiN", "NiNPNG", "NiNAVX2"], path: "Tests/NiNTests"),
    ],
    swiftLanguageModes: [.v5]
)

// libFuzzer targets (fuzz/), built only by `make fuzz`: NIN_FUZZ=1 swift build --sanitize=fuzzer
// --sanitize=address --scratch-path .build-fuzz. They have no main of their own (libFuzzer's).
if Context.environment["NIN_FUZZ"] == "1" {
    package.targets += [
        .executableTarget(name: "fuzz-model", dependencies: ["NiN"], path: "fuzz/FuzzModel",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(name: "fuzz-png", dependencies: ["NiN", "NiNPNG"], path: "fuzz/FuzzPNG",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
}
