// Everything the engine asks of the operating system, in one place: aligned memory, a file mapped
// read-only (and giving pages back), an environment variable, whether a file is readable, the
// monotonic clock, the text of the last system error, and a line on standard error. The engine's
// other files call these and import no C library for them, so a platform without these system
// calls (Embedded Swift on a microcontroller, WebAssembly) replaces this one file. The worker
// pool's threads (WorkerPool.swift) and the CPU probes and fork generation (NiNCPU) are the
// other places that touch the system.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls the engine makes.
public enum Platform {
    // MARK: Memory

    /// `bytes` (at least 1) of memory aligned to `alignment` (a power of two, at least the
    /// pointer size), zero-filled when `zeroed`, or nil when memory runs out. Free it with
    /// `deallocate`.
    public static func allocate(bytes: Int, alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        var memory: UnsafeMutableRawPointer?
        let size = max(bytes, 1)
        guard posix_memalign(&memory, alignment, size) == 0, let memory else { return nil }
        if zeroed { memory.initializeMemory(as: UInt8.self, repeating: 0, count: size) }
        return memory
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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(lastErrorDescription()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotStat(lastErrorDescription()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile }
        let size = Int(info.st_size)
        guard size > 0 else { throw .empty }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED else {
            throw .cannotMap(lastErrorDescription())
        }
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

    /// CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call on Linux).
    public static func monotonicNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// The system's text for the last failed call's error (errno), e.g. "No such file or directory".
    public static func lastErrorDescription() -> String {
        let code = errno
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }

    /// Writes `line` and a newline to standard error.
    public static func writeStandardError(_ line: String) {
        fputs(line + "\n", stderr)
    }
}
