// The AMX convolution's microkernel: up to 32 pixels x 32 channels in the four C tiles (2 x 2
// blocks of 16 x 16 int32; A in tiles 4-5, B in 6-7), K runs in chunks of 16 quads, a run's
// tail through zero-filled panels, then the C tiles stored and requantized with AVX-512.

import _Builtin_intrinsics.intel
import NiNAVX512VNNI
import NiNKernelCore

/// The A rows of up to 32 pixels: pixel r's K bytes at `base + r * stride`. `inPlace` rows are
/// the input tensor itself, which ends after the `count`th: they all go through the panels.
struct AMXRows {
    var base: UnsafePointer<UInt8>, stride: Int, count: Int, inPlace: Bool
}

/// One or two 16-channel blocks: their packed weights (the second `blockBytes` after the
/// first), biases, requantization tables, first output channel and channel count (1 to 32).
struct AMXBlock {
    var weights: UnsafePointer<Int8>, blockBytes: Int, bias: UnsafePointer<Int32>, requant: UnsafeRawPointer
    var channel: Int, channels: Int
}

/// `pixelTiles` (1 or 2) x `channelBlocks` (1 or 2) C tiles over the K runs `runs`: C tile
/// 2t + j accumulates A tile 4 + t (pixels 16t...) times B tile 6 + j (block j); then stored,
/// requantized and written for the real pixels and channels. Called with constant tile counts,
/// so each combination compiles to its own straight-line tile code.
@inline(__always)
func amxTile<T: AMXTiles>(_: T.Type, pixelTiles: Int, channelBlocks: Int, _ x: AMXRows, _ runs: TileTaps, _ b: AMXBlock,
                          _ panels: UnsafeMutableRawPointer, _ accumulators: UnsafeMutableRawPointer, _ output: TileOutput) {
    T.zero(0)
    if channelBlocks == 2 { T.zero(1) }
    if pixelTiles == 2 { T.zero(2) }
    if pixelTiles == 2 && channelBlocks == 2 { T.zero(3) }
    @inline(__always) func multiply(_ q: Int) {
        T.load(6, from: UnsafeRawPointer(b.weights) + 64 &* q, stride: 64)
        if channelBlocks == 2 { T.load(7, from: UnsafeRawPointer(b.weights) + (b.blockBytes &+ 64 &* q), stride: 64) }
        T.dotProduct(0, 4, 6)
        if channelBlocks == 2 { T.dotProduct(1, 4, 7) }
        if pixelTiles == 2 { T.dotProduct(2, 5, 6) }
        if pixelTiles == 2 && channelBlocks == 2 { T.dotProduct(3, 5, 7) }
    }
    for run in 0..<runs.count {
        let start = runs.first &+ run &* runs.stride
        let runEnd = start &+ runs.length
        var q = start
        if !x.inPlace {
            while q &+ 16 <= runEnd {  // whole chunks: the A tiles straight from the rows
                T.load(4, from: UnsafeRawPointer(x.base) + 4 &* q, stride: x.stride)
                if pixelTiles == 2 { T.load(5, from: UnsafeRawPointer(x.base) + (16 &* x.stride &+ 4 &* q), stride: x.stride) }
                multiply(q)
                q &+= 16
            }
        }
        while q < runEnd {  // the run's tail (every chunk of rows in place): through the panels
            let quads = min(16, runEnd &- q)
            let mask = quads == 16 ? ~__mmask64(0) : (__mmask64(1) << (4 &* quads)) &- 1
            for r in 0..<(16 &* pixelTiles) {
                let row = r < x.count ? _mm512_maskz_loadu_epi8(mask, UnsafeRawPointer(x.base) + (r &* x.stride &+ 4 &* q)) : _mm512_setzero_si512()
                _mm512_storeu_si512(panels + 64 &* r, row)
            }
            T.load(4, from: UnsafeRawPointer(panels), stride: 64)
            if pixelTiles == 2 { T.load(5, from: UnsafeRawPointer(panels + 1024), stride: 64) }
            multiply(q)
            q &+= quads
        }
    }
    T.store(0, to: accumulators, stride: 64)
    if channelBlocks == 2 { T.store(1, to: accumulators + 1024, stride: 64) }
    if pixelTiles == 2 { T.store(2, to: accumulators + 2048, stride: 64) }
    if pixelTiles == 2 && channelBlocks == 2 { T.store(3, to: accumulators + 3072, stride: 64) }
    let relu = isReLUFromZero(b.requant)
    let bias0 = _mm512_loadu_si512(UnsafeRawPointer(b.bias))
    let bias1 = channelBlocks == 2 ? _mm512_loadu_si512(UnsafeRawPointer(b.bias + 16)) : bias0
    let requant1 = b.requant + RequantBlock.bytes
    let low = min(b.channels, 16), high = b.channels - low
    for t in 0..<pixelTiles {
        for r in 0..<min(16, x.count &- 16 &* t) {
            let o = output.row(16 &* t &+ r) + b.channel
            let c0 = accumulators + (2048 &* t &+ 64 &* r)
            storeBytes(requantize16(_mm512_add_epi32(_mm512_loadu_si512(c0), bias0), b.requant, relu), o, low)
            if channelBlocks == 2 {
                storeBytes(requantize16(_mm512_add_epi32(_mm512_loadu_si512(c0 + 1024), bias1), requant1, relu), o + 16, high)
            }
        }
    }
}
