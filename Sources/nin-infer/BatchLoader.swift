// Decoding and preparing the next batch of images on a thread of its own while the current
// batch runs: PNG decoding and resizing cost about as much as a small model's inference, and
// they are independent of it. One thread per batch (made and joined each time: microseconds
// against a batch's milliseconds); the prepared input goes to the context as one buffer.

import NiN
import NiNPNG
#if canImport(Glibc)
import Glibc
#endif

/// A batch of images decoded and prepared for a model input.
struct PreparedBatch {
    /// The batch's paths, in input order.
    var paths: [FilePath] = []
    /// The prepared input of the images that decoded, in order (H x W x C each).
    var input: [UInt8] = []
    /// For each path: nil if it decoded (its image is next in `input`), else why not.
    var errors: [String?] = []
    /// Images in `input`.
    var count = 0
    /// The decoded images behind `input`, when asked to keep them (for heatmaps).
    var images: [Image] = []

    /// Decodes and prepares `paths` for a model input of `shape`, keeping the decoded images
    /// if `keepImages`.
    init(paths: [FilePath], shape: TensorShape, keepImages: Bool = false) {
        self.paths = paths
        input.reserveCapacity(paths.count * shape.elementCount)
        for path in paths {
            do throws(NiNError) {
                let image = try PNGDecoder.load(path: path)
                input += prepare(image, for: shape)
                if keepImages { images.append(image) }
                errors.append(nil)
                count += 1
            } catch {
                errors.append(error.message)
            }
        }
    }
}

/// Prepares one batch on a background thread: `start`, then `finish` for the result.
final class BatchLoader: @unchecked Sendable {
    private let shape: TensorShape
    private let keepImages: Bool
    private var paths: [FilePath] = []
    private var result: PreparedBatch?
    private var thread: pthread_t?

    init(shape: TensorShape, keepImages: Bool) {
        self.shape = shape
        self.keepImages = keepImages
    }

    /// Starts preparing `paths`; if no thread can be made, `finish` prepares them instead.
    func start(_ paths: [FilePath]) {
        self.paths = paths
        result = nil
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&handle, nil, { argument in
            let loader = Unmanaged<BatchLoader>.fromOpaque(argument!).takeRetainedValue()
            loader.result = PreparedBatch(paths: loader.paths, shape: loader.shape, keepImages: loader.keepImages)
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
    func finish() -> PreparedBatch {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
        return result ?? PreparedBatch(paths: paths, shape: shape, keepImages: keepImages)
    }
}
