// The AMX convolution: the VNNI family's u8 im2col (pixels in `PixelOrder`, so a border tile
// shares the padding taps it skips), rows padded to whole 64-byte tiles, weights in tdpbusd's B
// layout padded likewise (PackAMX.swift), and tiles of 16 output pixels x 64 K bytes as A.
// Accumulators are blocked 2 x 2 in the C tiles: 32 pixels x 32 channels per K sweep, four
// tdpbusd per 16 quads of K. Every K chunk is a whole tile loaded straight from the rows: im2col
// rows, or a pointwise layer's input in place (the last one or two A tiles of its input, whose
// loads would run past its end, are copied into scratch first). The C tiles are stored and
// requantized with AVX-512 on the way out (the VNNI family's requantize16), bias added there.
// Generic over the tile instructions (`AMXTiles`): `convolutionAMX` runs the hardware,
// `convolutionAMXEmulated` the exact scalar emulator, on the same driver; the tile code is
// Tile32x32AMX.swift. Bit-exact with the reference kernel.
// Compiled with -mamx-tile -mamx-int8 and AVX-512 in its own target.

import _Builtin_intrinsics.intel
import NiNAVX512VNNI
import NiNKernelCore
import NiNAMXTiles

/// Output pixels per A tile (its rows), and output channels per B and C tile.
let amxTileRows = 16

/// The im2col chunks of the AMX convolution: u8 rows of K padded to whole tiles (`amxBlockQuads`;
/// the bytes past K are never written, their weights are zero), 16 bytes of slack, in whole
/// 16-pixel tiles (a tile load reads all 16 rows).
let im2colAMX = Im2colScratch(budget: 96 * 1024, valueBytes: 1, tilePixels: amxTileRows, slack: 16)

/// The thread scratch before the im2col rows: the tile configuration (64 bytes), the four C
/// tiles stored as int32 (4 KiB) for their rows to be written (`AMXPendingRows`). A pointwise
/// layer, which needs no im2col, stages there the rows of the A tiles that would read past the
/// end of its input (32 at most).
enum AMXScratch {
    static let configuration = 0
    static let accumulators = 64
    static let im2col = accumulators + 4 * 1024
}

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAMXScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int) -> Int {
    let rowBytes = amxRowBytes(blockQuads: amxBlockQuads(kernelSize: geometry.kernelSize))
    let rows = quadIsPointwise(geometry)
        ? 2 * amxTileRows * rowBytes
        : im2colAMX.bytes(outWidth: geometry.outWidth, kPadded: rowBytes, totalRows: totalRows)
    return AMXScratch.im2col + rows
}

/// Computes part `part` of `parts` of a convolution call on the AMX tiles, with the weights of
/// `packAMX`. Configures this thread's tiles unless an earlier layer of the run did; the run's
/// end releases them on the calling thread (`releaseAMXTiles`).
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAMX(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolutionAMXTiles(AMXHardware.self, a, part: part, of: parts)
}

/// `convolutionAMX` on the scalar AMX emulator: the same driver, on any CPU with AVX-512 VNNI.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func convolutionAMXEmulated(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    convolutionAMXTiles(AMXEmulator.self, a, part: part, of: parts)
}

/// Releases the calling thread's AMX tiles (`tilerelease`) if a convolution configured them:
/// called when a run ends, so the caller's thread leaves nin with its tiles in their initial state.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func releaseAMXTiles() { AMXHardware.releaseIfConfigured() }

/// `releaseAMXTiles` for the emulator's tiles.
@export(interface)  // compiled only here, with this target's flags (Embedded: not into callers)
public func releaseEmulatedAMXTiles() { AMXEmulator.releaseIfConfigured() }

/// The driver. A part is a contiguous run of whole pairs of 16-pixel tiles of `PixelOrder`
/// (parts differ by at most one pair), taken in im2col chunks of whole tiles; each pair of tiles
/// (32 pixels) then meets every pair of 16-channel blocks in the C tiles. A 1x1, stride-1 convolution over
/// a multiple of 4 channels reads its input pixels in place as the A rows.
@inline(__always)
func convolutionAMXTiles<T: AMXTiles>(_ tiles: T.Type, _ a: ConvolutionCall, part: Int, of parts: Int) {
    let g = a.geometry
    let blockQuads = a.kGroups, kBytes = 4 * blockQuads  // whole tiles of K (packAMX): the reach of a row's loads
    let rowBytes = amxRowBytes(blockQuads: blockQuads)  // im2col and staged rows
    let kQuads = quadPaddedK(g) / 4  // K's own quads
    let blocks = (g.outChannels + 15) / 16
    let pointwise = quadIsPointwise(g)
    let skipPadding = a.inputZeroPoint == 0 && g.inChannels % 4 == 0 && !pointwise
    let order = PixelOrder(rows: 0..<a.rowCount, geometry: g, skipPadding: skipPadding)
    let pairPixels = 2 * amxTileRows  // (parts of whole tile pairs: no part boundary leaves a lone A tile)
    let pairCount = (order.pixelCount + pairPixels - 1) / pairPixels
    var first = pairCount * part / parts * pairPixels
    let end = min(order.pixelCount, pairCount * (part + 1) / parts * pairPixels)
    guard first < end else { return }
    let weights = a.weights.assumingMemoryBound(to: Int8.self)
    // The rows of the last block computed, written between the next block's K chunks: spread
    // over a block's chunks (at least 2 per chunk), they hide behind its tdpbusd.
    var pending = AMXPendingRows(accumulators: a.scratch + AMXScratch.accumulators,
                                 output: TileOutput(base: a.output, stride: g.outChannels, table: nil),
                                 block: AMXBlock(weights: weights, blockBytes: 0, bias: a.bias, requant: a.requant, channel: 0, channels: 0))
    let rowsPerChunk = max(2, (2 * amxTileRows * amxTileQuads + blockQuads - 1) / blockQuads)
    let rowsScratch = (a.scratch + AMXScratch.im2col).assumingMemoryBound(to: UInt8.self)
    let chunk = pointwise ? end - first : im2colAMX.chunkPixels(kPadded: rowBytes)
    let tiled = pointwise ? 0 : im2colAMX.tiled(min(chunk, end - first))
    let table = UnsafeMutableRawPointer(rowsScratch + (pointwise ? 0 : im2colAMX.pixelTableOffset(tiledPixels: tiled, kPadded: rowBytes)))
        .bindMemory(to: PixelTaps.self, capacity: tiled)
    // In place, pixel p's row is its `4 * kQuads` input bytes, and a tile's loads read
    // `kBytes` from each of its 16 or 32 rows: within the input up to its last whole reach.
    let inputEnd = a.input + order.pixelCount * 4 * kQuads
    AMXTileConfiguration.writeUniform(to: a.scratch + AMXScratch.configuration, rows: amxTileRows, bytesPerRow: 64)
    T.configureOnce(a.scratch + AMXScratch.configuration)  // (kept for the run's later layers)
    while first < end {
        let last = min(first + chunk, end)
        let pixels = last - first
        pending.finish()  // (its output rows are found through the pixel table im2col rewrites)
        if !pointwise { im2colQuads(a, order: order, pixels: first..<last, kPadded: rowBytes, rows: rowsScratch, table: table) }
        let source = pointwise ? a.input + first * 4 * kQuads : UnsafePointer(rowsScratch)
        let stride = pointwise ? 4 * kQuads : rowBytes
        var p = 0
        while p < pixels {
            let count = min(2 * amxTileRows, pixels - p)
            let pixelTiles = count > amxTileRows ? 2 : 1
            let output: TileOutput, runs: TileTaps
            if pointwise {
                output = TileOutput(base: a.output + (first + p) * g.outChannels, stride: g.outChannels, table: nil)
                runs = .all(kQuads)
            } else {
                output = TileOutput(base: a.output, stride: g.outChannels, table: UnsafePointer(table + p))
                runs = taps(UnsafePointer(table + p), count: count, geometry: g, kGroups: kQuads, groupSize: 4, skip: skipPadding)
            }
            // A tile's loads reach `kBytes` into its 16th row: in place, within the input, or
            // else the tile's real rows are staged in the scratch, padded with zeros.
            var x = AMXRows(base: (source + p * stride, source + (p + amxTileRows) * stride), stride: (stride, stride), count: count)
            if pointwise {
                for t in 0..<pixelTiles {
                    let rows = source + (p + t * amxTileRows) * stride
                    guard rows + (amxTileRows - 1) * stride + kBytes > inputEnd else { continue }
                    let staged = stageRows(rows, stride: stride, count: min(amxTileRows, count - t * amxTileRows),
                                           bytes: 4 * kQuads, into: rowsScratch + t * amxTileRows * rowBytes, rowBytes: rowBytes)
                    if t == 0 { (x.base.0, x.stride.0) = (staged, rowBytes) } else { (x.base.1, x.stride.1) = (staged, rowBytes) }
                }
            }
            var block = 0
            while block < blocks {
                let channels = min(2 * amxTileRows, g.outChannels - block * 16)
                let b = AMXBlock(weights: weights + block * blockQuads * 64, blockBytes: blockQuads * 64, bias: a.bias + block * 16,
                                 requant: a.requant + block * RequantBlock.bytes, channel: block * 16, channels: channels)
                switch (pixelTiles == 2, channels > 16) {
                case (true, true): amxTile(T.self, pixelTiles: 2, channelBlocks: 2, x, runs, b, output, &pending, rowsPerChunk: rowsPerChunk)
                case (true, false): amxTile(T.self, pixelTiles: 2, channelBlocks: 1, x, runs, b, output, &pending, rowsPerChunk: rowsPerChunk)
                case (false, true): amxTile(T.self, pixelTiles: 1, channelBlocks: 2, x, runs, b, output, &pending, rowsPerChunk: rowsPerChunk)
                case (false, false): amxTile(T.self, pixelTiles: 1, channelBlocks: 1, x, runs, b, output, &pending, rowsPerChunk: rowsPerChunk)
                }
                block += 2
            }
            p += 2 * amxTileRows
        }
        first = last
    }
    pending.finish()
}

/// Bytes from one im2col (or staged) A row to the next: K's whole tiles, rounded up to an odd
/// number of 64-byte cache lines (the line added is never read). On Sapphire Rapids, tile loads
/// whose 16 rows lie an even number of lines apart (the classic 5x5 layer's 38, the 3x3's 36)
/// stream from L2 measurably slower than with an odd stride: a 2 x 2 tile GEMM fed from L2 gains
/// about 7% from the odd stride in published measurements; the cause is thought to be the
/// rows' lines falling on one half of the cache's banks.
func amxRowBytes(blockQuads: Int) -> Int {
    64 * ((blockQuads / amxTileQuads) | 1)
}

/// Copies the `bytes` bytes of each of `count` rows (`stride` apart from `rows`) into the rows of
/// a 16-row A tile at `staged`, `rowBytes` apart, and zeros the rest of the tile; returns it.
@inline(__always)
func stageRows(_ rows: UnsafePointer<UInt8>, stride: Int, count: Int, bytes: Int,
               into staged: UnsafeMutablePointer<UInt8>, rowBytes: Int) -> UnsafePointer<UInt8> {
    staged.initialize(repeating: 0, count: amxTileRows * rowBytes)
    for r in 0..<count { UnsafeMutableRawPointer(staged + r * rowBytes).copyMemory(from: rows + r * stride, byteCount: bytes) }
    return UnsafePointer(staged)
}
