// Everything the engine asks of the operating system, in one place: aligned memory, a file mapped
// read-only (and giving pages back), an environment variable, whether a file is readable, the
// monotonic clock, the text of the last system error, and a line on standard error. The engine's
// other files call these and import no C library for them, so a platform without these system
// calls (Embedded Swift on a microcontroller, WebAssembly) replaces this one file. The worker
// pool's threads (WorkerPool.swift) and the CPU probes and fork generation (NiNCPU) are the
// other places that touch the system. The C library comes through CNiNPlatform (nin_platform.h),
// in the hosted build as in the Embedded one (which has no Glibc module), so this file has no
// `#if`: it compiles the same way for both.

import CNiNPlatform

/// The system calls the engine makes.
public enum Platform {
    // MARK: Memory

    /// `bytes` (at least 1) of memory aligned to `alignment` (a power of two, at least the
    /// pointer size), zero-filled when `zeroed` (its pages committed first: `commitPages`), or
    /// nil when memory runs out. Free it with `deallocate`.
    public static func allocate(bytes: Int, alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        var memory: UnsafeMutableRawPointer?
        let size = max(bytes, 1)
        guard posix_memalign(&memory, alignment, size) == 0, let memory else { return nil }
        if zeroed {
            commitPages(memory, bytes: size)
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        }
        return memory
    }

    /// Backs the whole pages inside the `bytes` at `memory` with memory now, in one system call
    /// (Linux 5.14 and later: madvise MADV_POPULATE_WRITE), so that their first writes take no
    /// page fault: a model's packed weights as they are written (one fault per 4 KB page costs
    /// about 1.8 us on the Zen 3 machine of docs/ARCHITECTURE.md, populating about 1.3 us), and a
    /// context's arena when it is made, so that its first run is as fast as the next. Best
    /// effort: nothing where the system lacks it, and nothing below 64 KB (a heap's few pages are
    /// often mapped already).
    public static func commitPages(_ memory: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= 64 << 10 { ninpriv_commit_pages(memory, bytes) }
    }

    /// A NUL-terminated copy of `text` in memory from `allocate` (free it with `deallocate`), or
    /// nil when memory runs out (strdup).
    public static func copyCString(_ text: String) -> UnsafeMutablePointer<CChar>? {
        var utf8 = text.utf8CString  // the text and its NUL
        return utf8.withUnsafeMutableBytes { bytes in
            guard let copy = allocate(bytes: bytes.count, alignment: MemoryLayout<Int>.alignment) else { return nil }
            copy.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            return copy.assumingMemoryBound(to: CChar.self)
        }
    }

    /// Frees memory from `allocate` (nil: nothing).
    public static func deallocate(_ memory: UnsafeMutableRawPointer?) {
        free(memory)
    }

    // MARK: Files

    /// Why a file could not be mapped.
    public enum MappingFailure: Error, Equatable {
        /// open() failed: the system's reason.
        case cannotOpen(String)
        /// fstat() failed: the system's reason.
        case cannotStat(String)
        /// The path is a directory, a device or another non-regular file.
        case notRegularFile
        /// The file has no bytes.
        case empty
        /// mmap() failed: the system's reason.
        case cannotMap(String)
    }

    /// Maps the regular file at `path` (a NUL-terminated path) read-only and private; release it
    /// with `unmap`.
    public static func mapReadOnly(_ path: UnsafePointer<CChar>) throws(MappingFailure) -> UnsafeRawBufferPointer {
        let fd = ninpriv_open_read_only(path)
        guard fd >= 0 else { throw .cannotOpen(lastErrorDescription()) }
        defer { close(fd) }
        var fileSize: Int64 = 0
        let regular = ninpriv_regular_file_size(fd, &fileSize)
        guard regular >= 0 else { throw .cannotStat(lastErrorDescription()) }
        guard regular == 1 else { throw .notRegularFile }
        let size = Int(fileSize)
        guard size > 0 else { throw .empty }
        guard let mapping = ninpriv_map_read_only(fd, size) else { throw .cannotMap(lastErrorDescription()) }
        return UnsafeRawBufferPointer(start: mapping, count: size)
    }

    /// Releases a mapping made by `mapReadOnly`.
    public static func unmap(_ mapping: UnsafeRawBufferPointer) {
        if let base = mapping.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), mapping.count) }
    }

    /// Tells the system that the whole pages of `range` (byte offsets into `mapping`, a private
    /// read-only file mapping) are not needed now: their memory is given back, and the file's
    /// bytes are read again if they are ever touched.
    public static func discardPages(of mapping: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard let base = mapping.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        if end > start { madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
    }

    /// Whether the file at `path` (NUL-terminated) exists and this process may read it.
    public static func isReadable(_ path: UnsafePointer<CChar>) -> Bool {
        access(path, R_OK) == 0
    }

    // MARK: Environment, time, messages

    /// The value of environment variable `name` as a C string owned by the environment, or nil
    /// when it is not set.
    public static func environment(_ name: String) -> UnsafePointer<CChar>? {
        getenv(name).map { UnsafePointer($0) }
    }

    /// `environment(_:)` for a static name (no C string is made of a String).
    public static func environment(staticName name: StaticString) -> UnsafePointer<CChar>? {
        getenv(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)).map { UnsafePointer($0) }
    }

    /// CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call on Linux).
    public static func monotonicNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// The system's text for the last failed call's error (errno), e.g. "No such file or directory".
    public static func lastErrorDescription() -> String {
        let code = ninpriv_errno()
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }

    /// Writes `line` and a newline to standard error.
    public static func writeStandardError(_ line: String) {
        fputs(line + "\n", ninpriv_stderr())
    }

    /// Writes the NUL-terminated `text` to stderr as it is (no newline added).
    public static func writeStandardError(cString text: UnsafePointer<CChar>) {
        fputs(text, ninpriv_stderr())
    }

    // MARK: Threads

    /// A key to one pointer per thread (a pthread key): each thread reads its own, nil until it
    /// sets one. Keys are a per-process supply (at least 128); make them once, in a global.
    public struct ThreadLocalKey: @unchecked Sendable {
        private let key: pthread_key_t

        /// A new key. When a thread that holds a non-nil value ends, `destructor` (if any) gets
        /// that value. Traps naming `owner` when the process has no key left.
        public init(owner: StaticString, destructor: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
            var key = pthread_key_t()
            let status = pthread_key_create(&key, destructor)
            if status != 0 { fatalError("\(owner): pthread_key_create failed (\(status))") }
            self.key = key
        }

        /// The calling thread's value.
        public var value: UnsafeMutableRawPointer? {
            get { pthread_getspecific(key) }
            nonmutating set { pthread_setspecific(key, newValue) }
        }
    }

    /// A mutual-exclusion lock (a pthread mutex) that lives as long as the process: for a
    /// global that guards state shared by every thread.
    public struct Lock: @unchecked Sendable {
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>

        /// A new, unlocked lock (never destroyed).
        public init() {
            mutex = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
        }

        /// Runs `body` holding the lock.
        public func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body()
        }
    }

    // MARK: Bytes and arithmetic

    /// The address of the first byte equal to `value` among the `count` bytes at `bytes`, or nil
    /// (the C library's memchr: vectorized, a fraction of a millisecond for megabytes).
    public static func firstByte(_ value: UInt8, in bytes: UnsafeRawPointer, count: Int) -> UnsafeRawPointer? {
        memchr(bytes, Int32(value), count).map { UnsafeRawPointer($0) }
    }

    /// e raised to `x` (the C library's expf: the bits every build's softmax gives).
    public static func exponential(_ x: Float) -> Float {
        expf(x)
    }
}
