// The thread-local message behind nin_last_error(): a malloc'd C string per thread, replaced on
// every failure and freed when the thread exits.

import NiN
import NiNPlatform

enum LastError {
    private static let key = Platform.ThreadLocalKey(owner: "nin_last_error") { Platform.deallocate($0) }

    private static let empty: StaticString = ""

    /// Stores `text` as this thread's last error (a NUL-terminated copy of its UTF-8).
    static func set(_ text: ErrorMessage) {
        let copy = text.utf8.withUnsafeBufferPointer { bytes -> UnsafeMutableRawPointer? in
            guard let copy = Platform.allocate(bytes: bytes.count + 1, alignment: MemoryLayout<Int>.alignment) else { return nil }
            if let source = bytes.baseAddress { copy.copyMemory(from: source, byteCount: bytes.count) }
            copy.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            return copy
        }
        Platform.deallocate(key.value)
        key.value = copy
    }

    /// This thread's last error, or "".
    static var current: UnsafePointer<CChar> {
        if let value = key.value { return UnsafePointer(value.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
