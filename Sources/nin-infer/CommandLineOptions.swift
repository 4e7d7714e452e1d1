// nin-infer's command line, parsed by hand. swift-argument-parser would do it in a few
// declarations, but it links FoundationEssentials into the static executable, and that alone
// raised the resident memory of a whole run by 4 MiB (7.1 MiB against 3.0 MiB for a trivial
// model), past the 10 MB budget of a run of the 227x227 model.
// Arguments arrive as the bytes of argv (`FilePath`), so that a file name that is not UTF-8
// reaches open() unchanged; options are matched on their text.

import NiN

/// How results are written to stdout.
enum OutputFormat: String, Equatable {
    /// Per image its path, then one line per class (the default).
    case text
    /// One JSON array, written as the results come.
    case json
    /// One JSON object per line, each written as soon as its image is done.
    case jsonl
    /// A header, then one CSV row per image.
    case csv
}

/// What the command line asks for.
struct CommandLineOptions: Equatable {
    /// Inputs in order: PNG files, directories (walked for *.png), or "-" (paths on stdin), as
    /// their exact bytes (any file name works).
    var images: [FilePath] = []
    /// `--model PATH`; nil means the default model.
    var model: FilePath?
    /// `--top K`: classes printed per image; nil means 5, or all classes of a smaller model.
    var top: Int?
    /// `--json`, `--jsonl`, `--csv`; text otherwise.
    var format = OutputFormat.text
    /// `--plan`: print the arena plan first.
    var plan = false
    /// `--threads N`: threads per inference.
    var threads = 1
    /// `--batch N`: images per run; nil picks 1 for one thread, else 8 per thread but at most the
    /// number of images.
    var batch: Int?
    /// `--profile N`: run each image N times and print per-layer medians.
    var profile: Int?
    /// `--progress` / `--no-progress`; nil shows progress when stderr is a terminal.
    var progress: Bool?
    /// `--heatmap DIR`: write each image's class heatmap there as a PNG.
    var heatmapDirectory: FilePath?
    /// `--class NAME`: the class whose map the heatmaps show; nil means each image's top class.
    var heatmapClass: String?
    /// `-h` / `--help`.
    var help = false
    /// `--version`.
    var version = false
    /// `--list-kernels`: list the kernel families (as JSON with `--json`).
    var listKernels = false

    /// Largest `--batch`.
    static let maxBatch = 4096

    static let usage = """
        USAGE: nin-infer [OPTIONS] INPUT...

        Classify PNG images with an int8 Network-in-Network model.

        ARGUMENTS:
          INPUT...          PNG files, directories (every *.png below them, sorted), or - to
                            read newline-separated paths from stdin. At least one, unless --plan;
                            a directory without a PNG, or an empty stdin, is an error (status 1).

        OPTIONS:
          --model PATH      The .nin model. Default: $NIN_MODEL, else \(DefaultModel.fileName) of the
                            nin install or checkout this binary belongs to, else ./models/.
          --top K           How many classes to print per image, at most the model's class
                            count (default 5, or every class of a model with fewer).
          --json            Print the results as one JSON array.
          --jsonl           Print one JSON object per image, as soon as it is classified.
          --csv             Print a CSV header, then one row per image.
          --threads N       Threads per inference, 1 to \(NiNContext.maxThreads) (default 1).
          --batch N         Images per run, 1 to \(maxBatch) (default 1 with one thread, else
                            8 per thread but no more than the images given); the next batch
                            is decoded while one runs.
          --progress        Show progress (done/total, images/s, ETA) and a summary on stderr.
          --no-progress     Do not (the default when stderr is not a terminal).
          --heatmap DIR     Write each image's class heatmap to DIR/NAME.heatmap.png: the image
                            with the top class's confidence map over it, with label and probability
                            (DIR and its parents are created when missing).
          --class NAME      Show class NAME's map in the heatmaps instead of the top class's.
          --plan            Print the arena plan: every tensor's offset, size and lifetime
                            (as JSON with --json).
          --profile N       Run each image N times and print per-layer times (medians).
          --version         Print the version, and the kernel family a model runs here
                            (the best this CPU has, or the one NIN_ISA names).
          --list-kernels    List the kernel families, best first: whether this CPU runs each
                            (and why not), and which one a model runs here (as JSON with --json).
          -h, --help        Show this help.

        Exit status: 0 when every image was classified, 1 when some image failed or some input
        named no image (each gets a line on stderr), 2 for a bad command line or a model that
        cannot be loaded.
        """

    /// The one-line synopsis printed after a command-line mistake: every option of `usage`.
    static let synopsis = "Usage: nin-infer [--model PATH] [--top K] [--json | --jsonl | --csv] [--threads N] "
        + "[--batch N] [--progress | --no-progress] [--heatmap DIR [--class NAME]] [--plan] [--profile N] "
        + "[--version] [--list-kernels] [-h | --help] INPUT..."

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
        var formats: [String] = []
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
            case "--version": options.version = try flag()
            case "--list-kernels": options.listKernels = try flag()
            case "--json", "--jsonl", "--csv":
                _ = try flag()
                guard formats.isEmpty || formats == [name] else {
                    throw UsageError(message: "\(formats[0]) and \(name) cannot be combined")
                }
                formats = [name]
                options.format = OutputFormat(rawValue: String(name.dropFirst(2)))!
            case "--plan": options.plan = try flag()
            case "--progress": options.progress = try flag()
            case "--no-progress": options.progress = !(try flag())
            case "--model": options.model = try value()
            case "--heatmap": options.heatmapDirectory = try value()
            case "--class": options.heatmapClass = try value().description
            case "--top": options.top = try integer()
            case "--threads": options.threads = try integer()
            case "--batch": options.batch = try integer()
            case "--profile": options.profile = try integer()
            default: throw UsageError(message: "unknown option '\(name)'")
            }
        }
        if options.listKernels && ![.text, .json].contains(options.format) {
            throw UsageError(message: "--list-kernels prints text, or JSON with --json")
        }
        if options.help || options.version || options.listKernels { return options }
        guard !options.images.isEmpty || options.plan else { throw UsageError(message: "give at least one IMAGE (or --plan)") }
        if let top = options.top, top < 1 { throw UsageError(message: "--top must be at least 1") }
        guard (1...NiNContext.maxThreads).contains(options.threads) else {
            throw UsageError(message: "--threads must be 1 to \(NiNContext.maxThreads)")
        }
        if let runs = options.profile, runs < 1 { throw UsageError(message: "--profile must be at least 1") }
        if let batch = options.batch, !(1...maxBatch).contains(batch) {
            throw UsageError(message: "--batch must be 1 to \(maxBatch)")
        }
        if options.heatmapClass != nil && options.heatmapDirectory == nil {
            throw UsageError(message: "--class needs --heatmap DIR")
        }
        if options.plan && ![.text, .json].contains(options.format) {
            throw UsageError(message: "--plan prints text, or JSON with --json")
        }
        return options
    }
}
