// The text of a NiNError: a string literal whose interpolations (integers, hex fields, Floats,
// strings, shapes, paths) are written straight into UTF-8 bytes. Every error site reads as a plain
// interpolated literal, but no String is built or formatted: on a microcontroller Swift's String
// interpolation, integer and float printing were most of the firmware's code.

/// The UTF-8 text of an error, built from an interpolated string literal
/// (`"layer \(index): out_channels is \(n)"`).
public struct ErrorMessage: ExpressibleByStringInterpolation, Sendable {
    /// The text's UTF-8 bytes (no terminating NUL).
    public private(set) var utf8: [UInt8]

    /// The text of a literal without interpolations.
    public init(stringLiteral value: StaticString) {
        var builder = Builder(literalCapacity: 0, interpolationCount: 0)
        builder.appendLiteral(value)
        utf8 = builder.utf8
    }

    /// The text of an interpolated literal.
    public init(stringInterpolation: Builder) {
        utf8 = stringInterpolation.utf8
    }

    /// The text as a String.
    public var string: String { String(decoding: utf8, as: UTF8.self) }

    /// Writes an interpolated literal's pieces as UTF-8.
    public struct Builder: StringInterpolationProtocol {
        var utf8: [UInt8] = []

        /// An empty text (the capacities are hints). (Not inlined, nor are the appends: each of
        /// the engine's hundred error sites is then a few calls.)
        @inline(never)
        public init(literalCapacity: Int, interpolationCount: Int) {
            utf8.reserveCapacity(literalCapacity + 8 * interpolationCount)
        }

        /// Appends a literal piece.
        @inline(never)
        public mutating func appendLiteral(_ literal: StaticString) {
            append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }

        @inline(never)
        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            utf8.append(contentsOf: bytes)
        }

        /// Appends an integer in decimal.
        @inline(__always)
        public mutating func appendInterpolation<T: BinaryInteger>(_ value: T) {
            if let small = Int64(exactly: value) {
                appendDecimal(magnitude: small.magnitude, negative: small < 0)
            } else {
                appendDecimal(magnitude: UInt64(truncatingIfNeeded: value), negative: false)
            }
        }

        /// Writes `magnitude` in decimal (a "-" first when `negative`), 9 digits at a time in 32-bit
        /// arithmetic: a 64-bit division is a library call (700 bytes) on a 32-bit microcontroller.
        @inline(never)
        mutating func appendDecimal(magnitude: UInt64, negative: Bool) {
            if negative { utf8.append(0x2D) }
            // Up to three groups of 9 digits, most significant first; only the first unpadded.
            let (upper, low) = Builder.divideByBillion(magnitude)
            let (top, middle) = Builder.divideByBillion(upper)
            if top != 0 {
                appendDigits(UInt32(truncatingIfNeeded: top), width: 1)
                appendDigits(middle, width: 9)
                appendDigits(low, width: 9)
            } else if middle != 0 {
                appendDigits(middle, width: 1)
                appendDigits(low, width: 9)
            } else {
                appendDigits(low, width: 1)
            }
        }

        /// `value` divided by 10^9 and the remainder, by shifts and subtractions (no 64-bit divide).
        static func divideByBillion(_ value: UInt64) -> (quotient: UInt64, remainder: UInt32) {
            let billion: UInt64 = 1_000_000_000
            var quotient: UInt64 = 0, remainder: UInt64 = 0
            for bit in stride(from: 63, through: 0, by: -1) {
                remainder = remainder << 1 | (value >> UInt64(bit) & 1)
                quotient <<= 1
                if remainder >= billion { remainder -= billion; quotient |= 1 }
            }
            return (quotient, UInt32(truncatingIfNeeded: remainder))
        }

        /// `value` in decimal, zero-padded to at least `width` digits (at most 10).
        mutating func appendDigits(_ value: UInt32, width: Int) {
            var digits: (UInt64, UInt64) = (0, 0)  // 16 bytes: 10 digits at most
            var count = 0
            var rest = value
            withUnsafeMutableBytes(of: &digits) { buffer in
                repeat {
                    buffer[15 - count] = UInt8(truncatingIfNeeded: rest % 10) + 0x30
                    rest /= 10
                    count += 1
                } while rest != 0 || count < width
            }
            withUnsafeBytes(of: &digits) { buffer in
                append(UnsafeBufferPointer(rebasing: buffer.bindMemory(to: UInt8.self)[(16 - count)...]))
            }
        }

        /// Appends a 32-bit field as 8 uppercase hexadecimal digits (`\(hex: flags)`).
        public mutating func appendInterpolation(hex value: UInt32) {
            for shift in stride(from: 28, through: 0, by: -4) {
                let digit = UInt8(truncatingIfNeeded: value >> UInt32(shift)) & 15
                utf8.append(digit < 10 ? 0x30 + digit : 0x37 + digit)
            }
        }

        /// Appends a Float as Swift's `description` spells it (in Embedded Swift, whose float
        /// printing is large: "nan", "inf", "-inf", finite values below 10^9 in magnitude to 6
        /// decimals, trailing zeros dropped, e.g. "0.0", "-1.0", "-0.003922", larger ones as
        /// "(float bits 0xCF32D05E)").
        public mutating func appendInterpolation(_ value: Float) {
            #if hasFeature(Embedded)
            if value.isNaN { appendLiteral("nan"); return }
            let size = value.magnitude
            guard size.isInfinite || size < 1e9 else {
                appendLiteral("(float bits 0x")
                appendInterpolation(hex: value.bitPattern)
                appendLiteral(")")
                return
            }
            if value.sign == .minus { utf8.append(0x2D) }
            if size.isInfinite { appendLiteral("inf"); return }
            // (32-bit conversions: the FPU's; 64-bit ones are library calls on a Cortex-M)
            var whole = UInt32(size)
            var fraction = UInt32(((size - Float(whole)) * 1_000_000).rounded())
            if fraction == 1_000_000 { whole += 1; fraction = 0 }
            appendDecimal(magnitude: UInt64(whole), negative: false)
            utf8.append(0x2E)
            var scale: UInt32 = 100_000
            repeat {
                utf8.append(UInt8(truncatingIfNeeded: fraction / scale) + 0x30)
                fraction %= scale
                scale /= 10
            } while fraction != 0 && scale != 0
            #else
            appendInterpolation(value.description)
            #endif
        }

        /// Appends a string's UTF-8. (Strings on Linux and in Embedded Swift are always stored as
        /// UTF-8; only a bridged Objective-C string has none to lend, and it is written as "?":
        /// iterating one links the UTF-16 views, kilobytes of a microcontroller's code.)
        @inline(never)
        public mutating func appendInterpolation(_ value: String) {
            if value.utf8.withContiguousStorageIfAvailable({ append($0) }) == nil { utf8.append(0x3F) }
        }

        /// Appends a static string.
        public mutating func appendInterpolation(_ value: StaticString) {
            appendLiteral(value)
        }

        /// Appends another message's text.
        public mutating func appendInterpolation(_ value: ErrorMessage) {
            value.utf8.withUnsafeBufferPointer { append($0) }
        }

        /// Appends a shape as "HxWxC" (its `description`).
        public mutating func appendInterpolation(_ value: TensorShape) {
            appendInterpolation(value.height)
            utf8.append(0x78)
            appendInterpolation(value.width)
            utf8.append(0x78)
            appendInterpolation(value.channels)
        }

        /// Appends a path as its `description` spells it.
        public mutating func appendInterpolation(_ value: FilePath) {
            appendInterpolation(value.description)
        }
    }
}
