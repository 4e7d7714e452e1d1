// The byte ranges of a model file's sections, by kind: a fixed table with one slot per kind
// (a Dictionary here cost the firmware its hashing and a few kilobytes of code).

/// Where each section kind of a file lies, or nil for a kind the file lacks.
struct SectionTable {
    private var ranges: [Range<Int>?] = Array(repeating: nil, count: 4)  // Section.index: 0 to 3

    /// The range of section `kind`, or nil when the file has none.
    subscript(kind: ModelFormat.Section) -> Range<Int>? {
        get { ranges[kind.index] }
        set { ranges[kind.index] = newValue }
    }

    /// How many sections the file has.
    var count: Int { ranges.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// The sections' ranges, in no particular order.
    var values: [Range<Int>] { ranges.compactMap { $0 } }
}
