// The thread-local message behind nin_last_error(): a malloc'd C string per thread, replaced on
// every failure and freed when the thread exits.

import NiN
#if canImport(Glibc)
import Glibc
#endif

enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    private static let empty: StaticString = ""

    /// Stores `message` as this thread's last error.
    static func set(_ message: String) {
        let copy = strdup(message)
        free(pthread_getspecific(key))
        pthread_setspecific(key, copy)
    }

    /// This thread's last error, or "".
    static var current: UnsafePointer<CChar> {
        if let value = pthread_getspecific(key) { return UnsafePointer(value.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
