// The AMX family's peak loop (DotProductLoop): the convolution's 2 x 2 tile blocking with its
// A and B tiles loaded once, so every round is four tdpbusd of 16 x 16 x 64 MACs on
// registers only (tiles 0-3 accumulate A tiles 4-5 times B tiles 6-7), the ceiling a
// convolution fed from memory is measured against. Generic over the tile instructions like the
// convolution, so the emulator runs the same loop in the tests.

import NiNKernelCore
import NiNAMXTiles

/// tdpbusd on the hardware's tiles: 4 x 16,384 MACs per round.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopAMX() -> DotProductLoop {
    DotProductLoop(instruction: "tdpbusd", macsPerRound: 4 * amxTileMACs,
                   run: { peakRoundsAMXHardware($0) })
}

/// `peakLoopAMX` on the scalar emulator (tests only: about a million times slower).
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func peakLoopAMXEmulated() -> DotProductLoop {
    DotProductLoop(instruction: "tdpbusd (emulated)", macsPerRound: 4 * amxTileMACs,
                   run: { peakRoundsAMXEmulated($0) })
}

/// MACs of one tdpbusd of whole tiles: 16 rows x 16 int32 columns x 64 bytes of K.
let amxTileMACs = 16 * 16 * 64

@inline(never)
func peakRoundsAMXHardware(_ rounds: Int) -> Int { peakRoundsAMX(AMXHardware.self, rounds) }

@inline(never)
func peakRoundsAMXEmulated(_ rounds: Int) -> Int { peakRoundsAMX(AMXEmulator.self, rounds) }

/// Configures the calling thread's tiles, loads A and B tiles of ones, runs `rounds` rounds of
/// the four tdpbusd, stores the C tiles and releases the tiles (so a run after it configures
/// them again); returns the sum of the C tiles' int32 elements.
@inline(__always)
func peakRoundsAMX<T: AMXTiles>(_: T.Type, _ rounds: Int) -> Int {
    withUnsafeTemporaryAllocation(byteCount: AMXTileConfiguration.bytes + 5 * 1024, alignment: 64) { memory in
        let configuration = memory.baseAddress!
        let ones = configuration + AMXTileConfiguration.bytes, accumulators = ones + 1024
        AMXTileConfiguration.writeUniform(to: configuration, rows: 16, bytesPerRow: 64)
        ones.initializeMemory(as: UInt8.self, repeating: 1, count: 1024)
        T.loadConfiguration(configuration)  // (every tile zero)
        for tile in 4...7 { T.load(tile, from: ones, stride: 64) }
        for _ in 0..<rounds {
            T.dotProduct(0, 4, 6); T.dotProduct(1, 4, 7); T.dotProduct(2, 5, 6); T.dotProduct(3, 5, 7)
        }
        for tile in 0...3 { T.store(tile, to: accumulators + 1024 * tile, stride: 64) }
        T.release()
        let sums = UnsafeBufferPointer(start: accumulators.assumingMemoryBound(to: Int32.self), count: 4 * 256)
        return sums.reduce(0) { $0 + Int($1) }
    }
}
