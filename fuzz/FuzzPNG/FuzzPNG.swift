// libFuzzer target: PNG bytes from untrusted input decoded with PNGDecoder.decode, then, when they
// decode, classified by the small shipped model (models/fashion_small.nin, or $NIN_FUZZ_MODEL).
// Every input must end in an image or a status, never a crash.
//
// libpng refuses a critical chunk whose CRC-32 is wrong, which a mutating fuzzer almost never
// gets right, and libpng itself is not instrumented (no coverage feedback inside it). So by
// default the target re-seals each input first: it walks the chunks after the 8-byte signature
// and writes each complete chunk's real CRC-32 (of its type and data). NIN_FUZZ_RAW=1 turns
// re-sealing off.
// Built only by `make fuzz` (NIN_FUZZ=1 swift build --sanitize=fuzzer ...; docs/SECURITY.md).

import NiN
import NiNPNG
#if canImport(Glibc)
import Glibc
#endif

/// The model and context every decoded image is classified with (loaded once).
private let classifier: NiNContext = {
    let path = getenv("NIN_FUZZ_MODEL").map { String(cString: $0) }
        ?? String("\(#filePath)".dropLast("fuzz/FuzzPNG/FuzzPNG.swift".count)) + "models/fashion_small.nin"
    do {
        return try NiNContext(model: try NiNModel(path: path), threads: 1, batchSize: 1)
    } catch {
        fatalError("FuzzPNG: cannot load the classifier model \(path): \(error)")
    }
}()

/// Whether inputs are fed as they are (NIN_FUZZ_RAW=1) instead of re-sealed.
private let rawMode: Bool = getenv("NIN_FUZZ_RAW").map { String(cString: $0) == "1" } ?? false

/// CRC-32 (IEEE 802.3, the PNG chunk CRC), bit by bit.
private func chunkCRC32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

/// Writes the real CRC-32 of every complete chunk (length, type, data, CRC) after the signature.
private func resealChunks(_ bytes: inout [UInt8]) {
    var at = 8
    while at + 12 <= bytes.count {
        let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        let end = at + 8 + length
        guard end + 4 <= bytes.count else { return }
        let crc = chunkCRC32(bytes[(at + 4)..<end])
        for i in 0..<4 { bytes[end + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        at = end + 4
    }
}

/// One input: decode, and when it decodes, classify.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let context = classifier
    var bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if !rawMode { resealChunks(&bytes) }
    do {
        let image = try PNGDecoder.decode(bytes)
        precondition(image.pixels.count >= image.height * image.width * image.channels, "short pixel buffer")
        try context.run(images: [image])
        let top = try context.topK(0, k: 1)
        precondition(top.count == 1, "no top class")
    } catch {
        precondition(!error.message.isEmpty, "error without a message")
    }
    return 0
}
