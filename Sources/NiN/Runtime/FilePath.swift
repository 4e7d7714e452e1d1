// FilePath: a file-system path as the bytes the operating system takes. On Linux a path is a
// byte string, not text: a name such as "bad\xffbyte.png" is a valid file name but not valid
// UTF-8, so a path that went through `String` would name a different file. Paths from C and
// from the command line keep their bytes here and reach open() unchanged; only messages show
// them as text (invalid bytes as \xNN escapes).

/// A file-system path kept as its exact bytes (NUL-terminated, no interior NUL).
public struct FilePath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The path's bytes followed by one NUL.
    private let nulTerminated: [CChar]

    /// The path named by a C string, byte for byte.
    public init(cString: UnsafePointer<CChar>) {
        var bytes: [CChar] = []
        var p = cString
        while p.pointee != 0 {
            bytes.append(p.pointee)
            p += 1
        }
        bytes.append(0)
        nulTerminated = bytes
    }

    /// The path whose bytes are `bytes` (a NUL byte ends it, as it would for the OS).
    public init(bytes: some Sequence<UInt8>) {
        nulTerminated = bytes.prefix { $0 != 0 }.map { CChar(bitPattern: $0) } + [0]
    }

    /// The path spelled by `string` in UTF-8.
    public init(_ string: String) {
        self.init(bytes: Array(string.utf8))
    }

    /// The path spelled by a string literal.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The path's bytes, without the terminating NUL.
    public var bytes: [UInt8] { nulTerminated.dropLast().map { UInt8(bitPattern: $0) } }

    /// The path for messages: valid UTF-8 as it is, every other byte as `\xNN`.
    public var description: String {
        let all = bytes
        var text = ""
        var index = 0
        while index < all.count {
            // Decode one scalar at `index`; a byte that starts no valid scalar is escaped alone.
            var decoder = UTF8()
            var rest = all[index...].makeIterator()
            if case .scalarValue(let scalar) = decoder.decode(&rest) {
                text.unicodeScalars.append(scalar)
                index += UTF8.width(scalar)
            } else {
                text += "\\x" + hex(all[index])
                index += 1
            }
        }
        return text
    }

    /// Calls `body` with the NUL-terminated path for a system call.
    public func withCString<R, E: Error>(_ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
        try nulTerminated.withUnsafeBufferPointer { (buffer) throws(E) -> R in try body(buffer.baseAddress!) }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
