// The int16-pair convolution driver shared by the families that multiply int16 pairs (AVX2's
// vpmaddwd path, the portable family's pmaddwd): the split of a call into parts of whole tiles,
// the im2col chunks into int16 with the input zero point subtracted (padding stored as 0, so
// tiles may skip it for any zero point), and the sweep of each 16-channel weight block over a
// chunk. Generic over the family's microkernel (`Int16PairTile`) and @inlinable, so that each
// family's module specializes it and compiles it with its own flags (-mavx2 in NiNAVX2, the
// baseline in NiNPortable): the widening loops vectorize for that target.

/// A family's microkernel for `convolutionInt16Pairs`: `pixels` output pixels x 16 channels over
/// weights packed `[block][kPairs][16][2]` as int16.
public protocol Int16PairTile {
    /// Output pixels per tile; the im2col chunks are whole tiles (a last partial tile's rows are 0).
    static var pixels: Int { get }

    /// Computes one tile (`Int16PairTileArguments`).
    static func compute(_ t: Int16PairTileArguments)
}

/// One microkernel call of `convolutionInt16Pairs`: `rows` (1 to the tile's `pixels`) output
/// pixels x 16 channels, int32 accumulators from `bias` over the K pairs of `taps` of the im2col
/// rows at `a` (`kPadded` int16 apart, all `pixels` rows readable) against `weights` (one block),
/// requantized with the block's `RequantBlock` tables at `requant`, the first `channels` bytes
/// stored at `output`'s rows.
public struct Int16PairTileArguments {
    public var a: UnsafePointer<Int16>
    public var kPadded: Int
    public var taps: TileTaps
    public var weights: UnsafePointer<Int16>
    public var bias: UnsafePointer<Int32>
    public var requant: UnsafeRawPointer
    public var output: TileOutput
    public var rows: Int, channels: Int

    /// The arguments from their values.
    @inlinable @inline(__always)
    public init(a: UnsafePointer<Int16>, kPadded: Int, taps: TileTaps, weights: UnsafePointer<Int16>,
                bias: UnsafePointer<Int32>, requant: UnsafeRawPointer, output: TileOutput, rows: Int, channels: Int) {
        self.a = a; self.kPadded = kPadded; self.taps = taps; self.weights = weights; self.bias = bias
        self.requant = requant; self.output = output; self.rows = rows; self.channels = channels
    }
}

/// Computes part `part` of `parts` of the output rows of a convolution call (`a.rowCount` rows,
/// indices into batch x outHeight), with weights packed as int16 by K pairs in blocks of 16
/// channels (`a.kGroups` pairs) and `layout` describing `a.scratch`. Pixels are taken in
/// `PixelOrder`; a part is a run of whole tiles of that order, taken in chunks whose im2col fits
/// the layout's budget; each 16-channel weight block then sweeps the chunk, so weights stream
/// from cache once per chunk. A tile reads only the K pairs of the kernel taps that reach the
/// image for one of its pixels: im2col stores padding as 0 (x - z with x = z), so skipping the
/// others is exact for any zero point (when the channels are even, so that taps start on a pair).
@inlinable @inline(__always)
public func convolutionInt16Pairs<Tile: Int16PairTile>(_ a: ConvolutionCall, part: Int, of parts: Int,
                                                       layout: Im2colScratch, tile: Tile.Type) {
    let g = a.geometry
    let rows = 0..<a.rowCount
    let kPairs = a.kGroups
    let scratch = a.scratch.assumingMemoryBound(to: Int16.self)
    let packedWeights = a.weights.assumingMemoryBound(to: Int16.self)
    let kPadded = 2 * kPairs
    let blocks = (g.outChannels + 15) / 16
    let tilePixels = Tile.pixels
    assert(layout.tilePixels == tilePixels, "the im2col layout's chunks must be whole tiles")
    // A 1x1, stride-1, unpadded conv over an even channel count: pixels in place, in order, and
    // their im2col is one contiguous widening.
    let pointwise = g.isPointwise && g.padTop == 0 && g.padLeft == 0 && g.inChannels == kPadded
    let skipPadding = g.inChannels % 2 == 0 && !pointwise
    let order = PixelOrder(rows: rows, geometry: g, skipPadding: skipPadding)
    let tiles = (order.pixelCount + tilePixels - 1) / tilePixels
    var first = tiles * part / parts * tilePixels
    let end = min(order.pixelCount, tiles * (part + 1) / parts * tilePixels)
    let chunk = layout.chunkPixels(kPadded: kPadded)
    let tiled = layout.tiled(min(chunk, max(end - first, 0)))
    let table = a.scratch.advanced(by: layout.pixelTableOffset(tiledPixels: tiled, kPadded: kPadded))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        let firstPixel = rows.lowerBound * g.outWidth + first  // (in place: the order is plain)
        if pointwise {
            widenInt16(a.input + firstPixel * kPadded, scratch, count: pixels * kPadded, zeroPoint: Int16(a.inputZeroPoint))
        } else {
            im2colInt16(a, order: order, pixels: first..<last, kPadded: kPadded, rows: scratch, table: table)
        }
        let padded = (pixels + tilePixels - 1) / tilePixels * tilePixels
        if padded > pixels {
            (scratch + pixels * kPadded).initialize(repeating: 0, count: (padded - pixels) * kPadded)
        }
        for block in 0..<blocks {
            let weights = packedWeights + block * kPairs * 32
            let requant = a.requant + block * RequantBlock.bytes
            let bias = a.bias + block * 16
            let channels = min(16, g.outChannels - block * 16)
            var p = 0
            while p < pixels {
                let count = min(tilePixels, pixels - p)
                let rowTable = UnsafePointer(table + p)
                let output = pointwise
                    ? TileOutput(base: a.output + (firstPixel + p) * g.outChannels + block * 16, stride: g.outChannels, table: nil)
                    : TileOutput(base: a.output + block * 16, stride: g.outChannels, table: rowTable)
                Tile.compute(Int16PairTileArguments(
                    a: scratch + p * kPadded, kPadded: kPadded,
                    taps: pointwise ? .all(kPairs)
                        : taps(rowTable, count: count, geometry: g, kGroups: kPairs, groupSize: 2, skip: skipPadding),
                    weights: weights, bias: bias, requant: requant, output: output, rows: count, channels: channels))
                p += tilePixels
            }
        }
        first = last
    }
}

/// Writes the im2col rows of the pixels at `pixels` in `order` into `rows`, and their
/// table entries: per pixel, kh x kw x C int16 values `x - z` (0 where the window is in the
/// padding), then zeros up to `kPadded`.
@inlinable @inline(__always)
func im2colInt16(_ a: ConvolutionCall, order: PixelOrder, pixels: Range<Int>, kPadded: Int,
                 rows: UnsafeMutablePointer<Int16>, table: UnsafeMutablePointer<PixelTaps>) {
    let g = a.geometry
    let c = g.inChannels, z = Int16(a.inputZeroPoint)
    let inImage = g.inHeight * g.inWidth * c
    var dst = rows
    var entry = table
    order.forEachPixel(pixels) { row, n, oy, ox in
        let image = a.input + n * inImage
        entry.initialize(to: PixelTaps(pixel: row * g.outWidth + ox, y: oy, x: ox, geometry: g))
        entry += 1
        let start = dst
        let iy0 = oy * g.strideHeight - g.padTop
        let ix0 = ox * g.strideWidth - g.padLeft
        let kxStart = max(0, -ix0), kxEnd = min(g.kernelWidth, g.inWidth - ix0)
        for ky in 0..<g.kernelHeight {
            let iy = iy0 + ky
            if iy < 0 || iy >= g.inHeight || kxEnd <= kxStart {
                dst.initialize(repeating: 0, count: g.kernelWidth * c)
                dst += g.kernelWidth * c
                continue
            }
            if kxStart > 0 {
                dst.initialize(repeating: 0, count: kxStart * c)
                dst += kxStart * c
            }
            widenInt16(image + (iy * g.inWidth + ix0 + kxStart) * c, dst, count: (kxEnd - kxStart) * c, zeroPoint: z)
            dst += (kxEnd - kxStart) * c
            if kxEnd < g.kernelWidth {
                dst.initialize(repeating: 0, count: (g.kernelWidth - kxEnd) * c)
                dst += (g.kernelWidth - kxEnd) * c
            }
        }
        let used = g.kernelHeight * g.kernelWidth * c
        if used < kPadded { dst.initialize(repeating: 0, count: kPadded - used) }
        dst = start + kPadded
    }
}

/// dst[i] = src[i] - zeroPoint as int16: a plain loop, which the loop vectorizer widens for the
/// module it is specialized in (vpmovzxbw + vpsubw with AVX2, punpcklbw + psubw on SSE2).
@inlinable @inline(__always)
func widenInt16(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Int16>, count: Int, zeroPoint: Int16) {
    for i in 0..<count { dst[i] = Int16(src[i]) &- zeroPoint }
}

/// Packs one convolution for `convolutionInt16Pairs`: per block of 16 output channels, int16
/// weights by K pairs (`[block][kPairs][16][2]`, what one vpmaddwd or pmaddwd multiplies), the
/// bias as is (im2col subtracts the input zero point), and the shared requantization tables; nil
/// when memory runs out. Plain Swift: it runs once per layer.
public func packInt16Pairs(_ layer: ConvolutionWeights) -> PackedConvolution? {
    let k = layer.kernelSize
    let kPairs = (k + 1) / 2
    guard let packed = PackedConvolution(outChannels: layer.outChannels, kGroups: kPairs, groupBytes: 2 * 2) else { return nil }
    // Channel by channel into its lane of its block (the storage is zeroed, so the K padding and
    // the padding channels stay 0).
    let weights = packed.weights.assumingMemoryBound(to: Int16.self)
    for o in 0..<layer.outChannels {
        let row = layer.weights + o * k
        let lane = weights + (o / 16) * kPairs * 16 * 2 + (o % 16) * 2
        for kk in 0..<k { lane[(kk >> 1) * 32 + (kk & 1)] = Int16(row[kk]) }
        packed.bias[o] = layer.bias[o]
    }
    RequantBlock.fill(packed, from: layer)
    return packed
}
