// nin-infer --heatmap DIR: one PNG per classified image, DIR/NAME.heatmap.png, where NAME is the
// image's file name without ".png" (a name met twice in one run gets "-2", "-3", ...). DIR is
// created, with its missing parents, when it does not exist.

import NiN
import NiNPNG
import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)
import NiNPlatform

/// Writes the heatmaps of one nin-infer run.
struct HeatmapWriter {
    let directory: FilePath
    /// The class shown; nil means each image's top class.
    let classIndex: Int?
    private var used: [[UInt8]: Int] = [:]

    init(directory: FilePath, classIndex: Int?) {
        self.directory = directory
        self.classIndex = classIndex
    }

    /// Renders image `index` of the context's last run (decoded from `path` as `image`) and
    /// writes it.
    mutating func write(_ context: NiNContext, index: Int, image: Image, for path: FilePath) throws(NiNError) {
        let heatmap = try context.heatmap(index, classIndex: classIndex, image: image)
        try PNGEncoder.write(heatmap, to: outputPath(for: path))
    }

    private mutating func outputPath(for path: FilePath) -> FilePath {
        var name = Array(path.bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).last ?? [])
        if name.count > 4, String(decoding: name.suffix(4), as: UTF8.self).lowercased() == ".png" { name.removeLast(4) }
        let seen = used[name, default: 0] + 1
        used[name] = seen
        if seen > 1 { name += Array("-\(seen)".utf8) }
        var full = directory.bytes
        if full.last != UInt8(ascii: "/") { full.append(UInt8(ascii: "/")) }
        return FilePath(bytes: full + name + Array(".heatmap.png".utf8))
    }

    /// Makes `path` a directory as `mkdir -p` does (each missing parent too, mode 0777 less the
    /// umask); nil when it is one now, else why not: "not a directory" for an existing file, or
    /// the failing mkdir's reason.
    static func createDirectory(_ path: FilePath) -> String? {
        let bytes = path.bytes
        var end = 0
        while end < bytes.count {
            end += 1
            while end < bytes.count && bytes[end] != UInt8(ascii: "/") { end += 1 }
            let prefix = FilePath(bytes: bytes[..<end])
            if isDirectory(prefix) { continue }
            if prefix.withCString({ mkdir($0, 0o777) }) != 0 && ninpriv_errno() != EEXIST {
                return "cannot create directory \(prefix): \(Platform.lastErrorDescription())"
            }
        }
        return isDirectory(path) ? nil : "not a directory"
    }

    /// Whether `path` names a directory.
    static func isDirectory(_ path: FilePath) -> Bool {
        path.withCString { ninpriv_is_directory_path($0, 1) } != 0
    }
}
