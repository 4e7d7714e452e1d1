// The families' peak loops (DotProductLoop, KernelPeak): each does exactly the MACs it claims
// (its operands are all ones, so the sum of its accumulators counts them), on every family this
// CPU runs and on the AMX emulator; the families without one say so with nil; and the AMX loop
// leaves the tiles so that the next run configures them again and stays exact.

@testable import NiN
import NiNKernelCore
import Testing

@Test("peak loops: each family's loop does exactly its rounds x MACs per round, and is measured")
func peakLoopsCountTheirMACs() throws {
    var lines: [String] = []
    for isa in KernelFamilyID.allCases {
        guard let loop = isa.peakLoop() else {
            #expect(isa == .generic || isa == .portable || !isa.isSupported, "\(isa.rawValue) runs here but has no peak loop")
            #expect(isa.measurePeak(milliseconds: 1) == nil)
            lines.append("\(isa.rawValue) skipped: " + (isa.isSupported ? "no peak loop" : isa.isBuilt ? "the CPU lacks it" : "not in this build"))
            continue
        }
        for rounds in [0, 1, 7, 33] {
            #expect(loop.run(rounds) == rounds * loop.macsPerRound, "\(isa.rawValue) (\(loop.instruction)), \(rounds) rounds")
        }
        let peak = try #require(isa.measurePeak(milliseconds: 5))
        #expect(peak.isa == isa && peak.instruction == loop.instruction && peak.macsPerSecond > 0)
        lines.append("\(isa.rawValue) \(Int(peak.macsPerSecond / 1e9)) GMAC/s (\(peak.instruction))")
    }
    if let emulated = KernelFamilyID.amx.peakLoop(emulated: true) {
        for rounds in [0, 1, 3] { #expect(emulated.run(rounds) == rounds * emulated.macsPerRound, "AMX emulator, \(rounds) rounds") }
        #expect(emulated.macsPerRound == 4 * 16 * 16 * 64)
        lines.append("amx-emulator tested")
    } else {
        lines.append("amx-emulator skipped: " + (KernelFamilyID.amx.isBuilt ? "the CPU lacks AVX-512 VNNI" : "not in this build"))
    }
    print("peak loops: " + lines.joined(separator: ", "))
}

@Test("peak loops: the AMX loop between two runs leaves the next run exact (it reconfigures the tiles)")
func amxPeakLoopBetweenRuns() throws {
    for emulated in [true, false] {
        guard let loop = KernelFamilyID.amx.peakLoop(emulated: emulated) else { continue }
        let bytes = try readBytes(repositoryRoot + "/models/fashion_small.nin")
        let model = try emulated ? NiNModel(bytes: bytes, emulating: .amx) : NiNModel(bytes: bytes, isa: .amx)
        let reference = try NiNModel(bytes: bytes, isa: .generic)
        let n = model.graph.layers[0].input.elementCount
        let input = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        // Every layer's output bytes of one run.
        func layers(_ context: NiNContext) throws -> [[UInt8]] {
            var outputs: [[UInt8]] = []
            try context.run(preparedInput: input, count: 1) { _, output in outputs.append(output) }
            return outputs
        }
        let expected = try layers(NiNContext(model: reference, threads: 1))
        let context = try NiNContext(model: model, threads: 1)
        #expect(try layers(context) == expected)
        #expect(loop.run(2) == 2 * loop.macsPerRound)
        #expect(try layers(context) == expected, "emulated: \(emulated)")
    }
}
