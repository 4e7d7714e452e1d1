// The measured peak of a kernel family on this machine: how many multiply-accumulates per
// second its multiply instruction does on one thread, from registers only (the family's
// `DotProductLoop`). A convolution's GMAC/s over this figure is the share of the peak it
// reaches (`nin-infer --profile` prints it), the yardstick for "how far from the hardware".

import NiNKernelCore

/// A family's single-thread multiply-accumulate rate with every operand in registers.
public struct KernelPeak: Sendable {
    /// The family measured.
    public let isa: KernelFamilyID
    /// Its multiply instruction and width, e.g. "vpdpbusd zmm" or "tdpbusd".
    public let instruction: String
    /// Multiply-accumulates per second on the calling thread: the best of the trials.
    public let macsPerSecond: Double
}

extension KernelFamilyID {
    /// Measures this family's peak on the calling thread (about `milliseconds` ms: the loop is
    /// sized to about a fifth of that, then the best of five trials is kept), or nil when this
    /// build or CPU cannot run the family or it has no peak loop (portable, generic). Work on a
    /// sibling hyperthread lowers it. AMX: the loop configures the calling thread's tiles and
    /// releases them when it ends, as a run does (nin.h, "AMX").
    public func measurePeak(milliseconds: Double = 20) -> KernelPeak? {
        guard isSupported, let loop = kernels.peakLoop?() else { return nil }
        return measure(loop, isa: self, milliseconds: milliseconds)
    }

    /// The loop of this family that `measurePeak` runs (tests), or of its emulator.
    package func peakLoop(emulated: Bool = false) -> DotProductLoop? {
        emulated ? KernelFamily.emulated.first(where: { $0.isa == self && $0.isSupported })?.peakLoop?()
                 : (isSupported ? kernels.peakLoop?() : nil)
    }
}

/// Times `loop`: doubles its rounds until one trial takes a fifth of `milliseconds`, then keeps
/// the fastest of five trials. The MACs divided are the loop's own count (its result).
private func measure(_ loop: DotProductLoop, isa: KernelFamilyID, milliseconds: Double) -> KernelPeak {
    let trialNanoseconds = UInt64(max(milliseconds, 0.001) * 1e6 / 5)
    var rounds = 1
    while true {
        let start = monotonicNanoseconds()
        _ = loop.run(rounds)
        if monotonicNanoseconds() &- start >= trialNanoseconds || rounds >= 1 << 40 { break }
        rounds *= 2
    }
    var best = 0.0
    for _ in 0..<5 {
        let start = monotonicNanoseconds()
        let macs = loop.run(rounds)
        let seconds = Double(max(monotonicNanoseconds() &- start, 1)) / 1e9
        best = max(best, Double(macs) / seconds)
    }
    return KernelPeak(isa: isa, instruction: loop.instruction, macsPerSecond: best)
}
