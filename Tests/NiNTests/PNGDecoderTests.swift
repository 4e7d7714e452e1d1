// PNG decoding: every color type, bit depth and interlacing decodes to the pixels an
// independent encoder (tools/make_png_fixtures.py) wrote, and the basic PngSuite to the
// samples Pillow reads (tools/make_pngsuite_expected.py); broken files are refused by name.

import Foundation
import NiN
import NiNPNG
import Testing

private let fixtures = repositoryRoot + "/Tests/fixtures/png"

private var fixtureNames: [String] {
    listDirectory(fixtures).filter { $0.hasSuffix(".png") }.map { String($0.dropLast(4)) }
}

@Test("PNG fixture set is complete (15 color types/depths x plain/interlaced, 2 with gAMA/cHRM/sBIT)")
func pngFixtureSet() {
    #expect(fixtureNames.count == 32)
}

@Test("PNG decodes to the expected pixels", arguments: fixtureNames)
func pngDecodes(name: String) throws {
    let expected = try readBytes("\(fixtures)/\(name).expected")
    let newline = expected.firstIndex(of: 10)!
    let header = String(decoding: expected[..<newline], as: UTF8.self).split(separator: " ").map { Int($0)! }
    let pixels = Array(expected[(newline + 1)...])
    let image = try PNGDecoder.load(path: "\(fixtures)/\(name).png")
    #expect(image.width == header[0])
    #expect(image.height == header[1])
    #expect(image.channels == header[2])
    #expect(image.stride == header[0] * header[2])
    #expect(image.pixels == pixels)
    // The in-memory decoder agrees with the file decoder.
    #expect(try PNGDecoder.decode(readBytes("\(fixtures)/\(name).png")) == image)
}

@Test("broken PNGs are refused with a reason", arguments: ["corrupt_idat", "truncated", "not_a_png", "empty", "oversized", "declares_more"])
func pngRefused(name: String) {
    do {
        _ = try PNGDecoder.load(path: "\(fixtures)/bad/\(name).png")
        Issue.record("\(name) was accepted")
    } catch {
        #expect(error.code == .badImage)
        #expect(error.message.contains("PNG"))
        if name == "oversized" { #expect(error.message.contains("20000x20000")) }
        if name == "declares_more" { #expect(error.message.contains("more than deflate can expand")) }
    }
}

@Test("a missing PNG file is refused, naming the path")
func pngMissing() {
    #expect(throws: NiNError.self) { try PNGDecoder.load(path: "/nonexistent/x.png") }
}

// MARK: PngSuite against Pillow

private let pngSuite = repositoryRoot + "/Tests/fixtures/pngsuite"

private var pngSuiteNames: [String] {
    listDirectory(pngSuite).filter { $0.hasSuffix(".png") }.map { String($0.dropLast(4)) }.sorted()
}

/// A `uint8` `.npy` array (format version 1): its shape and its bytes.
private func readNPY(_ path: String) throws -> (shape: [Int], bytes: [UInt8]) {
    let file = try readBytes(path)
    let headerLength = Int(file[8]) | Int(file[9]) << 8
    let header = String(decoding: file[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.contains("'descr': '|u1'"))
    let shapeText = header.split(separator: "(")[1].split(separator: ")")[0]
    let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    return (shape, Array(file[(10 + headerLength)...]))
}

@Test("PngSuite is complete (the 51 files of libpng's basic copy)")
func pngSuiteSet() {
    #expect(pngSuiteNames.count == 51)
}

@Test("PngSuite decodes to the stored samples, as Pillow reads them (tools/make_pngsuite_expected.py)",
      arguments: pngSuiteNames)
func pngSuiteDecodes(name: String) throws {
    let expected = try readNPY("\(pngSuite)/expected/\(name).npy")
    let image = try PNGDecoder.load(path: "\(pngSuite)/\(name).png")
    #expect([image.height, image.width, image.channels] == expected.shape)
    #expect(image.pixels == expected.bytes)
    #expect(try PNGDecoder.decode(readBytes("\(pngSuite)/\(name).png")) == image)
}

@Test("every prefix of a PNG is refused with a one-line reason or decodes to the whole image",
      arguments: ["basn2c16", "ibasn3p08", "ftbbn0g04", "ibasn6a16"])
func pngPrefixes(name: String) throws {
    let bytes = try readBytes("\(pngSuite)/\(name).png")
    let whole = try PNGDecoder.decode(bytes)
    var refused = 0
    for length in 0..<bytes.count {
        do {
            #expect(try PNGDecoder.decode(Array(bytes[..<length])) == whole)
        } catch {
            refused += 1
            #expect(error.code == .badImage)
            #expect(error.message.contains("PNG") && !error.message.contains("\n"))
        }
    }
    // Up to the end of the image data, every prefix is missing pixels (the trailing IEND is not needed).
    #expect(refused >= bytes.count - 12)
}
