// Writing results to stdout in the chosen format, one image at a time, in input order: text
// (path, then "  0.9141  Label" lines), one JSON array (opened at the first result, closed at
// the end), JSON lines, or CSV. Every record is flushed as soon as it is written, so a
// consumer reading a pipe sees each image when it is done.

import NiN
import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)

/// One image's outcome: its top classes, or why it failed.
enum ImageResult {
    case classified([(classIndex: Int, probability: Float)])
    case failed(String)
}

/// Writes the results of one nin-infer run in `format`.
struct ResultWriter {
    let format: OutputFormat
    let labels: [String]
    /// Classes per image.
    let top: Int
    private var written = 0

    init(format: OutputFormat, labels: [String], top: Int) {
        self.format = format
        self.labels = labels
        self.top = top
    }

    /// Writes what comes before the first result (the CSV header).
    func begin() {
        guard format == .csv else { return }
        var columns = ["image"]
        for rank in 1...top { columns += ["label_\(rank)", "probability_\(rank)"] }
        emit((columns + ["error"]).joined(separator: ","))
    }

    /// Writes the result of the image at `path`.
    mutating func write(_ path: FilePath, _ result: ImageResult) {
        let name = path.description
        switch (format, result) {
        case (.text, .classified(let best)):
            emit(([name] + best.map { "  \(fourDecimals($0.probability))  \(labels[$0.classIndex])" }).joined(separator: "\n"))
        case (.text, .failed):
            break  // the reason is on stderr
        case (.json, _), (.jsonl, _):
            let record = jsonRecord(name, result)
            emit(format == .jsonl ? record : (written == 0 ? "[" : ",\n ") + record, newline: format == .jsonl)
        case (.csv, .classified(let best)):
            var fields = [csvField(name)]
            for entry in best { fields += [csvField(labels[entry.classIndex]), "\(entry.probability)"] }
            emit((fields + [""]).joined(separator: ","))
        case (.csv, .failed(let message)):
            emit(([csvField(name)] + Array(repeating: "", count: 2 * top) + [csvField(message)]).joined(separator: ","))
        }
        written += 1
    }

    /// Writes what comes after the last result (the end of the JSON array).
    func end() {
        guard format == .json else { return }
        emit(written == 0 ? "[]" : "]")
    }

    private func jsonRecord(_ name: String, _ result: ImageResult) -> String {
        switch result {
        case .classified(let best):
            let entries = best.map {
                "{\"index\": \($0.classIndex), \"label\": \(jsonString(labels[$0.classIndex])), \"probability\": \($0.probability)}"
            }
            return "{\"image\": \(jsonString(name)), \"top\": [\(entries.joined(separator: ", "))]}"
        case .failed(let message):
            return "{\"image\": \(jsonString(name)), \"error\": \(jsonString(message))}"
        }
    }

    private func emit(_ text: String, newline: Bool = true) {
        fputs(newline ? text + "\n" : text, ninpriv_stdout())
        fflush(ninpriv_stdout())
    }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    var quoted = "\""
    for character in s { quoted += character == "\"" ? "\"\"" : String(character) }
    return quoted + "\""
}
