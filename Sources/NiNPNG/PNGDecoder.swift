// PNG decoding to the stored samples, as Pillow, torchvision and OpenCV read them: libpng's
// regular API through the C target NiNPNGRead (no gamma or color-space conversion, no sBIT
// shift, no compositing). Every color type, bit depth and interlacing decodes to 8-bit
// interleaved pixels with the file's own channels; 16-bit samples round to 8 bits here. The
// size is checked from the header before any pixel buffer is allocated.

import NiN
import NiNPNGRead
import NiNPlatform
import CNiNPlatform

/// Decodes PNG files into `Image`s.
public enum PNGDecoder {
    /// Largest accepted width or height.
    public static let maxSide = 16384
    /// Largest accepted pixel count (width x height).
    public static let maxPixels = 64 << 20
    /// Deflate's largest expansion (a 258-byte match coded in 2 bits): no valid PNG's samples
    /// exceed this many times the file's size.
    static let maxInflation = 1032

    /// Decodes the PNG file at `path`. A file that cannot be opened, or a directory, is an `.io`
    /// error; a file that is not a valid PNG, or is too large, is a `.badImage` error.
    public static func load(path: String) throws(NiNError) -> Image {
        try load(path: FilePath(path))
    }

    /// As `load(path:)`, for a path given as its exact bytes (any file name Linux allows).
    public static func load(path: FilePath) throws(NiNError) -> Image {
        guard let file = path.withCString({ fopen($0, "rb") }) else {
            throw NiNError(.io, "cannot open PNG \"\(path)\": \(Platform.lastErrorDescription())")
        }
        defer { fclose(file) }
        if ninpriv_file_is_directory(file) != 0 {
            throw NiNError(.io, "cannot open PNG \"\(path)\": Is a directory, not a PNG file")
        }
        return try read(what: "PNG \"\(path)\"") { reader, width, height in
            ninpriv_png_begin_file(reader, file, width, height)
        }
    }

    /// Decodes a PNG held in memory.
    public static func decode(_ bytes: [UInt8]) throws(NiNError) -> Image {
        var result: Result<Image, NiNError> = .failure(NiNError(.badImage, "PNG data is empty"))
        bytes.withUnsafeBytes { raw in result = Result { () throws(NiNError) in try decode(raw) } }
        return try result.get()
    }

    /// Decodes a PNG held in memory that the caller keeps alive for the call (the C API's
    /// `nin_image_load_png_memory` decodes its caller's buffer without a copy).
    public static func decode(_ data: UnsafeRawBufferPointer) throws(NiNError) -> Image {
        guard let base = data.baseAddress, data.count > 0 else { throw NiNError(.badImage, "PNG data is empty (0 bytes)") }
        return try read(what: "PNG data") { reader, width, height in
            ninpriv_png_begin_memory(reader, base, data.count, width, height)
        }
    }

    /// Reads the header with `begin`, checks the size, then decodes the pixels.
    private static func read(what: String,
                             begin: (OpaquePointer, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> Int32)
        throws(NiNError) -> Image {
        guard let reader = ninpriv_png_create() else { throw NiNError(.outOfMemory, "cannot allocate a PNG reader") }
        defer { ninpriv_png_destroy(reader) }
        var rawWidth: UInt32 = 0, rawHeight: UInt32 = 0
        guard begin(reader, &rawWidth, &rawHeight) != 0 else { throw failure(reader, "cannot read \(what)") }
        let width = Int(rawWidth), height = Int(rawHeight)
        guard width >= 1, height >= 1, width <= maxSide, height <= maxSide, width * height <= maxPixels else {
            throw NiNError(.badImage, "\(what) is \(width)x\(height): larger than \(maxSide) on a side or \(maxPixels) pixels")
        }
        // Deflate expands at most 1032:1, so an input too small to hold the declared samples is
        // refused before the pixel buffer is allocated (a 74-byte file declaring 64 Mi pixels
        // would otherwise cost hundreds of megabytes before its data ran out). An input of N
        // bytes may declare up to 1032 x N bytes of samples, and not one more.
        let stored = ninpriv_png_stored_bytes(reader), input = ninpriv_png_input_bytes(reader)
        let least = (stored + maxInflation - 1) / maxInflation  // the fewest bytes that inflate to `stored`
        if input > 0, input < least {
            throw NiNError(.badImage, "\(what) declares \(width)x\(height) pixels (\(stored) bytes of samples) but has only \(input) bytes: more than deflate can expand (\(maxInflation):1 needs at least \(least)); it is truncated or corrupt")
        }
        var layout = ninpriv_png_layout()
        guard ninpriv_png_set_transforms(reader, &layout) != 0 else { throw failure(reader, "cannot read \(what)") }
        let channels = Int(layout.channels), bytesPerSample = Int(layout.bit_depth) / 8
        guard (1...4).contains(channels), bytesPerSample == 1 || bytesPerSample == 2,
              layout.row_bytes == width * channels * bytesPerSample else {
            throw NiNError(.badImage, "\(what) decodes to an unexpected layout: \(channels) channels of \(layout.bit_depth) bits")
        }
        let samples = width * height * channels
        var pixels = [UInt8](repeating: 0, count: samples * bytesPerSample)
        let ok = pixels.withUnsafeMutableBufferPointer { ninpriv_png_read(reader, $0.baseAddress!) }
        guard ok != 0 else { throw failure(reader, "cannot decode \(what)") }
        if bytesPerSample == 2 { pixels = roundedTo8Bits(bigEndian16: pixels, samples: samples) }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// 16-bit samples (big-endian pairs) to 8 bits: `(v * 255 + 32767) / 65535`, the nearest
    /// 8-bit value (docs/PREPROCESSING.md).
    private static func roundedTo8Bits(bigEndian16 wide: [UInt8], samples: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: samples) { out, count in
            for i in 0..<samples {
                let v = UInt32(wide[2 * i]) << 8 | UInt32(wide[2 * i + 1])
                out[i] = UInt8((v * 255 + 32767) / 65535)
            }
            count = samples
        }
    }

    private static func failure(_ reader: OpaquePointer, _ prefix: String) -> NiNError {
        NiNError(.badImage, "\(prefix): \(String(cString: ninpriv_png_message(reader)))")
    }
}
