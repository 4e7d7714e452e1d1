// The tile instructions as no-ops: the AMX convolution's driver with everything but its tile
// work (im2col, staging, the requantization epilogue, the loop and its bookkeeping), for timing
// only. Its outputs are garbage. Run beside the hardware (`nin-kernel-check --amx-split`), it
// splits each layer's AMX time into the work outside the tiles and the tiles' own, the part
// measured against the tdpbusd peak. Runs on any CPU with AVX-512 VNNI, like the emulator.

import NiNKernelCore
import NiNAMXTiles

/// `AMXTiles` that do nothing (no configuration, no tile state).
public enum AMXWithoutTiles: AMXTiles {
    @inline(__always) public static func loadConfiguration(_ configuration: UnsafeRawPointer) {}
    @inline(__always) public static func zero(_ tile: Int) {}
    @inline(__always) public static func load(_ tile: Int, from base: UnsafeRawPointer, stride: Int) {}
    @inline(__always) public static func store(_ tile: Int, to base: UnsafeMutableRawPointer, stride: Int) {}
    @inline(__always) public static func dotProduct(_ c: Int, _ a: Int, _ b: Int) {}
    @inline(__always) public static func release() {}
    /// Always true: `configureOnce` never calls anything.
    public static var holdsConvolutionConfiguration: Bool { true }
    public static func setHoldsConvolutionConfiguration(_ holds: Bool) {}
}

/// `convolutionAMX`'s driver on `AMXWithoutTiles`: the time of its work outside the tiles, and
/// wrong outputs.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAMXWithoutTiles(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolutionAMXTiles(AMXWithoutTiles.self, a, part: part, of: parts)
}
