// ErrorMessage (Sources/NiN/Runtime/ErrorMessage.swift) spells its interpolations as Swift's own
// `description` does: integers of every width at their extremes and around the 10^9 groups,
// hex fields, Floats, shapes; and a NiNError's message is its text.

import Testing
@testable import NiN

@Test("ErrorMessage writes integers, hex fields, Floats and shapes as Swift's description does")
func errorMessageSpellsValuesAsDescription() {
    var integers: [Int64] = [0, 1, -1, 9, 10, 99, 100, Int64(Int32.max), Int64(Int32.min), Int64.max, Int64.min]
    for power in [9, 10, 18] {
        var p: Int64 = 1
        for _ in 0..<power { p *= 10 }
        integers += [p - 1, p, p + 1, -p, p + 123_456_789]
    }
    for value in integers {
        let text: ErrorMessage = "v=\(value)."
        #expect(text.string == "v=\(String(describing: value)).")
    }
    for value: UInt64 in [UInt64.max, UInt64.max - 1, 1 << 63, 1_000_000_000_000_000_000, 4_294_967_296] {
        let text: ErrorMessage = "\(value)"
        #expect(text.string == String(describing: value))
    }
    let small: ErrorMessage = "\(Int32.min) \(UInt32.max) \(UInt16.max) \(Int8.min)"
    #expect(small.string == "\(Int32.min) \(UInt32.max) \(UInt16.max) \(Int8.min)")
    for value: UInt32 in [0, 1, 0xDEAD_BEEF, 0xFFFF_FFFF] {
        let text: ErrorMessage = "0x\(hex: value)"
        let digits = String(value, radix: 16, uppercase: true)
        #expect(text.string == "0x" + String(repeating: "0", count: 8 - digits.count) + digits)
    }
    for value: Float in [0, -0.0, 1, -1, 0.5, -0.003921569, .infinity, -.infinity, .nan] {
        let text: ErrorMessage = "\(value)"
        #expect(text.string == value.description)
    }
    let shape = TensorShape(height: 28, width: 27, channels: 3)
    let text: ErrorMessage = "\(shape) \("é") \(StaticString("static"))"
    #expect(text.string == "\(shape.description) é static")
    #expect(NiNError(.badModel, "x \(42)").message == "x 42")
}
