// Constants of the .nin file format (docs/FORMAT.md): magic, versions, record sizes, op codes.

/// Numbers fixed by docs/FORMAT.md, version 1.2.
enum ModelFormat {
    static let magic: [UInt8] = [0x4E, 0x49, 0x4E, 0x4D]  // "NINM"
    static let versionMajor: UInt16 = 1
    static let headerBytes = 64
    static let sectionEntryBytes = 24
    static let maxSections = 16
    static let alignment = 64
    static let inputRecordBytes = 32
    static let layerRecordBytes = 96
    static let maxLayers = 256
    static let maxInputSide = 4096
    static let maxChannels = 4096
    static let maxKernel = 64
    static let maxStride = 64

    /// A section kind: a FourCC read as a little-endian u32.
    enum Section: UInt32, CaseIterable {
        case graph = 0x4850_5247    // "GRPH"
        case weights = 0x5448_4757  // "WGHT"
        case labels = 0x534C_424C   // "LBLS"
        case metadata = 0x4154_454D // "META"

        /// The section's place in a `SectionTable`.
        var index: Int {
            switch self {
            case .graph: 0
            case .weights: 1
            case .labels: 2
            case .metadata: 3
            }
        }

        var name: StaticString {
            switch self {
            case .graph: "GRPH"
            case .weights: "WGHT"
            case .labels: "LBLS"
            case .metadata: "META"
            }
        }
    }

    /// Layer flag bits: ReLU (conv), and (1.2) the weights also stored quad-blocked (conv).
    static let flagReLU: UInt32 = 1
    static let flagQuadWeights: UInt32 = 2

    /// Layer op codes.
    static let opConv: UInt32 = 1
    static let opMaxPool: UInt32 = 2
    static let opAvgPool: UInt32 = 3
    static let opGlobalAveragePool: UInt32 = 4
}
