// NiNError: the one error type of the engine. Its code maps 1:1 onto nin_status in nin.h.

/// An error raised by the engine: a status code plus one sentence naming what is wrong.
public struct NiNError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure; raw values equal the `nin_status` codes of `nin.h`.
    public enum Code: Int32, Sendable {
        case invalidArgument = 1
        case io = 2
        case badModel = 3
        case badImage = 4
        case bufferTooSmall = 5
        case outOfMemory = 6
        case state = 7
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence saying what was wrong, e.g. which field of which layer, as UTF-8.
    public let text: ErrorMessage

    /// Makes an error of `code` with `text` (an interpolated literal, written without String).
    public init(_ code: Code, _ text: ErrorMessage) {
        self.code = code
        self.text = text
    }

    /// A sentence saying what was wrong, e.g. which field of which layer.
    public var message: String { text.string }

    public var description: String { message }

    static func badModel(_ text: ErrorMessage) -> NiNError { NiNError(.badModel, "model file: \(text)") }
    static func invalid(_ text: ErrorMessage) -> NiNError { NiNError(.invalidArgument, text) }
}
