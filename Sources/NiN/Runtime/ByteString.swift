// ByteString.swift: String equality by UTF-8 bytes, for the engine's own names (metadata keys,
// CPU flags, NIN_ISA's family names). Swift's `==` on String compares by canonical equivalence,
// which links the standard library's Unicode normalization and grapheme tables and their code
// (about 60 KB of the Embedded libnin.so's text); these names are stored or typed bytes, so
// byte equality is what they mean, and it needs no tables.

extension String {
    /// Whether `self` and `other` hold the same UTF-8 bytes (no Unicode normalization: "é" as
    /// one scalar differs from "e" followed by a combining accent).
    @inlinable
    package func hasSameBytes(as other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}
