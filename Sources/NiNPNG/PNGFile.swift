// Reading a PNG file: the file's bytes, read whole, then decoded from memory by
// `PNGDecoder.decode`, so files and in-memory data take one decoding path. The path is a
// `FilePath` and reaches open() byte for byte.

import NiN
#if canImport(Glibc)
import Glibc
#endif

extension PNGDecoder {
    /// Largest PNG file accepted, in bytes: more than the largest image allowed needs
    /// (`maxPixels` of 16-bit RGBA, stored uncompressed), so no real file is refused.
    public static let maxFileBytes = 1 << 30

    /// Decodes the PNG file at `path` (any name the OS allows). A file that cannot be opened or
    /// read is an `.io` error; one that is not a valid PNG is `.badImage`.
    public static func load(path: FilePath) throws(NiNError) -> Image {
        let bytes = try readFile(path)
        do {
            return try decode(bytes)
        } catch {
            throw NiNError(error.code, "\(path): " + error.message)
        }
    }

    private static func readFile(_ path: FilePath) throws(NiNError) -> [UInt8] {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw NiNError(.io, "cannot open PNG \"\(path)\": \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw NiNError(.io, "cannot read PNG \"\(path)\": not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maxFileBytes else {
            throw NiNError(.badImage, "PNG \"\(path)\" has \(size) bytes, more than the \(maxFileBytes) accepted")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw NiNError(.io, "cannot read PNG \"\(path)\": \(n < 0 ? String(cString: strerror(errno)) : "file shrank while read")") }
            done += n
        }
        return bytes
    }
}
