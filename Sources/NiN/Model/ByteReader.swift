// Bounds-checked little-endian reads from a file image; every read is checked by its caller's range.
// On a file mapping the reader also lets go of pages it has read (`doneReading`).

import NiNPlatform

/// A view of the model bytes with little-endian readers. Callers check ranges first.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    /// Whether `bytes` is a private read-only file mapping, whose pages may be dropped at any
    /// time (a later read maps them again from the page cache). Never for memory the caller owns.
    var isFileMapping = false

    var count: Int { bytes.count }

    /// The bytes of `range` are not read again soon: on a file mapping their pages are dropped,
    /// so that validating and packing a model never holds the whole file resident at once
    /// (its weights pages and their packed copy added up in the peak RSS). No-op otherwise.
    func doneReading(_ range: Range<Int>) {
        if isFileMapping { Platform.discardPages(of: bytes, range) }
    }

    func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func i32(_ offset: Int) -> Int32 { Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)) }
    func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    func f32(_ offset: Int) -> Float { Float(bitPattern: u32(offset)) }

    /// Whether the NUL-terminated strings at offsets `a` and `b` hold the same bytes (both end
    /// with a NUL inside `bytes`, as `readStrings` has checked).
    func sameCString(_ a: Int, _ b: Int) -> Bool {
        var i = 0
        while true {
            let x = bytes[a + i]
            guard x == bytes[b + i] else { return false }
            if x == 0 { return true }
            i += 1
        }
    }

    /// True when `count` bytes from `offset` are all zero.
    func isZero(_ offset: Int, _ count: Int) -> Bool {
        guard count > 0 else { return true }
        for i in offset..<(offset + count) where bytes[i] != 0 { return false }
        return true
    }
}
