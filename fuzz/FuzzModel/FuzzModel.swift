// libFuzzer target: a .nin model image from untrusted bytes, loaded exactly as
// nin_model_load_memory loads it (NiNModel(borrowing:)), then, when it loads, one run of a fixed
// prepared input on a fresh context. Every input must end in a status, never a crash.
// Built only by `make fuzz` (NIN_FUZZ=1 swift build --sanitize=fuzzer ...; docs/SECURITY.md).
//
// The reader checks a CRC-32 over the whole file and the file size in the header, which a
// mutating fuzzer almost never gets right. So by default the target re-seals each input first
// (writes the real size at offset 16 and the real CRC-32 of bytes [64, end) at offset 24, as
// docs/FORMAT.md places them) so the fuzzer reaches the section, graph and weight checks.
// NIN_FUZZ_RAW=1 turns re-sealing off (then the header and checksum checks are what is fuzzed).

import NiN
#if canImport(Glibc)
import Glibc
#endif

/// Largest arena a fuzzed model may ask for before it is run (bytes).
private let maxArenaBytes = 256 << 20
/// Most multiply-accumulates of a fuzzed model that is run (about 1 s under ASan).
private let maxMACs = 100_000_000

/// Whether inputs are fed as they are (NIN_FUZZ_RAW=1) instead of re-sealed.
private let rawMode: Bool = getenv("NIN_FUZZ_RAW").map { String(cString: $0) == "1" } ?? false

/// The byte table of CRC-32 (IEEE 802.3, zlib's).
private let crcTable: [UInt32] = (0..<256).map { (n: UInt32) -> UInt32 in
    var c = n
    for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
    return c
}

/// CRC-32 a byte at a time: independent of the engine's own slicing-by-8 one.
private func referenceCRC32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    crcTable.withUnsafeBufferPointer { table in
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
    return ~crc
}

/// Writes the real file size and CRC-32 into the header of a 64-byte aligned copy of the input.
private func reseal(_ image: UnsafeMutableRawBufferPointer) {
    guard image.count >= 64 else { return }
    image.storeBytes(of: UInt64(image.count).littleEndian, toByteOffset: 16, as: UInt64.self)
    let crc = referenceCRC32(UnsafeRawBufferPointer(rebasing: image[64...]))
    image.storeBytes(of: crc.littleEndian, toByteOffset: 24, as: UInt32.self)
}

/// One input: load, and when it loads, create a context, run a fixed input, read the results.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    // An aligned copy: the engine reads aligned bytes in place, as from a mapped file.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    if !rawMode { reseal(copy) }
    do {
        // Mostly the C path (borrowed bytes, the CPU's best kernels, packing included); one input
        // in four through the copying initializer and the portable kernels.
        let model = size % 4 == 3
            ? try NiNModel(bytes: Array(UnsafeRawBufferPointer(copy)), isa: .generic)
            : try NiNModel(borrowing: UnsafeRawBufferPointer(copy))
        // A valid model decides its own arena size and cost: a file of a few KB can ask for a
        // 4096-channel 4096x4096 tensor. A caller loading untrusted models checks both before
        // making a context (docs/SECURITY.md); so does this target, within fuzzing budgets.
        let threads = 1 + size % 2
        guard NiNContext.arenaBytes(model: model, batchSize: 1, threads: threads) <= maxArenaBytes,
              model.graph.macs <= maxMACs else { return 0 }
        let context = try NiNContext(model: model, threads: threads, batchSize: 1)
        let count = model.graph.input.elementCount
        var input = [UInt8](repeating: 0, count: count)
        for i in 0..<count { input[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        try context.run(preparedInput: input, count: 1)
        let logits = try context.logits(0)
        let top = try context.topK(0, k: 1)
        precondition(logits.count == model.graph.classCount && top.count == 1, "results of the wrong size")
    } catch {
        // A refusal with a reason is the expected outcome for a bad model.
        precondition(!error.message.isEmpty, "error without a message")
    }
    return 0
}
