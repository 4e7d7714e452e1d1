// A kernel family's register-only loop of its multiply instruction: the ceiling its convolutions
// are measured against (`nin-infer --profile` gives each convolution's share of it). The
// operands are all ones (u8 1 times s8 1), so every multiply-accumulate adds exactly 1 to the
// accumulators, and the loop's result, the sum of their lanes, is the number of MACs it did:
// what a measurement divides by, and what a test checks.

/// One family's peak loop: a fixed set of independent accumulators, each updated once per round
/// by the family's multiply instruction, no memory touched inside the loop.
public struct DotProductLoop: Sendable {
    /// The instruction and register width the loop issues, e.g. "vpdpbusd zmm".
    public let instruction: String
    /// Multiply-accumulates of one round (every accumulator updated once).
    public let macsPerRound: Int
    /// Runs `rounds` rounds on the calling thread and returns the sum of the accumulators'
    /// lanes: `rounds * macsPerRound`, since every operand is 1.
    public let run: @Sendable (_ rounds: Int) -> Int

    /// A loop issuing `instruction`, `macsPerRound` MACs per round, run by `run`.
    public init(instruction: String, macsPerRound: Int, run: @escaping @Sendable (_ rounds: Int) -> Int) {
        self.instruction = instruction; self.macsPerRound = macsPerRound; self.run = run
    }
}
