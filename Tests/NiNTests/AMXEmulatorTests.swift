// The AMX tile instructions against plain loops: tdpbusd of random shapes (1-16 rows, 1-16
// quads of K, 1-16 int32 columns) on random bytes, with accumulators near the int32 limits (so
// the sums wrap), loaded and stored with row strides larger than the rows. The emulator is
// tested on every x86-64 build; the hardware wherever the CPU and the kernel grant AMX.

#if canImport(NiNAMX)
import NiN
import NiNAMX
import NiNAMXTiles
import NiNKernelCheck
import Testing

/// Runs `trials` random tdpbusd through `T` and compares each with a triple loop in Int64,
/// truncated to int32. `combinations` are the (c, a, b) tiles to use.
private func checkDotProducts<T: AMXTiles>(_: T.Type, combinations: [(Int, Int, Int)], trials: Int, seed: UInt64) {
    var rng = SplitMix(state: seed)
    let configuration = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    defer { configuration.deallocate() }
    var mismatches = 0, wrapped = 0
    for trial in 0..<trials {
        let (c, a, b) = combinations[trial % combinations.count]
        let m = trial % 3 == 0 ? 16 : Int.random(in: 1...16, using: &rng)
        let k = trial % 3 == 0 ? 16 : Int.random(in: 1...16, using: &rng)
        let n = trial % 3 == 0 ? 16 : Int.random(in: 1...16, using: &rng)
        var rows = [Int](repeating: 0, count: 8), bytes = [Int](repeating: 0, count: 8)
        rows[c] = m; bytes[c] = 4 * n; rows[a] = m; bytes[a] = 4 * k; rows[b] = k; bytes[b] = 4 * n
        // Row strides: the row, or up to 40 bytes more (never read or written).
        let strideC = 4 * n + 4 * Int.random(in: 0...10, using: &rng)
        let strideA = 4 * k + Int.random(in: 0...40, using: &rng), strideB = 4 * n + Int.random(in: 0...40, using: &rng)
        let extreme = trial % 4 == 1  // all 255 x -128, or accumulators near the limits
        let x = (0..<(m * strideA)).map { _ in extreme ? 255 : UInt8.random(in: 0...255, using: &rng) }
        let w = (0..<(k * strideB)).map { _ in extreme ? Int8.min : Int8.random(in: -128...127, using: &rng) }
        var accumulators = (0..<(m * strideC / 4)).map { _ in
            // Within 3 M of a limit (4 x 16 products reach 2.1 M), or small.
            trial % 2 == 0 ? (Bool.random(using: &rng) ? Int32.max - Int32.random(in: 0...3_000_000, using: &rng)
                                                       : Int32.min + Int32.random(in: 0...3_000_000, using: &rng))
                           : Int32.random(in: -1000...1000, using: &rng)
        }
        var expected = accumulators
        for i in 0..<m {
            for j in 0..<n {
                var sum = Int64(accumulators[i * strideC / 4 + j])
                for q in 0..<(4 * k) { sum += Int64(x[i * strideA + q]) * Int64(w[(q / 4) * strideB + 4 * j + q % 4]) }
                if sum != Int64(Int32(truncatingIfNeeded: sum)) { wrapped += 1 }
                expected[i * strideC / 4 + j] = Int32(truncatingIfNeeded: sum)
            }
        }
        AMXTileConfiguration.write(to: configuration, rows: rows, bytesPerRow: bytes)
        T.loadConfiguration(configuration)
        accumulators.withUnsafeMutableBytes { acc in
            x.withUnsafeBytes { xs in
                w.withUnsafeBytes { ws in
                    T.load(c, from: acc.baseAddress!, stride: strideC)
                    T.load(a, from: xs.baseAddress!, stride: strideA)
                    T.load(b, from: ws.baseAddress!, stride: strideB)
                    T.dotProduct(c, a, b)
                    T.store(c, to: acc.baseAddress!, stride: strideC)
                }
            }
        }
        T.release()
        if accumulators != expected { mismatches += 1 }
        #expect(accumulators == expected, "trial \(trial): tdpbusd tmm\(c), tmm\(a), tmm\(b) of \(m) x \(k) quads x \(n)")
        if mismatches > 3 { break }
    }
    #expect(wrapped > 100, "only \(wrapped) sums wrapped around")
}

@Test("AMX emulator: tdpbusd, tileloadd and tilestored of random shapes equal plain loops")
func amxEmulatorDotProducts() {
    // Every (c, a, b) the hardware wrappers have, and others (the emulator has them all).
    checkDotProducts(AMXEmulator.self, combinations: [(0, 4, 6), (1, 4, 7), (2, 5, 6), (3, 5, 7), (7, 0, 3), (5, 6, 1)],
                     trials: 600, seed: 13)
}

@Test("AMX emulator: tilezero clears, and a new configuration clears every tile")
func amxEmulatorZeroing() {
    let configuration = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    defer { configuration.deallocate() }
    AMXTileConfiguration.writeUniform(to: configuration, rows: 16, bytesPerRow: 64)
    let ones = [UInt8](repeating: 1, count: 1024)
    var out = [UInt8](repeating: 9, count: 1024)
    AMXEmulator.loadConfiguration(configuration)
    ones.withUnsafeBytes { AMXEmulator.load(3, from: $0.baseAddress!, stride: 64) }
    out.withUnsafeMutableBytes { AMXEmulator.store(3, to: $0.baseAddress!, stride: 64) }
    #expect(out == ones)
    AMXEmulator.zero(3)
    out.withUnsafeMutableBytes { AMXEmulator.store(3, to: $0.baseAddress!, stride: 64) }
    #expect(out == [UInt8](repeating: 0, count: 1024))
    ones.withUnsafeBytes { AMXEmulator.load(2, from: $0.baseAddress!, stride: 64) }
    AMXEmulator.loadConfiguration(configuration)
    out = [UInt8](repeating: 9, count: 1024)
    out.withUnsafeMutableBytes { AMXEmulator.store(2, to: $0.baseAddress!, stride: 64) }
    #expect(out == [UInt8](repeating: 0, count: 1024))
    AMXEmulator.release()
}

@Test("AMX tiles: each thread configures them once per run, and the calling thread releases them when the run ends",
      .enabled(if: KernelFamilyID.emulated.contains(.amx), "the AMX emulator needs AVX-512 VNNI for its requantization"))
func amxTilesLiveForOneRun() throws {
    let model = try NiNModel(bytes: try readBytes(repositoryRoot + "/models/fashion_small.nin"), emulating: .amx)
    let convolutions = model.graph.layers.filter { $0.kind == .convolution }.count
    #expect(convolutions > 1)
    let input = (0..<model.graph.input.elementCount).map { UInt8(truncatingIfNeeded: $0 &* 37) }
    for threads in [1, 3] {
        let context = try NiNContext(model: model, threads: threads)
        for run in 0..<2 {
            let before = AMXEmulator.configurationLoads
            try context.run(preparedInput: input, count: 1)
            // One ldtilecfg on this thread for all the run's AMX layers (at most one with
            // threads, whose parts may all go to the workers), none left configured after it.
            let loads = AMXEmulator.configurationLoads - before
            #expect(threads == 1 ? loads == 1 : loads <= 1, "run \(run), \(threads) thread(s): \(loads) ldtilecfg")
            #expect(!AMXEmulator.isConfigured && !AMXEmulator.holdsConvolutionConfiguration, "run \(run), \(threads) thread(s)")
        }
    }
    // Any other configuration loaded on this thread is not taken for the convolution's.
    let configuration = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    defer { configuration.deallocate() }
    AMXTileConfiguration.write(to: configuration, rows: [4, 4], bytesPerRow: [8, 8])
    AMXEmulator.setHoldsConvolutionConfiguration(true)
    AMXEmulator.loadConfiguration(configuration)
    #expect(!AMXEmulator.holdsConvolutionConfiguration)
    AMXEmulator.release()
}

@Test("AMX hardware: tdpbusd, tileloadd and tilestored of random shapes equal plain loops",
      .enabled(if: KernelFamilyID.amx.isSupported, "AMX unavailable: \(KernelFamilyID.amx.unsupportedReason ?? "not in this build")"))
func amxHardwareDotProducts() {
    checkDotProducts(AMXHardware.self, combinations: [(0, 4, 6), (1, 4, 7), (2, 5, 6), (3, 5, 7)], trials: 600, seed: 13)
}
#endif
