// NoPNG.swift - the module NiNPNG for the WebAssembly build (tools/wasm/build.sh), which has no
// libpng: the browser (or Node) decodes PNG, JPEG and WebP itself and hands nin pixels. The C
// API's two PNG functions compile unchanged against it and give a clear error.

import NiN

/// PNG decoding, absent from this build: every call throws `.badImage` saying so.
public enum PNGDecoder {
    /// Throws: this build reads no PNG files (there is no file system either).
    public static func load(path: FilePath) throws(NiNError) -> Image { throw unavailable }

    /// Throws: this build decodes no PNG (decode it in JavaScript and pass the pixels).
    public static func decode(_ data: UnsafeRawBufferPointer) throws(NiNError) -> Image { throw unavailable }

    private static var unavailable: NiNError {
        NiNError(.badImage, "PNG decoding is not in the WebAssembly build: decode the image in JavaScript (ImageData) and pass its pixels")
    }
}
