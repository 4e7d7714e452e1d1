// The AMX tile instructions the AMX convolution uses, as a protocol of static functions with three
// implementations: the hardware (NiNAMX's AMXHardware.swift, the C wrappers of nin_amx.h), an
// exact scalar emulator of the same instructions (AMXEmulator.swift, beside this file), and
// no-ops for timing (NiNAMX's AMXWithoutTiles.swift). The driver is generic over it and
// specialized for each (no dynamic dispatch in its loops). This target is plain Swift built with
// no ISA flags, so the emulator itself runs on every x86-64 CPU (its tests run everywhere); the
// driver that runs a convolution on it lives in NiNAMX, built with AVX-512 flags, and is reached
// only where the CPU has AVX-512 VNNI (KernelFamily.emulated). Also the tile configuration (palette 1),
// and its life on a thread: loaded at the thread's first AMX layer of a run (`configureOnce`),
// released when the run ends on the calling thread (`releaseIfConfigured`); the pool's workers
// keep theirs until they exit with their context.

/// The AMX-TILE and AMX-INT8 instructions as the convolution uses them. Tile numbers are 0-7;
/// every call with constant tile numbers folds to one instruction on the hardware.
public protocol AMXTiles {
    /// `ldtilecfg`: loads the 64-byte configuration at `configuration` (`AMXTileConfiguration`)
    /// and zeroes every tile. Palette 0 returns the tiles to their initial state.
    static func loadConfiguration(_ configuration: UnsafeRawPointer)
    /// `tilezero`: zeroes `tile`.
    static func zero(_ tile: Int)
    /// `tileloadd`: loads `tile`'s configured rows, each of its configured bytes per row, from
    /// `base`, `stride` bytes apart.
    static func load(_ tile: Int, from base: UnsafeRawPointer, stride: Int)
    /// `tilestored`: stores `tile`'s configured rows to `base`, `stride` bytes apart.
    static func store(_ tile: Int, to base: UnsafeMutableRawPointer, stride: Int)
    /// `tdpbusd c, a, b`: for each row m of `c` and int32 column n, adds the dot products of
    /// u8 quad k of `a`'s row m and s8 quad n of `b`'s row k, over every k, wrapping in int32.
    /// The hardware implementation has the combinations of the 2 x 2 blocking
    /// (`c = 2i + j, a = 4 + i, b = 6 + j`); the emulator has them all.
    static func dotProduct(_ c: Int, _ a: Int, _ b: Int)
    /// `tilerelease`: returns the tiles to their initial state (unconfigured, zero).
    static func release()
    /// Whether the calling thread's tiles hold the convolution's configuration, loaded by
    /// `configureOnce` and not released since (per thread).
    static var holdsConvolutionConfiguration: Bool { get }
    /// Records whether the calling thread's tiles hold the convolution's configuration.
    static func setHoldsConvolutionConfiguration(_ holds: Bool)
}

extension AMXTiles {
    /// Loads the convolution's `configuration` unless this thread's tiles already hold it: each
    /// thread configures its tiles at its first AMX layer of a run, not at every layer.
    @inlinable @inline(__always)
    public static func configureOnce(_ configuration: UnsafeRawPointer) {
        guard !holdsConvolutionConfiguration else { return }
        loadConfiguration(configuration)
        setHoldsConvolutionConfiguration(true)
    }

    /// Returns this thread's tiles to their initial state if the convolution configured them.
    @inlinable
    public static func releaseIfConfigured() {
        guard holdsConvolutionConfiguration else { return }
        release()
        setHoldsConvolutionConfiguration(false)
    }
}

/// The 64-byte tile configuration `ldtilecfg` reads, palette 1: byte 0 the palette, byte 1 the
/// start row, bytes 16 + 2t the bytes per row of tile t (uint16), bytes 48 + t its rows.
public enum AMXTileConfiguration {
    /// Bytes of a configuration.
    public static let bytes = 64

    /// Writes at `memory` (64 bytes) a palette-1 configuration giving tile t `rows[t]` rows of
    /// `bytesPerRow[t]` bytes (up to 8 tiles; the others unconfigured).
    @inlinable
    public static func write(to memory: UnsafeMutableRawPointer, rows: [Int], bytesPerRow: [Int]) {
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        memory.storeBytes(of: 1, as: UInt8.self)
        for t in 0..<min(rows.count, 8) {
            memory.storeBytes(of: UInt16(truncatingIfNeeded: bytesPerRow[t]), toByteOffset: 16 + 2 * t, as: UInt16.self)
            memory.storeBytes(of: UInt8(truncatingIfNeeded: rows[t]), toByteOffset: 48 + t, as: UInt8.self)
        }
    }

    /// Writes at `memory` (64 bytes) a palette-1 configuration giving each of the 8 tiles `rows`
    /// rows of `bytesPerRow` bytes (no allocation: the convolution writes it per call).
    @inlinable @inline(__always)
    public static func writeUniform(to memory: UnsafeMutableRawPointer, rows: Int, bytesPerRow: Int) {
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        memory.storeBytes(of: 1, as: UInt8.self)
        for t in 0..<8 {
            memory.storeBytes(of: UInt16(truncatingIfNeeded: bytesPerRow), toByteOffset: 16 + 2 * t, as: UInt16.self)
            memory.storeBytes(of: UInt8(truncatingIfNeeded: rows), toByteOffset: 48 + t, as: UInt8.self)
        }
    }
}
