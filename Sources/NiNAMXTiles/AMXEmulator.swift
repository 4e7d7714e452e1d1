// An exact scalar emulator of the AMX instructions of `AMXTiles`, after the pseudo-code of
// Intel's instruction set reference: per thread, the tile configuration (palette 1: 8 tiles of at
// most 16 rows of 64 bytes) and the eight tiles; loads and stores of the configured rows and
// bytes with a row stride, zeroing of what a load or tdpbusd leaves above the configured shape,
// tdpbusd's u8 x s8 quads summed into int32 with wrap-around, and the faults (#GP, #UD) of a
// bad configuration or of a tile used unconfigured or with mismatched shapes, as a trap. It runs
// the AMX convolution on CPUs without AMX, in the tests and in nin-kernel-check. Built with no
// ISA flags (this target's rule): the instructions themselves run on any x86-64 CPU.

import NiNPlatform

/// The AMX instructions, emulated in scalar Swift on the calling thread's own tile state.
public enum AMXEmulator: AMXTiles {
    /// Rows and bytes per row of a tile in palette 1.
    static let maxRows = 16, maxBytesPerRow = 64
    /// Tiles in palette 1.
    static let tileCount = 8
    /// Per thread: byte 0 whether the tiles are configured, byte 1 whether with the convolution's
    /// configuration (`configureOnce`), 8 + t the rows of tile t, 16 + 2t its bytes per row, 32
    /// the thread's count of `ldtilecfg` (UInt32, for the tests), then from `dataOffset` the
    /// tiles, 1 KiB each.
    static let dataOffset = 64
    static let stateBytes = dataOffset + tileCount * maxRows * maxBytesPerRow

    /// The calling thread's tile state, made (unconfigured, zero) on first use.
    @inline(__always)
    static var state: UnsafeMutableRawPointer {
        if let s = emulatorKey.value { return s }
        let s = UnsafeMutableRawPointer.allocate(byteCount: stateBytes, alignment: 64)
        s.initializeMemory(as: UInt8.self, repeating: 0, count: stateBytes)
        emulatorKey.value = s
        return s
    }

    /// The hardware would fault (#GP or #UD); the emulator traps with the reason.
    @inline(__always)
    static func fault(_ condition: Bool, _ message: @autoclosure () -> String) {
        if condition { fatalError("AMX emulator: " + message()) }
    }

    /// Rows and bytes per row of `tile`, which must exist and be configured.
    @inline(__always)
    static func shape(_ s: UnsafeMutableRawPointer, _ tile: Int, _ instruction: String) -> (rows: Int, bytes: Int) {
        fault(tile < 0 || tile >= tileCount, "\(instruction): no tile \(tile)")
        fault(s.load(as: UInt8.self) == 0, "\(instruction) before ldtilecfg (#UD)")
        let rows = Int(s.load(fromByteOffset: 8 + tile, as: UInt8.self))
        let bytes = Int(s.load(fromByteOffset: 16 + 2 * tile, as: UInt16.self))
        fault(rows == 0 || bytes == 0, "\(instruction): tile \(tile) is not configured (#UD)")
        return (rows, bytes)
    }

    @inline(__always)
    static func tile(_ s: UnsafeMutableRawPointer, _ t: Int) -> UnsafeMutablePointer<UInt8> {
        (s + dataOffset + t * maxRows * maxBytesPerRow).assumingMemoryBound(to: UInt8.self)
    }

    public static func loadConfiguration(_ configuration: UnsafeRawPointer) {
        let s = state
        s.storeBytes(of: s.load(fromByteOffset: 32, as: UInt32.self) &+ 1, toByteOffset: 32, as: UInt32.self)
        s.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)  // any configuration, until configureOnce says
        let palette = configuration.load(as: UInt8.self)
        if palette == 0 { release(); return }
        fault(palette != 1, "ldtilecfg: palette \(palette) is not supported (#GP)")
        fault(configuration.load(fromByteOffset: 1, as: UInt8.self) != 0, "ldtilecfg: start_row must be 0 here")
        for byte in 2..<16 { fault(configuration.load(fromByteOffset: byte, as: UInt8.self) != 0, "ldtilecfg: reserved byte \(byte) set (#GP)") }
        for t in 0..<16 {
            let bytes = Int(configuration.load(fromByteOffset: 16 + 2 * t, as: UInt16.self))
            let rows = Int(configuration.load(fromByteOffset: 48 + t, as: UInt8.self))
            if t >= tileCount {
                fault(bytes != 0 || rows != 0, "ldtilecfg: tile \(t) does not exist in palette 1 (#GP)")
                continue
            }
            fault(bytes > maxBytesPerRow || rows > maxRows, "ldtilecfg: tile \(t) is \(rows) x \(bytes) bytes (#GP)")
            fault((bytes == 0) != (rows == 0), "ldtilecfg: tile \(t) has \(rows) rows of \(bytes) bytes (#GP)")
            s.storeBytes(of: UInt8(rows), toByteOffset: 8 + t, as: UInt8.self)
            s.storeBytes(of: UInt16(bytes), toByteOffset: 16 + 2 * t, as: UInt16.self)
        }
        (s + dataOffset).initializeMemory(as: UInt8.self, repeating: 0, count: stateBytes - dataOffset)
        s.storeBytes(of: 1, as: UInt8.self)
    }

    public static func zero(_ t: Int) {
        let s = state
        _ = shape(s, t, "tilezero")
        tile(s, t).initialize(repeating: 0, count: maxRows * maxBytesPerRow)
    }

    public static func load(_ t: Int, from base: UnsafeRawPointer, stride: Int) {
        let s = state
        let (rows, bytes) = shape(s, t, "tileloadd")
        let destination = tile(s, t)
        destination.initialize(repeating: 0, count: maxRows * maxBytesPerRow)  // zero_upper_rows, zero_tileupper
        for r in 0..<rows {
            (destination + r * maxBytesPerRow).update(from: (base + r * stride).assumingMemoryBound(to: UInt8.self), count: bytes)
        }
    }

    public static func store(_ t: Int, to base: UnsafeMutableRawPointer, stride: Int) {
        let s = state
        let (rows, bytes) = shape(s, t, "tilestored")
        let source = tile(s, t)
        for r in 0..<rows {
            (base + r * stride).assumingMemoryBound(to: UInt8.self).update(from: source + r * maxBytesPerRow, count: bytes)
        }
    }

    public static func dotProduct(_ c: Int, _ a: Int, _ b: Int) {
        let s = state
        let (cRows, cBytes) = shape(s, c, "tdpbusd"), (aRows, aBytes) = shape(s, a, "tdpbusd"), (bRows, bBytes) = shape(s, b, "tdpbusd")
        fault(c == a || c == b || a == b, "tdpbusd: tiles \(c), \(a), \(b) must differ (#UD)")
        fault(cBytes % 4 != 0 || aBytes % 4 != 0 || bBytes % 4 != 0, "tdpbusd: rows must be whole dwords (#UD)")
        fault(cBytes != bBytes, "tdpbusd: tmm\(c) has \(cBytes) bytes per row, tmm\(b) \(bBytes) (#UD)")
        fault(cRows != aRows, "tdpbusd: tmm\(c) has \(cRows) rows, tmm\(a) \(aRows) (#UD)")
        fault(aBytes / 4 != bRows, "tdpbusd: tmm\(a) has \(aBytes / 4) dwords per row, tmm\(b) \(bRows) rows (#UD)")
        let accumulators = UnsafeMutableRawPointer(tile(s, c)), x = tile(s, a)
        let w = UnsafeRawPointer(tile(s, b)).assumingMemoryBound(to: Int8.self)
        let columns = cBytes / 4
        for m in 0..<cRows {
            let row = (accumulators + m * maxBytesPerRow).assumingMemoryBound(to: Int32.self)
            for k in 0..<(aBytes / 4) {
                let quad = x + m * maxBytesPerRow + 4 * k
                let x0 = Int32(quad[0]), x1 = Int32(quad[1]), x2 = Int32(quad[2]), x3 = Int32(quad[3])
                let weights = w + k * maxBytesPerRow
                for n in 0..<columns {
                    let dot = x0 * Int32(weights[4 * n]) + x1 * Int32(weights[4 * n + 1])
                        + x2 * Int32(weights[4 * n + 2]) + x3 * Int32(weights[4 * n + 3])  // |dot| <= 4 * 255 * 128
                    row[n] = row[n] &+ dot
                }
            }
            // write_row_and_zero: the bytes above the configured ones stay 0 (a tileloadd,
            // tilezero or ldtilecfg left them so, and nothing writes them).
        }
    }

    public static func release() {
        let s = state
        let loads = s.load(fromByteOffset: 32, as: UInt32.self)
        s.initializeMemory(as: UInt8.self, repeating: 0, count: stateBytes)
        s.storeBytes(of: loads, toByteOffset: 32, as: UInt32.self)
    }

    public static var holdsConvolutionConfiguration: Bool { state.load(fromByteOffset: 1, as: UInt8.self) != 0 }

    public static func setHoldsConvolutionConfiguration(_ holds: Bool) {
        state.storeBytes(of: holds ? 1 : 0, toByteOffset: 1, as: UInt8.self)
    }

    /// Whether the calling thread's emulated tiles are configured (by anyone).
    package static var isConfigured: Bool { state.load(as: UInt8.self) != 0 }

    /// How many `ldtilecfg` the calling thread has executed on the emulator.
    package static var configurationLoads: Int { Int(state.load(fromByteOffset: 32, as: UInt32.self)) }
}

/// The key of each thread's emulated tile state (freed when the thread ends).
private let emulatorKey = Platform.ThreadLocalKey(owner: "AMX emulator") { $0?.deallocate() }
