// Shared helpers for the Swift tests: the repository root and file access.

import Foundation

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func listDirectory(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Little-endian int32 values of raw bytes.
func int32Values(_ bytes: [UInt8]) -> [Int32] {
    stride(from: 0, to: bytes.count, by: 4).map {
        Int32(bitPattern: UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24)
    }
}

/// Little-endian float32 values of raw bytes.
func float32Values(_ bytes: [UInt8]) -> [Float] {
    int32Values(bytes).map { Float(bitPattern: UInt32(bitPattern: $0)) }
}
