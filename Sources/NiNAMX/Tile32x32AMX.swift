// The AMX convolution's microkernel: up to 32 pixels x 32 channels in the four C tiles (2 x 2
// blocks of 16 x 16 int32; A in tiles 4-5, B in 6-7), K in whole chunks of 16 quads (the
// chunks that meet the tile's K runs), then the C tiles stored, to be requantized with AVX-512
// a few rows at a time between the next block's K chunks (`AMXPendingRows`).

import _Builtin_intrinsics.intel
import NiNAVX512VNNI
import NiNKernelCore
import NiNAMXTiles

/// The A rows of up to 32 pixels, two tiles of 16: pixel 16t + r's K bytes at `base.t + r *
/// stride.t` (im2col rows, input rows in place, or rows staged in scratch). A tile loads 64 bytes
/// of each of its 16 rows, past K and past the `count`th row: bytes whose weights are zero, and
/// rows whose outputs are not stored.
struct AMXRows {
    var base: (UnsafePointer<UInt8>, UnsafePointer<UInt8>), stride: (Int, Int), count: Int
}

/// One or two 16-channel blocks: their packed weights (the second `blockBytes` after the
/// first), biases, requantization tables, first output channel and channel count (1 to 32).
struct AMXBlock {
    var weights: UnsafePointer<Int8>, blockBytes: Int, bias: UnsafePointer<Int32>, requant: UnsafeRawPointer
    var channel: Int, channels: Int
}

/// A finished block's accumulators, stored in scratch (C tile 2t + j at `1024 * (2t + j)`),
/// waiting to be requantized and written: a few pixel rows at a time between the next block's
/// tdpbusd (the vector units are idle while the tiles multiply, so this work hides behind
/// them), the rest when that block's K loop ends. oneDNN's AMX kernels interleave their
/// post-processing the same way.
struct AMXPendingRows {
    /// Where the C tiles are stored (4 KiB): the same for every block, since a block's rows are
    /// all written before the next block stores its tiles.
    let accumulators: UnsafeMutableRawPointer
    var output: TileOutput
    var block: AMXBlock
    var path = RequantPath.general
    /// Rows `next..<count` are still to be written (pixel r: row r % 16 of pixel tile r / 16).
    var next = 0, count = 0

    init(accumulators: UnsafeMutableRawPointer, output: TileOutput, block: AMXBlock) {
        self.accumulators = accumulators; self.output = output; self.block = block
    }

    /// Requantizes and writes up to `rows` more rows.
    @inline(__always)
    mutating func write(rows: Int) {
        let end = min(count, next &+ rows)
        guard next < end else { return }
        let b = block
        let low = min(b.channels, 16), high = b.channels &- low
        let bias0 = _mm512_loadu_si512(UnsafeRawPointer(b.bias))
        let bias1 = high > 0 ? _mm512_loadu_si512(UnsafeRawPointer(b.bias + 16)) : bias0
        let requant1 = b.requant + RequantBlock.bytes
        for r in next..<end {
            let o = output.row(r) + b.channel
            let c0 = accumulators + (2048 &* (r >> 4) &+ 64 &* (r & 15))
            storeBytes(requantize16(_mm512_add_epi32(_mm512_loadu_si512(c0), bias0), b.requant, path), o, low)
            if high > 0 {
                storeBytes(requantize16(_mm512_add_epi32(_mm512_loadu_si512(c0 + 1024), bias1), requant1, path), o + 16, high)
            }
        }
        next = end
    }

    /// Writes every row still pending.
    @inline(__always)
    mutating func finish() { write(rows: count) }
}

/// `pixelTiles` (1 or 2) x `channelBlocks` (1 or 2) C tiles over the K runs `runs`: C tile
/// 2t + j accumulates A tile 4 + t (pixels 16t...) times B tile 6 + j (block j). Between its K
/// chunks the rows of the previous block (`pending`) are written; then its own C tiles are
/// stored and become `pending`, for the real pixels and channels. Called with constant tile
/// counts, so each combination compiles to its own straight-line tile code.
@inline(__always)
func amxTile<T: AMXTiles>(_: T.Type, pixelTiles: Int, channelBlocks: Int, _ x: AMXRows, _ runs: TileTaps, _ b: AMXBlock,
                          _ output: TileOutput, _ pending: inout AMXPendingRows, rowsPerChunk: Int) {
    T.zero(0)
    if channelBlocks == 2 { T.zero(1) }
    if pixelTiles == 2 { T.zero(2) }
    if pixelTiles == 2 && channelBlocks == 2 { T.zero(3) }
    // One K chunk from quad q: each tile is loaded just before its first tdpbusd, the order of
    // Intel's 2 x 2 example (A0 B0 C00, A1 C10, B1 C01 C11), so the first product starts after
    // two loads rather than four.
    @inline(__always) func multiply(_ q: Int) {
        T.load(4, from: UnsafeRawPointer(x.base.0) + 4 &* q, stride: x.stride.0)
        T.load(6, from: UnsafeRawPointer(b.weights) + 64 &* q, stride: 64)
        T.dotProduct(0, 4, 6)
        if pixelTiles == 2 {
            T.load(5, from: UnsafeRawPointer(x.base.1) + 4 &* q, stride: x.stride.1)
            T.dotProduct(2, 5, 6)
        }
        if channelBlocks == 2 {
            T.load(7, from: UnsafeRawPointer(b.weights) + (b.blockBytes &+ 64 &* q), stride: 64)
            T.dotProduct(1, 4, 7)
            if pixelTiles == 2 { T.dotProduct(3, 5, 7) }
        }
    }
    // The K chunks (16 quads from a multiple of 16) that meet a run, each once. The quads of a
    // chunk outside every run are padding taps of all the tile's pixels (im2col wrote the zero
    // point there, 0 whenever taps are skipped), or lie past K (zero weights): they add nothing.
    var next = 0
    for run in 0..<runs.count {
        let start = runs.first &+ run &* runs.stride
        var chunk = max(start >> 4, next)
        let chunkEnd = (start &+ runs.length &+ 15) >> 4
        while chunk < chunkEnd {
            multiply(chunk &* 16)
            pending.write(rows: rowsPerChunk)
            chunk &+= 1
        }
        next = max(next, chunkEnd)
    }
    pending.finish()
    let accumulators = pending.accumulators
    T.store(0, to: accumulators, stride: 64)
    if channelBlocks == 2 { T.store(1, to: accumulators + 1024, stride: 64) }
    if pixelTiles == 2 { T.store(2, to: accumulators + 2048, stride: 64) }
    if pixelTiles == 2 && channelBlocks == 2 { T.store(3, to: accumulators + 3072, stride: 64) }
    pending.output = output
    pending.block = b
    pending.path = requantPath(b.requant)
    pending.next = 0
    pending.count = x.count
}
