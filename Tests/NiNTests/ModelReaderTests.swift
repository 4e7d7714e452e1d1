// Hostile model files: truncated at every section boundary, wrong magic or version, bad
// checksum, and (with the checksum recomputed so that deeper checks are reached) offsets,
// counts, shapes and parameters out of range. Each is refused with .badModel and a message
// naming the problem; none crashes. (ModelReaderRuleTests builds one minimal file per remaining
// rule, META and label rules among them, and checks each message in full.)

import Foundation
import NiN
import NiNKernelCheck
import Testing

private let modelPath = repositoryRoot + "/Tests/golden/net/k11s4_batch3/model.nin"


private struct ModelFile {
    var bytes: [UInt8]

    func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
    func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
    mutating func put32(_ at: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
    mutating func put64(_ at: Int, _ value: UInt64) {
        put32(at, UInt32(truncatingIfNeeded: value))
        put32(at + 4, UInt32(truncatingIfNeeded: value >> 32))
    }
    mutating func seal() { put32(24, testCRC32(bytes[64...])) }

    var sectionCount: Int { u32(12) }
    func sectionEntry(_ i: Int) -> Int { 64 + 24 * i }
    func section(named name: String) -> (entry: Int, offset: Int, size: Int) {
        let code = name.utf8.reversed().reduce(0) { $0 << 8 | Int($1) }
        for i in 0..<sectionCount where u32(sectionEntry(i)) == code {
            return (sectionEntry(i), u64(sectionEntry(i) + 8), u64(sectionEntry(i) + 16))
        }
        fatalError("no section \(name)")
    }
    /// Start of layer record `i` in GRPH.
    func layer(_ i: Int) -> Int { section(named: "GRPH").offset + 32 + 96 * i }
}

private func expectRefused(_ bytes: [UInt8], _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try NiNModel(bytes: bytes)
        Issue.record("accepted a bad model (expected: \(fragments))", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == .badModel, sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.message.contains(fragment), "\"\(error.message)\" should mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    }
}

private func original() throws -> ModelFile { ModelFile(bytes: try readBytes(modelPath)) }

@Test("the unmodified model loads, and re-sealing it changes nothing")
func pristineLoads() throws {
    var file = try original()
    _ = try NiNModel(bytes: file.bytes)
    let before = file.bytes
    file.seal()
    #expect(file.bytes == before)
}

@Test("truncation at every section boundary and inside the header is refused")
func truncations() throws {
    let file = try original()
    var cuts: Set<Int> = [0, 1, 3, 4, 8, 63, 64, 64 + 24 * file.sectionCount - 1, file.bytes.count - 1]
    for i in 0..<file.sectionCount {
        let offset = file.u64(file.sectionEntry(i) + 8), size = file.u64(file.sectionEntry(i) + 16)
        cuts.formUnion([offset, offset + 1, offset + size - 1, offset + size].filter { $0 > 0 && $0 < file.bytes.count })
    }
    for cut in cuts.sorted() {
        expectRefused(Array(file.bytes[..<cut]), ["bytes"])
    }
}

@Test("header damage: magic, version, size, checksum")
func headerDamage() throws {
    var file = try original()
    file.bytes[0] = UInt8(ascii: "X")
    expectRefused(file.bytes, ["magic"])

    file = try original()
    file.bytes[4] = 2
    expectRefused(file.bytes, ["version 2.0"])

    file = try original()
    file.bytes[file.bytes.count - 1] ^= 0x40
    expectRefused(file.bytes, ["checksum"])

    file = try original()
    file.put32(8, 128)
    expectRefused(file.bytes, ["header_bytes"])

    file = try original()
    file.bytes.append(contentsOf: [UInt8](repeating: 0, count: 64))
    expectRefused(file.bytes, ["header says the file has"])

    file = try original()
    file.bytes[40] = 1
    expectRefused(file.bytes, ["reserved header"])

    file = try original()
    file.put32(12, 0)
    expectRefused(file.bytes, ["section_count"])
    file.put32(12, 1000)
    expectRefused(file.bytes, ["section_count"])
}

@Test("section table damage")
func sectionTableDamage() throws {
    var file = try original()
    let weights = file.section(named: "WGHT")
    file.put64(weights.entry + 8, UInt64(weights.offset + 8))
    file.seal()
    expectRefused(file.bytes, ["WGHT", "multiple of 64"])

    file = try original()
    file.put64(weights.entry + 16, UInt64(file.bytes.count))
    file.seal()
    expectRefused(file.bytes, ["WGHT", "ends at byte"])

    file = try original()
    file.put64(weights.entry + 16, UInt64.max - 10)
    file.seal()
    expectRefused(file.bytes, ["WGHT", "ends at byte"])

    file = try original()
    file.put32(weights.entry, 0x5858_5858)
    file.seal()
    expectRefused(file.bytes, ["unknown kind"])

    file = try original()
    let graph = file.section(named: "GRPH")
    file.put32(weights.entry, UInt32(file.u32(graph.entry)))  // WGHT entry now says GRPH
    file.seal()
    expectRefused(file.bytes, ["GRPH", "twice"])

    file = try original()
    file.put64(weights.entry + 8, UInt64(graph.offset))  // overlaps GRPH
    file.seal()
    expectRefused(file.bytes, ["overlaps"])

    file = try original()
    file.put64(weights.entry + 16, UInt64(weights.size - 1))
    file.seal()
    expectRefused(file.bytes, ["WGHT", "not a multiple of 64"])

    file = try original()
    let tableEnd = 64 + 24 * file.sectionCount
    file.bytes[tableEnd] = 7  // padding between the section table and the first section
    file.seal()
    expectRefused(file.bytes, ["padding", "not zero"])

    // A model without META: its LBLS entry renamed to META leaves the required labels missing.
    file = ModelFile(bytes: try readBytes(repositoryRoot + "/Tests/golden/net/pools/model.nin"))
    let labels = file.section(named: "LBLS")
    file.put32(labels.entry, 0x4154_454D)
    file.seal()
    expectRefused(file.bytes, ["required section LBLS is missing"])
}

@Test("layer and graph damage")
func layerDamage() throws {
    typealias Mutation = (inout ModelFile) -> Void
    let cases: [(String, [String], Mutation)] = [
        ("unknown op", ["layer 0", "unknown op 9"], { $0.put32($0.layer(0), 9) }),
        ("flag bits", ["layer 0", "flag"], { $0.put32($0.layer(0) + 4, 6) }),
        ("in_channels", ["layer 0", "in_channels"], { $0.put32($0.layer(0) + 8, 7) }),
        ("out_channels 0", ["layer 0", "out_channels"], { $0.put32($0.layer(0) + 12, 0) }),
        ("kernel 0", ["layer 0", "kernel"], { $0.put32($0.layer(0) + 16, 0) }),
        ("kernel too large", ["layer 0", "does not fit"], { $0.put32($0.layer(0) + 16, 60) }),
        ("stride 0", ["layer 0", "stride"], { $0.put32($0.layer(0) + 24, 0) }),
        ("padding", ["layer 0", "padding"], { $0.put32($0.layer(0) + 32, 11) }),
        ("scale NaN", ["layer 0", "output_scale"], { $0.put32($0.layer(0) + 48, 0x7FC0_0000) }),
        ("zero point", ["layer 0", "output_zero_point"], { $0.put32($0.layer(0) + 52, 300) }),
        ("weights offset", ["layer 0", "weights", "WGHT"], { $0.put32($0.layer(0) + 56, 1 << 30) }),
        ("bias offset alignment", ["layer 0", "bias_offset", "multiple of 64"], { $0.put32($0.layer(0) + 60, 4) }),
        ("reserved", ["layer 0", "reserved"], { $0.bytes[$0.layer(0) + 90] = 1 }),
        ("layer count", ["GRPH"], { $0.put32($0.section(named: "GRPH").offset + 12, 200) }),
        ("input channels", ["input channels"], { $0.put32($0.section(named: "GRPH").offset, 2) }),
        ("input size", ["input size"], { $0.put32($0.section(named: "GRPH").offset + 4, 0) }),
        ("class count", ["class_count"], { $0.put32($0.section(named: "GRPH").offset + 24, 3) }),
        ("multiplier", ["layer 0", "multiplier[0]"], { file in
            let at = file.section(named: "WGHT").offset + file.u32(file.layer(0) + 64)
            file.put32(at, 5)
        }),
        ("shift", ["layer 0", "shift[0]"], { file in
            let at = file.section(named: "WGHT").offset + file.u32(file.layer(0) + 68)
            file.put32(at, 63)
        }),
        ("accumulator bound", ["layer 0", "overflow"], { file in
            let at = file.section(named: "WGHT").offset + file.u32(file.layer(0) + 60)
            file.put32(at, 0x7FFF_0000)
        }),
        ("weight -128", ["layer 0", "-128"], { file in
            file.bytes[file.section(named: "WGHT").offset + file.u32(file.layer(0) + 56)] = 0x80
        }),
        ("gap not last", ["layer 0", "gap must be the last layer"], { $0.put32($0.layer(0), 4); $0.put32($0.layer(0) + 4, 0) }),
        ("last layer not gap", ["layer", "kernel"], { file in
            let layers = file.u32(file.section(named: "GRPH").offset + 12)
            file.put32(file.layer(layers - 1), 2)
        }),
        ("labels unterminated", ["LBLS", "NUL"], { file in
            let labels = file.section(named: "LBLS")
            file.bytes[labels.offset + labels.size - 1] = UInt8(ascii: "x")
        }),
        ("label count", ["LBLS", "labels but the model has"], { file in
            let labels = file.section(named: "LBLS")
            let firstNul = file.bytes[labels.offset...].firstIndex(of: 0)!
            file.bytes[firstNul] = UInt8(ascii: "x")
        }),
    ]
    for (name, fragments, mutate) in cases {
        var file = try original()
        mutate(&file)
        file.seal()
        expectRefused(file.bytes, fragments)
        _ = name
    }
}

@Test("the checksum, summed in 256 KB steps, covers every step of a 2 MB model: a byte flipped in any is refused, from memory and from a file (whose pages loading lets go of)")
func checksumCoversEveryStep() throws {
    let pristine = try readBytes(repositoryRoot + "/models/fashion_classic.nin")
    #expect(pristine.count > 4 * 256 * 1024)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nin-flipped-\(getpid()).nin").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    for offset in [64, 64 + 256 * 1024 - 1, 64 + 256 * 1024, pristine.count / 2, pristine.count - 1] {
        var bytes = pristine
        bytes[offset] ^= 0x10
        expectRefused(bytes, ["checksum"])
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        do {
            _ = try NiNModel(path: path)
            Issue.record("the model with byte \(offset) flipped loaded from a file")
        } catch {
            #expect(error.code == .badModel && error.message.contains("checksum"), "byte \(offset): \(error.message)")
        }
    }
    #expect(FileManager.default.createFile(atPath: path, contents: Data(pristine)))
    _ = try NiNModel(path: path)
}

@Test("a missing or empty file is an I/O or model error, not a crash")
func missingFile() throws {
    #expect(throws: NiNError.self) { try NiNModel(path: "/nonexistent/model.nin") }
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("nin-empty-\(getpid()).nin").path
    #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
    defer { try? FileManager.default.removeItem(atPath: empty) }
    #expect(throws: NiNError.self) { try NiNModel(path: empty) }
    #expect(throws: NiNError.self) { try NiNModel(path: "/tmp") }
}
