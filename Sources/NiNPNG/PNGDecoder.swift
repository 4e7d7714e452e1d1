// PNG decoding through libpng's simplified API (png_image_*): every color type, bit depth and
// interlacing, to 8-bit interleaved pixels with the file's own channels. The size is checked
// from the header before any pixel buffer is allocated.

import CLibPNG
import NiN
#if canImport(Glibc)
import Glibc
#endif

/// Decodes PNG files into `Image`s.
public enum PNGDecoder {
    /// Largest accepted width or height.
    public static let maxSide = 16384
    /// Largest accepted pixel count (width x height).
    public static let maxPixels = 64 << 20

    /// Decodes the PNG file at `path`. A file that cannot be opened is an `.io` error.
    public static func load(path: String) throws(NiNError) -> Image {
        guard let file = fopen(path, "rb") else {
            throw NiNError(.io, "cannot open PNG \"\(path)\": \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_stdio(&image, file) != 0 else {
            throw failure(&image, "cannot read PNG \"\(path)\"")
        }
        return try finish(&image, what: "PNG \"\(path)\"")
    }

    /// Decodes a PNG held in memory.
    public static func decode(_ bytes: [UInt8]) throws(NiNError) -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard began != 0 else { throw failure(&image, "cannot read PNG data") }
        // finish_read reads from the same memory, which must still be alive: keep `bytes` borrowed.
        return try withExtendedLifetime(bytes) { () throws(NiNError) in try finish(&image, what: "PNG data") }
    }

    private static func finish(_ image: inout png_image, what: String) throws(NiNError) -> Image {
        let width = Int(image.width), height = Int(image.height)
        guard width >= 1, height >= 1, width <= maxSide, height <= maxSide, width * height <= maxPixels else {
            png_image_free(&image)
            throw NiNError(.badImage, "\(what) is \(width)x\(height): larger than \(maxSide) on a side or \(maxPixels) pixels")
        }
        let hasColor = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let sixteenBit = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        let channels = (hasColor ? 3 : 1) + (hasAlpha ? 1 : 0)
        // 16-bit files are read as their raw linear samples and rounded to 8 bits below; 8-bit
        // files are read as they are. libpng expands palettes and low bit depths.
        image.format = (hasColor ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            | (sixteenBit ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let samples = width * height * channels
        var pixels = [UInt8](repeating: 0, count: samples)
        let ok: Int32
        if sixteenBit {
            var wide = [UInt16](repeating: 0, count: samples)
            ok = wide.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            for i in 0..<samples { pixels[i] = UInt8((UInt32(wide[i]) * 255 + 32767) / 65535) }
        } else {
            ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        }
        guard ok != 0 else { throw failure(&image, "cannot decode \(what)") }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func failure(_ image: inout png_image, _ prefix: String) -> NiNError {
        let message = withUnsafeBytes(of: &image.message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        png_image_free(&image)
        return NiNError(.badImage, message.isEmpty ? prefix : "\(prefix): \(message)")
    }
}
