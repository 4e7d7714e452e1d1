// Image checks (Sources/NiN/Runtime/Image.swift): each broken shape is refused with
// .invalidArgument and a message naming it, right at its limit; the limits themselves pass.

import NiN
import Testing

private func expectInvalid(_ make: () throws(NiNError) -> Image, _ fragment: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try make()
        Issue.record("accepted an image that should be refused (\(fragment))", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == .invalidArgument, sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "\"\(error.message)\" should mention \"\(fragment)\"",
                sourceLocation: sourceLocation)
    }
}

@Test("image shapes: stride, channels, size and byte count are checked at their limits")
func imageShapeChecks() throws {
    let pixels = [UInt8](repeating: 7, count: 4 * 5 * 3)
    _ = try Image(width: 5, height: 4, channels: 3, pixels: pixels, stride: 15)
    expectInvalid({ () throws(NiNError) in try Image(width: 5, height: 4, channels: 3, pixels: pixels, stride: 14) },
                  "image stride 14 is smaller than width x channels = 15")
    expectInvalid({ () throws(NiNError) in try Image(width: 5, height: 4, channels: 0, pixels: pixels) }, "0 channels")
    expectInvalid({ () throws(NiNError) in try Image(width: 5, height: 4, channels: 5, pixels: pixels + pixels) }, "5 channels")
    expectInvalid({ () throws(NiNError) in try Image(width: 0, height: 4, channels: 1, pixels: pixels) }, "at least 1x1")
    expectInvalid({ () throws(NiNError) in try Image(width: 5, height: 4, channels: 3, pixels: Array(pixels.dropLast())) },
                  "fewer than 4 rows")
    // The last row needs only width x channels bytes, not a whole stride.
    _ = try Image(width: 5, height: 4, channels: 3, pixels: [UInt8](repeating: 0, count: 3 * 20 + 15), stride: 20)
    expectInvalid({ () throws(NiNError) in try Image(width: (1 << 16) + 1, height: 1, channels: 1,
                                                     pixels: [UInt8](repeating: 0, count: (1 << 16) + 1)) }, "exceeds 65536")
    _ = try Image(width: 1 << 16, height: 1, channels: 1, pixels: [UInt8](repeating: 0, count: 1 << 16))
}

@Test("image limits at their edges: 1 and 65536 on a side, 1 and 4 channels pass; 0 and 65537, 0 and 5 are refused")
func imageLimitEdges() throws {
    let side = 1 << 16
    let tall = try Image(width: 1, height: side, channels: 1, pixels: [UInt8](repeating: 0, count: side))
    #expect(tall.height == side)
    expectInvalid({ () throws(NiNError) in try Image(width: 1, height: side + 1, channels: 1,
                                                     pixels: [UInt8](repeating: 0, count: side + 1)) },
                  "image size 1x65537 exceeds 65536 on a side")
    _ = try Image(width: 1, height: 1, channels: 1, pixels: [0])
    _ = try Image(width: 1, height: 1, channels: 4, pixels: [1, 2, 3, 4])
    expectInvalid({ () throws(NiNError) in try Image(width: 1, height: 0, channels: 1, pixels: [0]) },
                  "image size 1x0 must be at least 1x1")
    expectInvalid({ () throws(NiNError) in try Image(width: 1, height: 1, channels: 5, pixels: [1, 2, 3, 4, 5]) },
                  "image has 5 channels, expected 1, 2, 3 or 4")
}
