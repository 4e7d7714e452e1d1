// Decoding the next batch of PNGs on a thread of its own while the current batch runs. One
// thread per batch (made and joined each time: microseconds against a batch's milliseconds).
// The decoded pixels of a batch go into one buffer, handed to the context as borrowed views:
// with several threads the context's lanes prepare (convert and resize) the images they run,
// so preparation is shared by the compute threads instead of competing with them.

import NiN
import NiNPNG
import CNiNPlatform  // the C library, as the platform layer imports it (hosted and Embedded)

/// A batch of PNGs decoded into one pixel buffer.
struct DecodedBatch {
    /// The batch's paths, in input order.
    var paths: [FilePath] = []
    /// For each path: nil if it decoded (its image is next in `images`), else why not.
    var errors: [String?] = []
    /// Where each decoded image lies in `pixels`, in order.
    var images: [(offset: Int, width: Int, height: Int, channels: Int)] = []
    /// The decoded images' pixels, back to back (rows without padding).
    var pixels: [UInt8] = []

    /// Images that decoded.
    var count: Int { images.count }

    /// Decodes `paths`.
    init(paths: [FilePath]) {
        self.paths = paths
        for path in paths {
            do throws(NiNError) {
                let image = try PNGDecoder.load(path: path)
                images.append((pixels.count, image.width, image.height, image.channels))
                pixels += image.pixels
                errors.append(nil)
            } catch {
                errors.append(error.message)
            }
        }
    }

    /// Runs the decoded images on `context` (converted and resized by it, as nin_run_images does).
    func run(on context: NiNContext) throws(NiNError) {
        try pixels.withUnsafeBufferPointer { (base) throws(NiNError) in
            try context.run(count: images.count) { n in
                let image = images[n]
                return PixelView(base: base.baseAddress! + image.offset, width: image.width, height: image.height,
                                 channels: image.channels, stride: image.width * image.channels)
            }
        }
    }

    /// Decoded image `n` as an `Image` (a copy of its pixels).
    func image(_ n: Int) -> Image {
        let image = images[n]
        let bytes = image.width * image.height * image.channels
        // The shape was checked when the PNG was decoded.
        return try! Image(width: image.width, height: image.height, channels: image.channels,
                          pixels: Array(pixels[image.offset..<(image.offset + bytes)]))
    }
}

/// Decodes one batch on a background thread: `start`, then `finish` for the result.
final class BatchLoader: @unchecked Sendable {
    private var paths: [FilePath] = []
    private var result: DecodedBatch?
    private var thread: pthread_t?

    /// Starts decoding `paths`; if no thread can be made, `finish` decodes them instead.
    func start(_ paths: [FilePath]) {
        self.paths = paths
        result = nil
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&handle, nil, { argument in
            let loader = Unmanaged<BatchLoader>.fromOpaque(argument!).takeRetainedValue()
            loader.result = DecodedBatch(paths: loader.paths)
            return nil
        }, context)
        if status == 0 {
            thread = handle
        } else {
            Unmanaged<BatchLoader>.fromOpaque(context).release()
            thread = nil
        }
    }

    /// Waits for the batch started last and returns it.
    func finish() -> DecodedBatch {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
        return result ?? DecodedBatch(paths: paths)
    }
}
