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
    /// A sentence saying what was wrong, e.g. which field of which layer.
    public let message: String

    /// Makes an error of `code` with `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func badModel(_ message: String) -> NiNError { NiNError(.badModel, "model file: " + message) }
    static func invalid(_ message: String) -> NiNError { NiNError(.invalidArgument, message) }
}
