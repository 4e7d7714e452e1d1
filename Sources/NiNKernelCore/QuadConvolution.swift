// The convolution driver of every family that multiplies u8 inputs by s8 weights four K values
// ("a quad") at a time: AVX-512 VNNI, AVX-VNNI, AVX2's vpmaddubsw path, the arm64 neon,
// neondot and i8mm families and wasmrelaxed. It owns the
// work split (parts of whole tiles), the im2col chunks (u8 input bytes, the padding filled with
// the input zero point, pixels in `PixelOrder` so border tiles skip the padding taps) and the
// walk of tiles over 16-channel weight blocks; the family supplies the microkernels
// (`QuadTiles`). Plain Swift: it is specialized and inlined into each family's module, with
// that module's ISA flags. Weights are packed `[block][kQuads][16][4]` with the input zero point
// folded into the bias (`packQuads`).

/// One microkernel call of `convolveQuads`: the tile's pixels (their im2col rows, `kPadded`
/// bytes apart, and the K quads of `taps`), its 16-channel block of quad-packed weights with
/// their int32 biases and `RequantBlock` table, and where its requantized bytes go.
public struct QuadTileArguments {
    /// The first pixel's row of K bytes; pixel r's is `kPadded * r` bytes later.
    public var rows: UnsafePointer<UInt8>
    /// K rounded up to whole quads (`quadPaddedK`).
    public var kPadded: Int
    /// The K quads the tile reads (padding taps left out).
    public var taps: TileTaps
    /// The first block's packed weights; a pair tile's second block follows `kQuads * 64` bytes later.
    public var weights: UnsafePointer<Int8>
    /// K in quads, the stride of a block's weights in groups of 16 channels.
    public var kQuads: Int
    /// The first block's biases (the second block's follow, 16 later).
    public var bias: UnsafePointer<Int32>
    /// The first block's `RequantBlock` table (the second block's follows, `RequantBlock.bytes` later).
    public var requant: UnsafeRawPointer
    /// The output rows of the tile's pixels.
    public var output: TileOutput
    /// The first output channel (the block's first).
    public var channel: Int
    /// How many of the tile's channels are real (a pair tile: 17 to 32; a block tile 1 to 16;
    /// a pixel 0 to 16, 0 storing nothing).
    public var channels: Int

    /// The arguments from their values.
    @inlinable @inline(__always)
    public init(rows: UnsafePointer<UInt8>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int8>, kQuads: Int,
                bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, channel: Int, channels: Int) {
        self.rows = rows; self.kPadded = kPadded; self.taps = taps; self.weights = weights; self.kQuads = kQuads
        self.bias = bias; self.requant = requant; self.output = output; self.channel = channel; self.channels = channels
    }

    /// Where a one-pixel call stores its first channel: the first pixel's row, at `channel`.
    @inlinable @inline(__always)
    public var pixelOutput: UnsafeMutablePointer<UInt8> { output.row(0) + channel }

    /// The first of the two 16-channel blocks of a pair tile's arguments (17 to 32 channels):
    /// the same call on its 16 channels (a constant, so the tile's store needs no channel test).
    @inlinable @inline(__always)
    public var firstBlock: QuadTileArguments {
        var block = self
        block.channels = 16
        return block
    }

    /// The second of the two 16-channel blocks of a pair tile's arguments: the next block's
    /// weights, biases and `RequantBlock` table, its `channels - 16` channels from `channel + 16`.
    @inlinable @inline(__always)
    public var secondBlock: QuadTileArguments {
        var block = self
        block.weights += kQuads * 64; block.bias += 16; block.requant += RequantBlock.bytes
        block.channel += 16; block.channels = channels - 16
        return block
    }
}

/// A family's microkernels for `convolveQuads`, and the im2col chunks they read. Each reads the
/// rows of its pixels' K bytes, 16-channel blocks of quad-packed weights, their int32 biases and
/// `RequantBlock` tables, and stores requantized bytes at the output rows (`QuadTileArguments`).
public protocol QuadTiles {
    /// Pixels of the main tile, which covers two 16-channel blocks side by side.
    static var pairTilePixels: Int { get }
    /// Pixels of the tile of a last single 16-channel block.
    static var blockTilePixels: Int { get }
    /// The im2col chunks of the family's convolution (u8 values, whole tiles, slack for its
    /// vector stores).
    static var im2col: Im2colScratch { get }
    /// Whether the tiles may skip padding taps (default true: the extension below).
    static var skipsPaddingTaps: Bool { get }
    /// `pairTilePixels` pixels x the 32 channels of two blocks.
    static func pairTile(_ t: QuadTileArguments)
    /// `blockTilePixels` pixels x the 16 channels of one block.
    static func blockTile(_ t: QuadTileArguments)
    /// One pixel x the 16 channels of one block, stored at `t.pixelOutput`.
    static func pixel(_ t: QuadTileArguments)
    /// Whether the tiles read the chunk's rows as `arrange` lays them out (default false: as
    /// im2col writes them, or a pointwise layer's input in place).
    static var arrangesRows: Bool { get }
    /// Writes the rows of `pixels` pixels (`kPadded` bytes each, at `rows`) into `arranged` (as
    /// many bytes, and the layout's slack) in the order the tiles read: each main tile's pixels
    /// from `kPadded * p` on (p a multiple of `pairTilePixels`), the rest at `kPadded * p` as
    /// they are.
    static func arrange(_ rows: UnsafePointer<UInt8>, pixels: Int, kPadded: Int, into arranged: UnsafeMutablePointer<UInt8>)
}

/// Families whose 32-channel tile is their 16-channel tile twice, block by block (NEON, i8mm,
/// AVX-VNNI): they give `blockTile`, `blockTilePixels` and `pixel`, and the pair tile follows.
public protocol QuadBlockTiles: QuadTiles {}

extension QuadBlockTiles {
    /// The pair tile covers as many pixels as the block tile.
    @inlinable
    public static var pairTilePixels: Int { blockTilePixels }

    /// The block tile on the first block, then on the second.
    @inlinable @inline(__always)
    public static func pairTile(_ t: QuadTileArguments) {
        blockTile(t.firstBlock)
        blockTile(t.secondBlock)
    }
}

extension QuadTiles {
    /// Whether the tiles may skip the padding taps where they contribute nothing (input zero
    /// point 0): true unless a family's products count every tap (the arm64 families shift
    /// inputs to s8, so a padding byte 0 contributes -128 x w, which their bias already holds).
    @inlinable
    public static var skipsPaddingTaps: Bool { true }

    /// The rows as they are (no arrangement).
    @inlinable
    public static var arrangesRows: Bool { false }

    /// Nothing to arrange.
    @inlinable @inline(__always)
    public static func arrange(_ rows: UnsafePointer<UInt8>, pixels: Int, kPadded: Int, into arranged: UnsafeMutablePointer<UInt8>) {}
}

/// Scratch bytes one thread needs for `Tiles`' convolution of `geometry` over `totalRows` output
/// rows: the im2col chunk and its pixel table, and for tiles that arrange the rows
/// (`QuadTiles.arrangesRows`) a chunk of arranged rows after them; none for a pointwise layer
/// whose tiles read its input pixels in place as the rows of the product (`quadIsPointwise`).
@inlinable @inline(__always)
public func quadScratchBytes<Tiles: QuadTiles>(_ geometry: ConvolutionGeometry, totalRows: Int, tiles: Tiles.Type) -> Int {
    let kPadded = quadPaddedK(geometry)
    guard Tiles.arrangesRows else {
        return quadIsPointwise(geometry) ? 0 : Tiles.im2col.bytes(outWidth: geometry.outWidth, kPadded: kPadded, totalRows: totalRows)
    }
    // The arranged rows of the largest chunk after its table.
    let tiled = Tiles.im2col.largestChunk(outWidth: geometry.outWidth, kPadded: kPadded, totalRows: totalRows)
    return quadArrangedOffset(Tiles.im2col, tiledPixels: tiled, kPadded: kPadded) + tiled * kPadded + Tiles.im2col.slack
}

/// Where the rows arranged by a family that arranges them (`QuadTiles.arrangesRows`) start: after
/// the pixel table of a chunk of `tiledPixels`, 64-byte aligned.
@inlinable
public func quadArrangedOffset(_ layout: Im2colScratch, tiledPixels: Int, kPadded: Int) -> Int {
    (layout.pixelTableOffset(tiledPixels: tiledPixels, kPadded: kPadded) + tiledPixels * MemoryLayout<PixelTaps>.stride + 63) / 64 * 64
}

/// K rounded up to whole quads: the length of an im2col row of a quad family.
@inlinable
public func quadPaddedK(_ geometry: ConvolutionGeometry) -> Int { 4 * ((geometry.kernelSize + 3) / 4) }

/// Whether a call reads its input rows in place: a 1x1, stride-1, unpadded convolution over a
/// multiple of 4 channels, whose input pixels already are the rows of the product.
@inlinable
public func quadIsPointwise(_ g: ConvolutionGeometry) -> Bool {
    g.isPointwise && g.padTop == 0 && g.padLeft == 0 && g.inChannels % 4 == 0
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight) with `Tiles`' microkernels. The pixels are taken in
/// `PixelOrder`; a part is a contiguous run of whole main tiles of that order (so parts differ by
/// at most one tile, whatever the row count), taken in chunks of whole tiles whose im2col fits
/// `Tiles.im2col`'s budget; each pair of 16-channel blocks then sweeps the chunk (so a block's weights
/// stream from cache once per chunk), and the few pixels that do not fill a tile at the part's
/// end go one at a time. Padding taps are skipped when they contribute nothing: input zero point
/// 0 (as after a ReLU), channels a multiple of 4 (so taps start on a quad).
@inlinable @inline(__always)
public func convolveQuads<Tiles: QuadTiles>(_ a: ConvolutionCall, part: Int, of parts: Int, tiles: Tiles.Type) {
    let g = a.geometry
    let layout = Tiles.im2col
    let rows = 0..<a.rowCount
    let kQuads = a.kGroups
    let packedWeights = a.weights.assumingMemoryBound(to: Int8.self)
    let scratch = a.scratch.assumingMemoryBound(to: UInt8.self)
    let kPadded = 4 * kQuads
    let blocks = (g.outChannels + 15) / 16
    let pointwise = quadIsPointwise(g)
    let skipPadding = Tiles.skipsPaddingTaps && a.inputZeroPoint == 0 && g.inChannels % 4 == 0 && !pointwise
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let unit = Tiles.pairTilePixels
    let tileCount = (order.pixelCount + unit - 1) / unit
    var first = tileCount * part / parts * unit
    let end = min(order.pixelCount, tileCount * (part + 1) / parts * unit)
    // (a pointwise layer is read in place, in one chunk, unless the tiles arrange its rows)
    let inPlace = pointwise && !Tiles.arrangesRows
    let chunk = inPlace ? max(end - first, 1) : layout.chunkPixels(kPadded: kPadded)
    // The table follows the rows of the largest chunk of this part (no larger than the layer's),
    // the arranged rows the table.
    let tiled = inPlace ? 0 : layout.tiled(min(chunk, end - first))
    let table = UnsafeMutableRawPointer(scratch + (inPlace ? 0 : layout.pixelTableOffset(tiledPixels: tiled, kPadded: kPadded)))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    let arranged = scratch + (Tiles.arrangesRows ? quadArrangedOffset(layout, tiledPixels: tiled, kPadded: kPadded) : 0)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let pointwiseBase = rows.lowerBound * g.outWidth + first
        if !pointwise { im2colQuads(a, order: order, pixels: first..<last, kPadded: kPadded, rows: scratch, table: table) }
        // Rows of the product (pixel p's K bytes): in place, or im2col's; then as the tiles arrange them.
        var source = pointwise ? a.input + pointwiseBase * kPadded : UnsafePointer(scratch)
        if Tiles.arrangesRows {
            Tiles.arrange(source, pixels: pixels, kPadded: kPadded, into: arranged)
            source = UnsafePointer(arranged)
        }
        @inline(__always) func tile(_ p: Int) -> UnsafePointer<UInt8> { source + p * kPadded }
        // The output rows and K runs of the tile of `count` pixels from p.
        @inline(__always) func destination(_ p: Int, _ count: Int) -> (TileOutput, TileTaps) {
            if pointwise {
                return (TileOutput(base: a.output + (pointwiseBase + p) * g.outChannels, stride: g.outChannels, table: nil),
                        TileTaps.all(kQuads))
            }
            return (TileOutput(base: a.output, stride: g.outChannels, table: UnsafePointer(table + p)),
                    taps(UnsafePointer(table + p), count: count, geometry: g, kGroups: kQuads, groupSize: 4, skip: skipPadding))
        }
        var block = 0
        while block + 1 < blocks {  // pairs of 16-channel blocks
            let weights = packedWeights + block * kQuads * 64
            let requant = a.requant + block * RequantBlock.bytes
            let channels = min(32, g.outChannels - block * 16)
            var p = 0
            while p + Tiles.pairTilePixels <= pixels {
                let (output, taps) = destination(p, Tiles.pairTilePixels)
                Tiles.pairTile(QuadTileArguments(rows: tile(p), kPadded: kPadded, taps: taps, weights: weights, kQuads: kQuads,
                                                 bias: a.bias + block * 16, requant: requant, output: output,
                                                 channel: block * 16, channels: channels))
                p += Tiles.pairTilePixels
            }
            while p < pixels {  // the part's last few pixels, one at a time (a tile would cost a whole one)
                let (output, taps) = destination(p, 1)
                let both = QuadTileArguments(rows: tile(p), kPadded: kPadded, taps: taps, weights: weights, kQuads: kQuads,
                                             bias: a.bias + block * 16, requant: requant, output: output,
                                             channel: block * 16, channels: channels)
                Tiles.pixel(both.firstBlock)
                Tiles.pixel(both.secondBlock)
                p += 1
            }
            block += 2
        }
        if block < blocks {  // a last single block
            let weights = packedWeights + block * kQuads * 64
            let requant = a.requant + block * RequantBlock.bytes
            let channels = g.outChannels - block * 16
            var p = 0
            while p + Tiles.blockTilePixels <= pixels {
                let (output, taps) = destination(p, Tiles.blockTilePixels)
                Tiles.blockTile(QuadTileArguments(rows: tile(p), kPadded: kPadded, taps: taps, weights: weights, kQuads: kQuads,
                                                  bias: a.bias + block * 16, requant: requant, output: output,
                                                  channel: block * 16, channels: channels))
                p += Tiles.blockTilePixels
            }
            while p < pixels {  // the part's last few pixels, one at a time
                let (output, taps) = destination(p, 1)
                Tiles.pixel(QuadTileArguments(rows: tile(p), kPadded: kPadded, taps: taps, weights: weights, kQuads: kQuads,
                                              bias: a.bias + block * 16, requant: requant, output: output,
                                              channel: block * 16, channels: channels))
                p += 1
            }
        }
        first = last
    }
}

/// Writes the im2col rows of the pixels at `pixels` in `order` into `rows`, and their table
/// entries: per pixel, kh x kw x C input bytes (the zero point where the window is in the
/// padding, which the bias correction cancels), then zeros up to `kPadded` (their weights are
/// zero). Stores may run up to 16 bytes past a chunk's rows (`Im2colScratch.slack`). Runs of
/// pixels along an output row whose windows lie wholly inside the image take a tight loop
/// (`im2colInsideRun`); the others, at the image's border, go one by one (`im2colPixel`).
@inlinable @inline(__always)
public func im2colQuads(_ a: ConvolutionCall, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                        rows: UnsafeMutablePointer<UInt8>, table: UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels
    let inImage = g.inHeight &* g.inWidth &* c
    // The output columns whose windows lie inside the image horizontally (maybe none).
    let insideLow = (g.padLeft + g.strideWidth - 1) / g.strideWidth
    let insideHigh = max(insideLow, g.inWidth + g.padLeft >= g.kernelWidth
                                        ? (g.inWidth + g.padLeft - g.kernelWidth) / g.strideWidth + 1 : 0)
    var dst = rows
    var entry = table
    order.forEachRun(pixels) { row, n, oy, columns in
        let image = a.input + n &* inImage
        let iy0 = oy &* g.strideHeight &- g.padTop
        var x = columns.lowerBound
        if iy0 >= 0 && iy0 &+ g.kernelHeight <= g.inHeight {  // the rows' windows are inside vertically
            let low = min(max(x, insideLow), columns.upperBound), high = max(low, min(insideHigh, columns.upperBound))
            while x < low {
                im2colPixel(a, image: image, row: row, y: oy, x: x, kPadded: kPadded, dst: &dst, entry: &entry)
                x &+= 1
            }
            if low < high {
                im2colInsideRun(a, image: image, row: row, y: oy, columns: low..<high, kPadded: kPadded,
                                dst: &dst, entry: &entry)
                x = high
            }
        }
        while x < columns.upperBound {
            im2colPixel(a, image: image, row: row, y: oy, x: x, kPadded: kPadded, dst: &dst, entry: &entry)
            x &+= 1
        }
    }
}

/// The im2col rows and table entries of the pixels at `columns` of output row `row` (its image's
/// row `y`), whose windows all lie inside the image: kernel rows are plain copies. A kernel row
/// of 8 to 16 bytes (the classic first layer's 11) is copied kernel row by kernel row across
/// the pixels, which keeps the loops to a few registers: the rows but the last as one 16-byte
/// vector each, whose excess lands on the next kernel row of its pixel (written after it), the
/// last one exactly (two 8-byte moves, so the 4-byte K padding stored first survives, and its
/// excess, on the next pixel's first row, is rewritten). This reads nothing past the window's
/// last byte. Shorter rows move as one 16-byte vector each, pixel by pixel, where the image lets
/// the last one over-read; longer ones with `update`.
@inlinable @inline(__always)
func im2colInsideRun(_ a: ConvolutionCall, image: UnsafePointer<UInt8>, row: Int, y: Int, columns: Range<Int>, kPadded: Int,
                     dst: inout UnsafeMutablePointer<UInt8>, entry: inout UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels
    let run = g.kernelWidth &* c, rowStride = g.inWidth &* c, step = g.strideWidth &* c
    let kernelHeight = g.kernelHeight
    let pad = kernelHeight &* run < kPadded
    let imageEnd = image + g.inHeight &* rowStride
    var taps = PixelTaps(pixel: 0, kyStart: 0, kyEnd: UInt8(truncatingIfNeeded: kernelHeight),
                         kxStart: 0, kxEnd: UInt8(truncatingIfNeeded: g.kernelWidth))
    let pixelBase = row &* g.outWidth
    var source = image + (y &* g.strideHeight &- g.padTop) &* rowStride
        + (columns.lowerBound &* g.strideWidth &- g.padLeft) &* c
    if run >= 8 && run <= 16 {
        let count = columns.count
        // The table entries and the K padding (fewer than 4 zero bytes, their weights are zero
        // too): one 4-byte store, whose excess the next pixel's first row, the chunk's spare room
        // or the slack absorb.
        var to = dst + kernelHeight &* run
        for x in columns {
            taps.pixel = Int32(truncatingIfNeeded: pixelBase &+ x)
            entry.initialize(to: taps)
            entry += 1
            if pad { UnsafeMutableRawPointer(to).storeBytes(of: 0, as: UInt32.self) }
            to += kPadded
        }
        // A vector reads 16 - run bytes past its kernel row, within the next (16 <= 2 * run).
        for ky in 0..<(kernelHeight &- 1) {
            var from = source + ky &* rowStride
            to = dst + ky &* run
            for _ in 0..<count {
                copy16(from: from, to: to)
                from += step
                to += kPadded
            }
        }
        var from = source + (kernelHeight &- 1) &* rowStride
        to = dst + (kernelHeight &- 1) &* run
        for _ in 0..<count {
            copy8(from: from, to: to)
            copy8(from: from + (run &- 8), to: to + (run &- 8))
            from += step
            to += kPadded
        }
        dst += count &* kPadded
        return
    }
    // Pixels whose last kernel row may be read as a whole vector: 16 bytes or more before the image's end.
    let lastRow = (kernelHeight &- 1) &* rowStride
    var vectorPixels = 0
    if run <= 16 {
        let room = imageEnd - (source + lastRow) - 16
        vectorPixels = room < 0 ? 0 : min(columns.count, room / step &+ 1)
    }
    let vectorEnd = columns.lowerBound &+ vectorPixels
    for x in columns {
        taps.pixel = Int32(truncatingIfNeeded: pixelBase &+ x)
        entry.initialize(to: taps)
        entry += 1
        let vector = x < vectorEnd
        var from = source, to = dst
        for _ in 0..<kernelHeight {
            if vector { copy16(from: from, to: to) } else { UnsafeMutableRawPointer(to).copyMemory(from: from, byteCount: run) }
            from += rowStride
            to += run
        }
        // K is padded to whole quads with fewer than 4 zero bytes (their weights are zero too):
        // one 4-byte store, whose excess the next pixel, the chunk's spare room or the slack absorb.
        if pad { UnsafeMutableRawPointer(to).storeBytes(of: 0, as: UInt32.self) }
        source += step
        dst += kPadded
    }
}

/// The im2col row and table entry of one pixel (output row `row`, its image's `y`, `x`), whose
/// window may reach into the padding: the zero point stands for the padding's bytes.
@inlinable @inline(__always)
func im2colPixel(_ a: ConvolutionCall, image: UnsafePointer<UInt8>, row: Int, y oy: Int, x ox: Int, kPadded: Int,
                 dst: inout UnsafeMutablePointer<UInt8>, entry: inout UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels, z = UInt8(truncatingIfNeeded: a.inputZeroPoint)
    let run = g.kernelWidth * c
    let inImage = g.inHeight * g.inWidth * c
    let iy0 = oy * g.strideHeight - g.padTop
    let ix0 = ox * g.strideWidth - g.padLeft
    let taps = PixelTaps(pixel: row * g.outWidth + ox, y: oy, x: ox, geometry: g)
    entry.initialize(to: taps)
    entry += 1
    let kxStart = Int(taps.kxStart), kxEnd = Int(taps.kxEnd)
    let start = dst
    let rowStride = g.inWidth * c
    for ky in 0..<g.kernelHeight {
        let iy = iy0 + ky
        if iy < 0 || iy >= g.inHeight || kxEnd <= kxStart {
            dst.initialize(repeating: z, count: run)
        } else {
            if kxStart > 0 { dst.initialize(repeating: z, count: kxStart * c) }
            copyRun(from: image + iy * rowStride + (ix0 + kxStart) * c, to: dst + kxStart * c,
                    count: (kxEnd - kxStart) * c, sourceEnd: image + inImage)
            if kxEnd < g.kernelWidth { (dst + kxEnd * c).initialize(repeating: z, count: (g.kernelWidth - kxEnd) * c) }
        }
        dst += run
    }
    if g.kernelHeight * run < kPadded { UnsafeMutableRawPointer(dst).storeBytes(of: 0, as: UInt32.self) }
    dst = start + kPadded
}

/// One unaligned 16-byte vector copy.
@inlinable @inline(__always)
func copy16(from source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>) {
    UnsafeMutableRawPointer(destination).storeBytes(of: UnsafeRawPointer(source).loadUnaligned(as: SIMD16<UInt8>.self),
                                                    as: SIMD16<UInt8>.self)
}

/// One unaligned 8-byte copy.
@inlinable @inline(__always)
func copy8(from source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>) {
    UnsafeMutableRawPointer(destination).storeBytes(of: UnsafeRawPointer(source).loadUnaligned(as: UInt64.self),
                                                    as: UInt64.self)
}

/// Copies `count` bytes. Short runs (a kernel row of a few channels at the image's border) move
/// as one 16-byte vector when the source allows the over-read; the
/// bytes stored past `count` land where im2col writes next (the rest of this pixel, the next
/// pixel, the room for a chunk's last tile or the 16 bytes of scratch slack), never past the
/// scratch; no kernel reads bytes past a chunk's last pixel.
@inlinable @inline(__always)
func copyRun(from source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>, count: Int,
             sourceEnd: UnsafePointer<UInt8>) {
    if count <= 16 && source + 16 <= sourceEnd {
        copy16(from: source, to: destination)
    } else {
        // (copyMemory, a memmove in both builds: Embedded Swift 6.3.1 makes
        // update(from:count:) a call per byte; docs/ARCHITECTURE.md, "Embedded Swift")
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count)
    }
}

/// Packs one convolution for a quad family: int8 weights by K quads (`[block][blockQuads][16][4]`,
/// `QuadWeights.swift`: what one vpdpbusd, or a vpmaddubsw + vpmaddwd pair, multiplies per 16
/// channels), the input zero point folded into the bias, and the shared requantization tables;
/// nil when memory runs out. The kernels multiply raw u8 inputs, so the bias becomes
/// `bias - z * sum(w)`: acc = bias - z * sum(w) + sum(w * x), and wrapping int32 arithmetic is
/// exact there since the true accumulator fits in int32. A block holds `blockQuads` quads (K's
/// quads unless a family asks for more, as AMX does for whole 16-quad tiles); the quads past K
/// are zero weights. When the model carries the layout ready made (`layer.quadWeights`, format
/// 1.2) and the family wants K's quads, the weights are read in place: only the biases and the
/// requantization tables are made.
public func packQuads(_ layer: ConvolutionWeights, blockQuads: Int? = nil) -> PackedConvolution? {
    let k = layer.kernelSize
    let kQuads = max(blockQuads ?? 0, (k + 3) / 4)
    let packed: PackedConvolution
    if let quads = layer.quadWeights, kQuads == (k + 3) / 4 {
        guard let p = PackedConvolution(borrowingWeights: UnsafeRawPointer(quads), outChannels: layer.outChannels,
                                        kGroups: kQuads, groupBytes: 4) else { return nil }
        packed = p
    } else {
        guard let p = PackedConvolution(outChannels: layer.outChannels, kGroups: kQuads, groupBytes: 4 * 1) else { return nil }
        packed = p
        // (the storage is zeroed, so the K padding and the padding channels stay 0)
        writeQuadWeights(layer.weights, outChannels: layer.outChannels, kernelSize: k, blockQuads: kQuads, to: packed.weights)
    }
    // The sums are a separate pass the compiler vectorizes; none when the zero point is 0.
    for o in 0..<layer.outChannels {
        var correction: Int32 = 0
        if layer.inputZeroPoint != 0 {
            var sum: Int32 = 0
            for kk in 0..<k { sum &+= Int32(layer.weights[o * k + kk]) }
            correction = layer.inputZeroPoint &* sum
        }
        packed.bias[o] = layer.bias[o] &- correction
    }
    RequantBlock.fill(packed, from: layer)
    return packed
}
