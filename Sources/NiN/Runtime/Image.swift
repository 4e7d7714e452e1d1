// Image: interleaved 8-bit pixels of any size with 1-4 channels, as decoded from a PNG or
// handed over by a caller. The input of preprocessing.

/// Interleaved u8 pixels: row y, column x, channel c at `pixels[y * stride + x * channels + c]`.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// Bytes between rows (at least width x channels).
    public var stride: Int
    public var pixels: [UInt8]

    /// Makes an image after checking that `pixels` holds `height` rows of `stride` bytes.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8], stride: Int? = nil) throws(NiNError) {
        let rowBytes = stride ?? width * channels
        try checkImageShape(width: width, height: height, channels: channels, stride: rowBytes)
        guard pixels.count >= (height - 1) * rowBytes + width * channels else {
            throw .invalid("image has \(pixels.count) bytes, fewer than \(height) rows of \(rowBytes) need")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.stride = rowBytes
        self.pixels = pixels
    }
}

/// A borrowed view of pixels, the form the preprocessing kernel reads (from C or from `Image`).
package struct PixelView {
    package var base: UnsafePointer<UInt8>
    package var width: Int
    package var height: Int
    package var channels: Int
    package var stride: Int

    package init(base: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int, stride: Int) {
        self.base = base
        self.width = width
        self.height = height
        self.channels = channels
        self.stride = stride
    }
}

/// Checks dimensions shared by every image entry point.
package func checkImageShape(width: Int, height: Int, channels: Int, stride: Int) throws(NiNError) {
    guard width >= 1, height >= 1 else { throw .invalid("image size \(width)x\(height) must be at least 1x1") }
    guard (1...4).contains(channels) else { throw .invalid("image has \(channels) channels, expected 1, 2, 3 or 4") }
    guard width <= 1 << 16, height <= 1 << 16 else { throw .invalid("image size \(width)x\(height) exceeds 65536 on a side") }
    guard stride >= width * channels else { throw .invalid("image stride \(stride) is smaller than width x channels = \(width * channels)") }
}
