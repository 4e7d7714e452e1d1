// How a family's convolution cuts a layer into im2col chunks and how much scratch one thread
// needs for it: a chunk's im2col rows (whole tiles, within a byte budget that keeps them in L2
// beside the weights they meet), then the chunk's pixel table (`PixelTaps`), 64-byte aligned.

/// The im2col scratch layout of one family.
public struct Im2colScratch {
    /// Bytes of im2col rows a chunk may use.
    public let budget: Int
    /// Bytes per im2col value (2 for int16, 1 for u8).
    public let valueBytes: Int
    /// Chunks are whole multiples of this many pixels.
    public let tilePixels: Int
    /// Bytes after the rows that stores may overrun into (a vector store of a short run).
    public let slack: Int

    /// A layout from its four constants.
    @inlinable
    public init(budget: Int, valueBytes: Int, tilePixels: Int, slack: Int) {
        self.budget = budget; self.valueBytes = valueBytes; self.tilePixels = tilePixels; self.slack = slack
    }

    /// Output pixels per chunk for im2col rows of `kPadded` values: whole tiles within the budget.
    @inlinable
    public func chunkPixels(kPadded: Int) -> Int {
        max(tilePixels, budget / max(valueBytes * kPadded, 1) / tilePixels * tilePixels)
    }

    /// `pixels` rounded up to whole tiles.
    @inlinable
    public func tiled(_ pixels: Int) -> Int { (pixels + tilePixels - 1) / tilePixels * tilePixels }

    /// Where the pixel table starts: after the rows of `tiledPixels` and the slack, 64-byte aligned.
    @inlinable
    public func pixelTableOffset(tiledPixels: Int, kPadded: Int) -> Int {
        (tiledPixels * kPadded * valueBytes + slack + 63) / 64 * 64
    }

    /// Scratch bytes one thread needs for a layer of `totalRows` output rows of `outWidth`
    /// pixels: a chunk's im2col rows, then its pixel table.
    public func bytes(outWidth: Int, kPadded: Int, totalRows: Int = .max) -> Int {
        let tiled = largestChunk(outWidth: outWidth, kPadded: kPadded, totalRows: totalRows)
        return pixelTableOffset(tiledPixels: tiled, kPadded: kPadded) + tiled * MemoryLayout<PixelTaps>.stride
    }

    /// The pixels (whole tiles) of the largest chunk of a layer of `totalRows` output rows of
    /// `outWidth` pixels.
    public func largestChunk(outWidth: Int, kPadded: Int, totalRows: Int = .max) -> Int {
        let chunk = chunkPixels(kPadded: kPadded)
        return tiled(totalRows >= chunk ? chunk : min(chunk, totalRows * outWidth))  // (totalRows may be .max)
    }
}
