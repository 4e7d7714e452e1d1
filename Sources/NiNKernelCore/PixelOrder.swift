// Which output pixels a convolution tile computes, in which order, and which of their kernel
// taps reach inside the image: the bookkeeping that lets the optimized kernels skip the taps
// that lie in the padding. Shared by every optimized convolution family (AVX2 counts K in int16
// pairs, AVX-512 VNNI in u8 quads: a "group" below). Plain Swift, inlined into each family.

/// One output pixel of a chunk, as its tile sees it: where its output goes (a pixel index into
/// batch x outHeight x outWidth) and which kernel taps fall inside the image (the others read
/// padding). Kernels are at most 64 wide (ModelFormat.maxKernel), so the taps fit in bytes.
public struct PixelTaps {
    public var pixel: Int32
    public var kyStart: UInt8, kyEnd: UInt8, kxStart: UInt8, kxEnd: UInt8

    /// Output pixel `pixel` (an index into batch x outHeight x outWidth) at output position
    /// (`y`, `x`) of its image.
    @inlinable @inline(__always)
    public init(pixel: Int, y: Int, x: Int, geometry g: ConvolutionGeometry) {
        let iy0 = y * g.strideHeight - g.padTop, ix0 = x * g.strideWidth - g.padLeft
        self.pixel = Int32(truncatingIfNeeded: pixel)
        kyStart = UInt8(max(0, -iy0)); kyEnd = UInt8(max(0, min(g.kernelHeight, g.inHeight - iy0)))
        kxStart = UInt8(max(0, -ix0)); kxEnd = UInt8(max(0, min(g.kernelWidth, g.inWidth - ix0)))
    }

    /// An entry with its taps given directly (tests).
    @inlinable
    public init(pixel: Int32, kyStart: UInt8, kyEnd: UInt8, kxStart: UInt8, kxEnd: UInt8) {
        self.pixel = pixel; self.kyStart = kyStart; self.kyEnd = kyEnd; self.kxStart = kxStart; self.kxEnd = kxEnd
    }
}

/// The K groups a tile reads: `count` runs of `length` groups, `stride` apart, from `first`.
/// A tile whose pixels all lie inside the image reads all of K in one run; a tile at the border
/// skips the kernel rows and columns that fall in the padding for every one of its pixels.
/// Skipping is exact only when the padding contributes nothing (VNNI: input zero point 0, as
/// after a ReLU; AVX2: always, its im2col stores x - z), and group-aligned only when the
/// channels are a multiple of the group; otherwise every tile reads all.
public struct TileTaps {
    public var first: Int, count: Int, length: Int, stride: Int

    @inlinable
    public init(first: Int, count: Int, length: Int, stride: Int) {
        self.first = first; self.count = count; self.length = length; self.stride = stride
    }

    /// All of K, `groups` groups.
    @inlinable
    public static func all(_ groups: Int) -> TileTaps { TileTaps(first: 0, count: 1, length: groups, stride: 0) }

    /// The first group of each run, in order: what a microkernel's outer loop walks
    /// (`for start in taps.runStarts`), reading `length` groups from each.
    @inlinable
    public var runStarts: RunStarts { RunStarts(next: first, left: count, stride: stride) }

    /// The first groups of a `TileTaps`' runs.
    public struct RunStarts: Sequence, IteratorProtocol {
        @usableFromInline var nextStart: Int, left: Int
        @usableFromInline let stride: Int

        @inlinable
        init(next: Int, left: Int, stride: Int) { nextStart = next; self.left = left; self.stride = stride }

        @inlinable @inline(__always)
        public mutating func next() -> Int? {
            guard left > 0 else { return nil }
            defer { nextStart &+= stride; left &-= 1 }
            return nextStart
        }
    }
}

/// Where a part's pixels are computed, in order: first the columns whose window lies inside
/// the image horizontally, row by row; then each border column, top to bottom. Tiles are cut
/// from this order, so a border tile holds pixels of one column and skips the padding taps they
/// share: 7.6% of the 5x5 layer's MACs and 7.1% of the 3x3's in the classic NiN. When nothing
/// can be skipped every column counts as inside, which is plain row-major order.
public struct PixelOrder {
    public let rowStart: Int, rowCount: Int, width: Int, height: Int
    /// Inside columns [insideStart, insideEnd); the others are border columns.
    public let insideStart: Int, insideEnd: Int

    @inlinable
    public init(rows: Range<Int>, geometry g: ConvolutionGeometry, skipPadding: Bool) {
        rowStart = rows.lowerBound; rowCount = rows.count; width = g.outWidth; height = g.outHeight
        var lo = 0, hi = g.outWidth
        if skipPadding {
            while lo < hi && lo * g.strideWidth - g.padLeft < 0 { lo += 1 }
            while hi > lo && (hi - 1) * g.strideWidth - g.padLeft + g.kernelWidth > g.inWidth { hi -= 1 }
        }
        insideStart = lo; insideEnd = hi
    }

    @inlinable
    public var pixelCount: Int { rowCount * width }

    /// The part row and output column of the pixel at `index` in this order.
    @inlinable @inline(__always)
    public func position(_ index: Int) -> (row: Int, x: Int) {
        let inside = insideEnd - insideStart
        if index < rowCount * inside { return (index / inside, insideStart + index % inside) }
        let j = index - rowCount * inside
        let column = j / rowCount
        return (j % rowCount, column < insideStart ? column : insideEnd + column - insideStart)
    }

    /// The position after `p` in this order (without the divisions of `position`).
    @inlinable @inline(__always)
    public func next(_ p: (row: Int, x: Int)) -> (row: Int, x: Int) {
        if p.x >= insideStart && p.x < insideEnd {  // inside: along the row, then the next row
            if p.x + 1 < insideEnd { return (p.row, p.x + 1) }
            if p.row + 1 < rowCount { return (p.row + 1, insideStart) }
            return (0, insideStart > 0 ? 0 : insideEnd)
        }
        if p.row + 1 < rowCount { return (p.row + 1, p.x) }  // border: down the column, then the next one
        return (0, p.x + 1 == insideStart ? insideEnd : p.x + 1)
    }

    /// Calls `body` for the pixels at `indices` of this order, in order, with each pixel's output
    /// row (an index into batch x outHeight), its image, its y and its x. Walks with `next` and
    /// divides only when the row changes (im2col's per-pixel bookkeeping).
    @inlinable @inline(__always)
    public func forEachPixel(_ indices: Range<Int>, _ body: (_ row: Int, _ image: Int, _ y: Int, _ x: Int) -> Void) {
        guard !indices.isEmpty else { return }
        var p = position(indices.lowerBound)
        var row = -1, image = 0, y = 0
        for _ in indices {
            if rowStart + p.row != row {
                row = rowStart + p.row
                image = row / height
                y = row % height
            }
            body(row, image, y, p.x)
            p = next(p)
        }
    }

    /// Calls `body` for the pixels at `indices` of this order, in order, as runs along an output
    /// row: each inside column's stretch of a row in one call, each border pixel alone; with the
    /// run's output row (an index into batch x outHeight), its image, its y and its columns.
    @inlinable @inline(__always)
    public func forEachRun(_ indices: Range<Int>,
                           _ body: (_ row: Int, _ image: Int, _ y: Int, _ columns: Range<Int>) -> Void) {
        guard !indices.isEmpty else { return }
        var p = position(indices.lowerBound)
        var index = indices.lowerBound
        var row = -1, image = 0, y = 0
        while index < indices.upperBound {
            if rowStart &+ p.row != row {
                row = rowStart &+ p.row
                image = row / height
                y = row &- image &* height
            }
            let count = p.x >= insideStart && p.x < insideEnd ? min(insideEnd &- p.x, indices.upperBound &- index) : 1
            body(row, image, y, p.x..<(p.x &+ count))
            index &+= count
            p = next((p.row, p.x &+ count &- 1))
        }
    }
}

/// Where a tile's rows are stored: pixel r at `base + table[r].pixel * stride` (an im2col chunk,
/// whose pixels follow `PixelOrder`), or at `base + r * stride` (pixels read in place).
public struct TileOutput {
    public var base: UnsafeMutablePointer<UInt8>, stride: Int, table: UnsafePointer<PixelTaps>?

    @inlinable
    public init(base: UnsafeMutablePointer<UInt8>, stride: Int, table: UnsafePointer<PixelTaps>?) {
        self.base = base; self.stride = stride; self.table = table
    }

    @inlinable @inline(__always)
    public func row(_ r: Int) -> UnsafeMutablePointer<UInt8> {
        if let table { return base + Int(table[r].pixel) * stride }
        return base + r * stride
    }
}

/// The K runs of a tile of `count` pixels: the kernel rows and columns that reach inside the
/// image for at least one of them (all of K, `kGroups` groups of `groupSize`, when skipping is
/// off). Requires `inChannels % groupSize == 0` when skipping.
@inlinable @inline(__always)
public func taps(_ pixels: UnsafePointer<PixelTaps>, count: Int, geometry g: ConvolutionGeometry, kGroups: Int,
                 groupSize: Int, skip: Bool) -> TileTaps {
    guard skip else { return .all(kGroups) }
    var ky0 = pixels[0].kyStart, ky1 = pixels[0].kyEnd, kx0 = pixels[0].kxStart, kx1 = pixels[0].kxEnd
    for r in 1..<max(count, 1) {
        ky0 = min(ky0, pixels[r].kyStart); ky1 = max(ky1, pixels[r].kyEnd)
        kx0 = min(kx0, pixels[r].kxStart); kx1 = max(kx1, pixels[r].kxEnd)
    }
    let groupsPerTap = g.inChannels / groupSize, rowGroups = g.kernelWidth * groupsPerTap
    let first = Int(ky0) * rowGroups + Int(kx0) * groupsPerTap
    if kx0 == 0 && Int(kx1) == g.kernelWidth {  // whole kernel rows: one run
        return TileTaps(first: first, count: 1, length: Int(ky1 - ky0) * rowGroups, stride: 0)
    }
    return TileTaps(first: first, count: Int(ky1 - ky0), length: Int(kx1 - kx0) * groupsPerTap, stride: rowGroups)
}
