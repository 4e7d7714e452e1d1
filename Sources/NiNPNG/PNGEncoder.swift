// PNG encoding through libpng's simplified write API (png_image_write_to_stdio): 8-bit gray,
// gray + alpha, RGB or RGBA, no gamma chunk (the samples are written as they are). Used for
// the heatmaps nin-infer writes.

import CLibPNG
import NiN
import NiNPlatform
import CNiNPlatform

/// Encodes `Image`s as PNG files.
public enum PNGEncoder {
    /// Writes `image` to `path` as a PNG (replacing the file). A file that cannot be created or
    /// written is an `.io` error.
    public static func write(_ image: Image, to path: FilePath) throws(NiNError) {
        guard let file = path.withCString({ fopen($0, "wb") }) else {
            throw NiNError(.io, "cannot create PNG \"\(path)\": \(Platform.lastErrorDescription())")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        let color = image.channels >= 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
        let alpha = image.channels % 2 == 0 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0
        png.format = color | alpha
        let written = image.pixels.withUnsafeBytes { pixels in
            png_image_write_to_stdio(&png, file, 0, pixels.baseAddress, Int32(image.stride), nil)
        }
        let message = withUnsafeBytes(of: &png.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        png_image_free(&png)
        let closed = fclose(file)
        guard written != 0, closed == 0 else {
            throw NiNError(.io, "cannot write PNG \"\(path)\": \(written == 0 ? message : Platform.lastErrorDescription())")
        }
    }
}
