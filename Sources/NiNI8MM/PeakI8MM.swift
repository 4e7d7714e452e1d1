// The i8mm family's peak loop (DotProductLoop): 12 independent int32x4 accumulators, one usdot
// each per round (16 MACs): the dot families' generic loop (PeakNEONDot.swift) on USDOT.

import NiNKernelCore
import NiNNEONDot

/// usdot v.4s from registers only: 12 x 16 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopI8MM() -> DotProductLoop {
    DotProductLoop(instruction: "usdot v.4s", macsPerRound: 12 * 16, run: { peakRoundsI8MM($0) })
}

@inline(never)
func peakRoundsI8MM(_ rounds: Int) -> Int { peakRoundsDot(rounds, instruction: MixedDotI8MM.self) }
