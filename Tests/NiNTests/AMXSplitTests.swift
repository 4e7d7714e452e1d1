// nin-kernel-check --amx-split (Sources/NiNKernelCheck/AMXSplit.swift): the driver with no-op
// tiles runs every layer of a model (here, where AVX-512 VNNI is), the hardware half only where
// the CPU has AMX; and the report's arithmetic: tiles = hardware - outside, their share of
// threads x the peak.

@testable import NiN
import NiNKernelCheck
import Testing

@Test("AMX split: every layer timed on the driver with no-op tiles, and on the tiles where the CPU has them",
      .enabled(if: KernelFamilyID.avx512vnniSupported, "the AMX driver's epilogue needs AVX-512 VNNI"))
func amxSplitTimesEveryLayer() throws {
    let bytes = try readBytes(repositoryRoot + "/models/fashion_small.nin")
    let split = try amxSplit(modelBytes: bytes, runs: 3, rounds: 1, threads: 2)
    let graph = try NiNModel(bytes: bytes, isa: .generic).graph
    #expect(split.layers.count == graph.layers.count)
    for (layer, expected) in zip(split.layers, graph.layers) {
        #expect(layer.macs == expected.macs && layer.withoutTilesMs >= 0)
        #expect((layer.hardwareMs != nil) == KernelFamilyID.amx.isSupported)
    }
    #expect(split.layers.filter { $0.macs > 0 }.allSatisfy { $0.withoutTilesMs > 0 })
    #expect((split.hardwareMissing == nil) == KernelFamilyID.amx.isSupported && (split.peak != nil) == KernelFamilyID.amx.isSupported)
    #expect(split.lines.count == graph.layers.count + 3 + (split.peak != nil ? 1 : 0) + (split.hardwareMissing != nil ? 1 : 0))
}

@Test("AMX split report: tiles are the hardware time less the time outside them, against threads x the peak")
func amxSplitReportArithmetic() {
    let peak = KernelPeak(isa: .amx, instruction: "tdpbusd", macsPerSecond: 2e12)
    let split = AMXSplit(threads: 2, runs: 10, rounds: 3, layers: [
        AMXSplitLayer(name: "0 conv 8x8x64 -> 8x8x64", macs: 1_000_000_000, hardwareMs: 1.5, withoutTilesMs: 0.5),
        AMXSplitLayer(name: "1 maxpool 8x8x64 -> 4x4x64", macs: 0, hardwareMs: 0.25, withoutTilesMs: 0.25),
    ], peak: peak, hardwareMissing: nil)
    let lines = split.lines
    #expect(lines[1] == "peak: 2000.0 GMAC/s per thread (tdpbusd, from registers)")
    // 1e9 MACs in 1.5 - 0.5 = 1 ms: 1,000 GMAC/s of 2 x 2,000: 25%
    #expect(lines[3].split(separator: " ").map(String.init) == ["0", "conv", "8x8x64", "->", "8x8x64", "1.5000", "0.5000", "1.0000", "25.0%"])
    #expect(lines[4].split(separator: " ").map(String.init) == ["1", "maxpool", "8x8x64", "->", "4x4x64", "0.2500", "0.2500", "0.0000"])
    #expect(lines[5].split(separator: " ").map(String.init) == ["total", "1.7500", "0.7500", "1.0000"])
}
