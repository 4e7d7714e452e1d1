// The PNG decoder's numeric limits at their edges (docs/SECURITY.md, "Limits"): each limit
// gets a file right at it, which no header rule refuses (it reaches libpng's decoding, which
// then finds the image data missing), and a file just past it, refused by that rule with its
// own message. The files are built here: a header, a private ancillary chunk that pads the
// file to the size the case needs, and image data of one zero byte.

import Foundation
import NiN
import NiNKernelCheck
import NiNPNG
import Testing

/// Deflate's largest expansion, from its format (RFC 1951): a 258-byte match coded in 2 bits
/// (1-bit length and distance codes) gives 258 x 8 / 2 = 1032 bytes out per byte in.
private let deflateRatio = 258 * 8 / 2
/// The documented PNG limits: 16384 on a side, 64 Mi pixels.
private let documentedSide = 16384, documentedPixels = 64 << 20

/// One PNG chunk: length, type, data, CRC-32 of type and data.
private func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian32(data.count) + body + bigEndian32(Int(testCRC32(body[...])))
}

/// `value`'s low 32 bits, big-endian (PNG's byte order).
private func bigEndian32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

/// The size of `grayPNG` without padding: signature, IHDR, IDAT of a 12-byte zlib stream, IEND.
private let unpaddedPNGBytes = 8 + (12 + 13) + (12 + 12) + 12

/// An 8-bit gray PNG (`width` x `height` bytes of samples) of exactly `bytes` bytes: its IDAT
/// holds a complete zlib stream of one zero byte (row 0's filter type; every sample is missing),
/// and a private ancillary chunk (`prVt`, which libpng skips) pads it when `bytes` exceeds
/// `unpaddedPNGBytes` (by 12 or more: a chunk's own length, type and CRC).
private func grayPNG(width: Int, height: Int, bytes: Int) -> [UInt8] {
    precondition(bytes == unpaddedPNGBytes || bytes >= unpaddedPNGBytes + 12)
    let header = bigEndian32(width) + bigEndian32(height) + [8, 0, 0, 0, 0]  // depth 8, gray, not interlaced
    let zlib: [UInt8] = [0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00] + bigEndian32(0x0001_0001)  // a stored block; Adler-32 of [0]
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + pngChunk("IHDR", header)
    if bytes > unpaddedPNGBytes { file += pngChunk("prVt", [UInt8](repeating: 0, count: bytes - unpaddedPNGBytes - 12)) }
    file += pngChunk("IDAT", zlib) + pngChunk("IEND", [])
    precondition(file.count == bytes)
    return file
}

/// Decodes `bytes` (which cannot decode: their image data is missing) and returns the message.
private func refusal(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        _ = try PNGDecoder.decode(bytes)
        Issue.record("a PNG without its image data decoded", sourceLocation: sourceLocation)
        return ""
    } catch {
        #expect(error.code == .badImage, sourceLocation: sourceLocation)
        return error.message
    }
}

/// Expects `bytes` to pass every header rule: libpng's decoding is what refuses it, when the
/// image data runs out.
private func expectReachesDecoding(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(refusal(bytes, sourceLocation: sourceLocation) == "cannot decode PNG data: Not enough image data",
            sourceLocation: sourceLocation)
}

@Test("PNG inflation rule: 1032 bytes of samples per byte of file are allowed, one byte more is refused")
func pngInflationEdge() throws {
    // The file size n (at least 100 bytes) for which 1032 n + 1 samples make an image of at most
    // 16384 on a side: found by search, so both files have the same size.
    /// The narrowest image of exactly `samples` pixels within 16384 on a side, if any.
    func sides(_ samples: Int) -> (width: Int, height: Int)? {
        (1...documentedSide).lazy.filter { samples % $0 == 0 && samples / $0 <= documentedSide }
            .first.map { ($0, samples / $0) }
    }
    let n = (100...).first { sides(deflateRatio * $0 + 1) != nil }!
    let past = sides(deflateRatio * n + 1)!

    // At the bound: n bytes declaring 1032 n bytes of samples.
    expectReachesDecoding(grayPNG(width: deflateRatio, height: n, bytes: n))

    // Past it: n bytes declaring 1032 n + 1, from memory and from a file.
    let samples = deflateRatio * n + 1
    let tail = "declares \(past.width)x\(past.height) pixels (\(samples) bytes of samples) but has only \(n) bytes: more than deflate can expand (1032:1 needs at least \(n + 1)); it is truncated or corrupt"
    let file = grayPNG(width: past.width, height: past.height, bytes: n)
    #expect(refusal(file) == "PNG data " + tail)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nin-inflation-\(getpid()).png").path
    #expect(FileManager.default.createFile(atPath: path, contents: Data(file)))
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        _ = try PNGDecoder.load(path: path)
        Issue.record("the file past the inflation bound decoded")
    } catch {
        #expect(error.code == .badImage)
        #expect(error.message == "PNG \"\(path)\" " + tail)
    }
}

@Test("PNG size limits: 16384 on a side and 64 Mi pixels are allowed, one more is refused")
func pngSizeEdges() throws {
    /// The size rule's message for `width` x `height`.
    func tooLarge(_ width: Int, _ height: Int) -> String {
        "PNG data is \(width)x\(height): larger than \(documentedSide) on a side or \(documentedPixels) pixels"
    }
    let small = unpaddedPNGBytes  // (16384 samples need 16 bytes of file)
    expectReachesDecoding(grayPNG(width: documentedSide, height: 1, bytes: small))
    expectReachesDecoding(grayPNG(width: 1, height: documentedSide, bytes: small))
    #expect(refusal(grayPNG(width: documentedSide + 1, height: 1, bytes: small)) == tooLarge(documentedSide + 1, 1))
    #expect(refusal(grayPNG(width: 1, height: documentedSide + 1, bytes: small)) == tooLarge(1, documentedSide + 1))

    // 64 Mi pixels, as 8192 x 8192 and 16384 x 4096: padded to the size their samples need
    // under the inflation rule, so that decoding starts (and allocates the 64 MiB).
    let fewest = (documentedPixels + deflateRatio - 1) / deflateRatio
    expectReachesDecoding(grayPNG(width: 8192, height: 8192, bytes: fewest))
    expectReachesDecoding(grayPNG(width: documentedSide, height: documentedPixels / documentedSide, bytes: fewest))
    // The smallest image of more than 64 Mi pixels within 16384 on a side (a search).
    let past = (documentedPixels / documentedSide...documentedSide).map { w in (w, (documentedPixels + w) / w) }
        .filter { $0.1 <= documentedSide }.min { $0.0 * $0.1 < $1.0 * $1.1 }!
    #expect(past.0 * past.1 == documentedPixels + 1)
    #expect(refusal(grayPNG(width: past.0, height: past.1, bytes: small)) == tooLarge(past.0, past.1))
}
