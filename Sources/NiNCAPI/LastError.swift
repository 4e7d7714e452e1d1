// The thread-local message behind nin_last_error(): a malloc'd C string per thread, replaced on
// every failure and freed when the thread exits.

import NiN
import NiNPlatform

enum LastError {
    private static let key = Platform.ThreadLocalKey(owner: "nin_last_error") { Platform.deallocate($0) }

    private static let empty: StaticString = ""

    /// Stores `message` as this thread's last error.
    static func set(_ message: String) {
        let copy = Platform.copyCString(message)
        Platform.deallocate(key.value)
        key.value = copy.map { UnsafeMutableRawPointer($0) }
    }

    /// This thread's last error, or "".
    static var current: UnsafePointer<CChar> {
        if let value = key.value { return UnsafePointer(value.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
