// nin-infer's command line, parsed by hand. swift-argument-parser would do it in a few
// declarations, but it links FoundationEssentials into the static executable, and that alone
// raised the resident memory of a whole run by 4 MiB (7.1 MiB against 3.0 MiB for a trivial
// model), past the 10 MB budget of a run of the 227x227 model.
// Arguments arrive as the bytes of argv (`FilePath`), so that a file name that is not UTF-8
// reaches open() unchanged; options are matched on their text.

import NiN

/// What the command line asks for.
struct CommandLineOptions: Equatable {
    /// PNG images to classify, in order (as their exact bytes: any file name works).
    var images: [FilePath] = []
    /// `--model PATH`; nil means the default model.
    var model: FilePath?
    /// `--top K`: classes printed per image.
    var top = 5
    /// `--json`: one JSON array instead of text.
    var json = false
    /// `--plan`: print the arena plan first.
    var plan = false
    /// `--threads N`: worker threads per inference.
    var threads = 1
    /// `--profile N`: run each image N times and print per-layer medians.
    var profile: Int?
    /// `-h` / `--help`.
    var help = false

    static let usage = """
        USAGE: nin-infer [--model PATH] [--top K] [--json] [--plan] [--threads N] [--profile N] IMAGE...

        Classify PNG images with an int8 Network-in-Network model.

        ARGUMENTS:
          IMAGE...          PNG images to classify (at least one, unless --plan).

        OPTIONS:
          --model PATH      The .nin model. Default: $NIN_MODEL, else models/\(DefaultModel.fileName)
                            of the nin checkout (or install) this binary belongs to.
          --top K           How many classes to print per image (default 5).
          --json            Print the results as one JSON array.
          --plan            Print the arena plan: every tensor's offset, size and lifetime.
          --threads N       Worker threads per inference, 1 to 256 (default 1).
          --profile N       Run each image N times and print per-layer times (medians).
          -h, --help        Show this help.

        Exit status: 0 when every image was classified, 1 when some image failed (each failure
        gets a line on stderr), 2 for a bad command line or a model that cannot be loaded.
        """

    /// A command-line mistake, said in one line.
    struct UsageError: Error, Equatable {
        let message: String
    }

    /// Parses the arguments after the program name. `--name value` and `--name=value` are both
    /// accepted; `--` ends the options (every later argument is an image).
    static func parse<S: Sequence<FilePath>>(_ arguments: S) throws(UsageError) -> CommandLineOptions {
        var options = CommandLineOptions()
        var iterator = arguments.makeIterator()
        var onlyImages = false
        while let raw = iterator.next() {
            let argument = raw.description
            if onlyImages || !argument.hasPrefix("-") || argument == "-" {
                options.images.append(raw)
                continue
            }
            var name = argument
            var inlineValue: FilePath?
            if let equals = raw.bytes.firstIndex(of: UInt8(ascii: "=")), argument.hasPrefix("--") {
                name = FilePath(bytes: raw.bytes[..<equals]).description
                inlineValue = FilePath(bytes: raw.bytes[(equals + 1)...])
            }
            func value() throws(UsageError) -> FilePath {
                if let inlineValue { return inlineValue }
                guard let next = iterator.next() else { throw UsageError(message: "\(name) needs a value") }
                return next
            }
            func integer() throws(UsageError) -> Int {
                let text = try value().description
                guard let number = Int(text) else { throw UsageError(message: "\(name) needs an integer, not '\(text)'") }
                return number
            }
            func flag() throws(UsageError) -> Bool {
                guard inlineValue == nil else { throw UsageError(message: "\(name) takes no value") }
                return true
            }
            switch name {
            case "--": onlyImages = try flag()
            case "-h", "--help": options.help = try flag()
            case "--json": options.json = try flag()
            case "--plan": options.plan = try flag()
            case "--model": options.model = try value()
            case "--top": options.top = try integer()
            case "--threads": options.threads = try integer()
            case "--profile": options.profile = try integer()
            default: throw UsageError(message: "unknown option '\(name)'")
            }
        }
        if options.help { return options }
        guard !options.images.isEmpty || options.plan else { throw UsageError(message: "give at least one IMAGE (or --plan)") }
        guard options.top >= 1 else { throw UsageError(message: "--top must be at least 1") }
        guard (1...256).contains(options.threads) else { throw UsageError(message: "--threads must be 1 to 256") }
        if let runs = options.profile, runs < 1 { throw UsageError(message: "--profile must be at least 1") }
        return options
    }
}
