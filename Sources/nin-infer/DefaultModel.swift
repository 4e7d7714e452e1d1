// Finding the shipped default model: $NIN_MODEL, then models/ beside the checkout or install
// that holds this executable, then ./models/ of the working directory.

import NiN
#if canImport(Glibc)
import Glibc
#endif

enum DefaultModel {
    /// The default model's file name under models/.
    static let fileName = "fashion_classic.nin"

    /// Paths tried, in order (after $NIN_MODEL).
    static func candidates() -> [String] {
        var result: [String] = []
        if let exe = executablePath() {
            // .build/<triple>/release/nin-infer -> checkout root; <prefix>/bin/nin-infer -> <prefix>/share/nin.
            let dir = parent(exe)
            result.append(parent(parent(parent(dir))) + "/models/" + fileName)
            result.append(parent(dir) + "/share/nin/models/" + fileName)
        }
        result.append("models/" + fileName)
        return result
    }

    /// The first existing candidate.
    static func locate() -> FilePath? {
        if let env = getenv("NIN_MODEL") { return FilePath(cString: env) }
        return candidates().first { access($0, R_OK) == 0 }.map { FilePath($0) }
    }

    private static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
