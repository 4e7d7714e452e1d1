// Gray conversion of RGB pixels (docs/PREPROCESSING.md) on every one of the 2^24 colours, at
// identity size (so no resizing mixes pixels): against the formula written out here, and
// against Pillow's Image.convert("L") through Tests/golden/luma/ (tools/make_luma_golden.py:
// a CRC-32 over all colours and a 4,096-colour sample).

import Foundation
import NiN
import NiNKernelCheck
import Testing

private let luma = repositoryRoot + "/Tests/golden/luma"

@Test("gray conversion: every RGB colour equals the PREPROCESSING.md formula and Pillow's convert(\"L\")")
func grayConversionOfEveryColour() throws {
    // A 4096 x 4096 image whose pixel i (row-major) is the colour i = R << 16 | G << 8 | B.
    var pixels = [UInt8](repeating: 0, count: 3 << 24)
    for i in 0..<(1 << 24) {
        pixels[3 * i] = UInt8(i >> 16); pixels[3 * i + 1] = UInt8((i >> 8) & 255); pixels[3 * i + 2] = UInt8(i & 255)
    }
    let image = try Image(width: 4096, height: 4096, channels: 3, pixels: pixels)
    let gray = prepare(image, for: TensorShape(height: 4096, width: 4096, channels: 1))
    #expect(gray.count == 1 << 24)
    // Y = (19595 R + 38470 G + 7471 B + 32768) >> 16, in integers.
    var mismatches = 0, firstMismatch = -1
    for i in 0..<(1 << 24) {
        let y = (19595 * (i >> 16) + 38470 * ((i >> 8) & 255) + 7471 * (i & 255) + 32768) >> 16
        if Int(gray[i]) != y {
            mismatches += 1
            if firstMismatch < 0 { firstMismatch = i }
        }
    }
    #expect(mismatches == 0, "\(mismatches) colours differ from the formula, the first 0x\(String(firstMismatch, radix: 16))")
    let pillow = try String(contentsOfFile: luma + "/all_colours.crc32", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(String(testCRC32(gray[...]), radix: 16) == pillow.drop { $0 == "0" }.lowercased(),
            "the gray values of all 2^24 colours differ from Pillow's")
}

@Test("gray conversion: a 4,096-colour sample equals Pillow's convert(\"L\"), colour by colour")
func grayConversionOfPillowSample() throws {
    let rgb = try readBytes(luma + "/sample_rgb.u8"), expected = try readBytes(luma + "/sample_l.u8")
    #expect(rgb.count == 3 * expected.count && expected.count == 4096)
    for channels in [3, 4] {  // RGB and RGBA (alpha dropped)
        var pixels: [UInt8] = []
        for i in 0..<expected.count { pixels += rgb[(3 * i)..<(3 * i + 3)] + (channels == 4 ? [UInt8(i & 255)] : []) }
        let image = try Image(width: expected.count, height: 1, channels: channels, pixels: pixels)
        let gray = prepare(image, for: TensorShape(height: 1, width: expected.count, channels: 1))
        let differing = (0..<expected.count).filter { gray[$0] != expected[$0] }
        let example = differing.first.map { "\(rgb[3 * $0]), \(rgb[3 * $0 + 1]), \(rgb[3 * $0 + 2])" } ?? ""
        #expect(differing.isEmpty, "\(channels) channels: \(differing.count) colours differ from Pillow, e.g. RGB \(example)")
    }
}
