// The images a command line names: each argument is a PNG file, a directory (every *.png below
// it, recursively, names sorted byte by byte at each level; directories reached through symbolic links are
// not entered, as `find` does not), or "-" for newline-separated paths on stdin. Paths stay
// bytes (FilePath) from argv, readdir and stdin to open(). A directory or stdin that gives no
// image is reported like an unreadable directory, so such a run says so and exits 1.

import NiN
import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)
import NiNPlatform

/// An input that could not be listed (an unreadable directory), or that named no image (a
/// directory without a *.png below it, an empty stdin), with its reason.
struct ListingError {
    let path: FilePath
    let message: String
}

enum ImageList {
    /// The images named by `arguments`, in order, and the arguments that could not be listed.
    static func expand(_ arguments: [FilePath]) -> (images: [FilePath], errors: [ListingError]) {
        var images: [FilePath] = []
        var errors: [ListingError] = []
        for argument in arguments {
            if argument.bytes == Array("-".utf8) {
                let paths = readStandardInput()
                if paths.isEmpty { errors.append(ListingError(path: argument, message: "no image found: stdin gave no path")) }
                images += paths
            } else if isDirectory(argument, followLinks: true) {
                let before = images.count, unlisted = errors.count
                walk(argument.bytes, into: &images, errors: &errors)
                if images.count == before && errors.count == unlisted {
                    errors.append(ListingError(path: argument, message: "no image found: no *.png file below this directory"))
                }
            } else {
                images.append(argument)  // a file, or a name whose error the decoder reports
            }
        }
        return (images, errors)
    }

    /// Newline-separated paths from stdin; empty lines are skipped, a final "\r" is dropped.
    private static func readStandardInput() -> [FilePath] {
        var paths: [FilePath] = []
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        func finish() {
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if !line.isEmpty { paths.append(FilePath(bytes: line)) }
            line.removeAll(keepingCapacity: true)
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && ninpriv_errno() == EINTR { continue }
            guard n > 0 else { break }
            for byte in buffer[0..<n] {
                if byte == UInt8(ascii: "\n") { finish() } else { line.append(byte) }
            }
        }
        finish()
        return paths
    }

    /// Appends every *.png (any case) below `directory`, each level's names sorted by their bytes.
    private static func walk(_ directory: [UInt8], into images: inout [FilePath], errors: inout [ListingError]) {
        let path = FilePath(bytes: directory)
        guard let handle = path.withCString({ opendir($0) }) else {
            errors.append(ListingError(path: path, message: "cannot list directory: \(Platform.lastErrorDescription())"))
            return
        }
        var names: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        closedir(handle)
        let prefix = directory.last == UInt8(ascii: "/") ? directory : directory + [UInt8(ascii: "/")]
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let child = prefix + name
            if isDirectory(FilePath(bytes: child), followLinks: false) {
                walk(child, into: &images, errors: &errors)
            } else if hasPNGExtension(name) {
                images.append(FilePath(bytes: child))
            }
        }
    }

    private static func hasPNGExtension(_ name: [UInt8]) -> Bool {
        guard name.count > 4 else { return false }
        // ASCII case folding byte by byte (no Unicode tables): what lowercased() == ".png" said.
        return zip(name.suffix(4), Array(".png".utf8)).allSatisfy { byte, wanted in
            byte == wanted || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && byte | 0x20 == wanted)
        }
    }

    private static func isDirectory(_ path: FilePath, followLinks: Bool) -> Bool {
        path.withCString { ninpriv_is_directory_path($0, followLinks ? 1 : 0) } != 0
    }
}
