// NoPNG.swift - the module NiNPNG for the builds without libpng or files: WebAssembly
// (tools/wasm/build.sh: the browser or Node decodes PNG, JPEG and WebP itself and hands nin
// pixels) and the microcontroller firmware (tools/mcu/build.sh: images come as arrays). The C
// API's two PNG functions compile unchanged against it and give a clear error.

import NiN

/// PNG decoding, absent from this build: every call throws `.badImage` saying so.
public enum PNGDecoder {
    /// Throws: this build reads no PNG files (there is no file system either).
    public static func load(path: FilePath) throws(NiNError) -> Image { throw unavailable }

    /// Throws: this build decodes no PNG (decode it in JavaScript and pass the pixels).
    public static func decode(_ data: UnsafeRawBufferPointer) throws(NiNError) -> Image { throw unavailable }

    private static var unavailable: NiNError {
        NiNError(.badImage, "PNG decoding is not in this build (WebAssembly or a microcontroller): pass decoded pixels (in JavaScript, an ImageData)")
    }
}
