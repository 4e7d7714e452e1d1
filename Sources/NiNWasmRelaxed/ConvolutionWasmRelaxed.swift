// The wasmrelaxed convolution (WebAssembly relaxed SIMD, built only into nin-relaxed.wasm by
// tools/wasm/build.sh): per layer, the shared quad driver (Sources/NiNKernelCore/
// QuadConvolution.swift: u8 im2col, weights packed by `packQuads`) with the relaxed-dot tiles of
// Tile2x16WasmRelaxed.swift where that is exact, else the wasmsimd convolution. Exact where the
// layer's inputs are at most 127 (format 1.1's 7-bit activations, `ConvolutionWeights.inputMax`,
// and the input zero point that stands for the padding): they then are the 7-bit operand the
// relaxed dot defines, and a pair of products stays within int16 (127 x 128 x 2 < 32768), so
// every engine's lowering gives the true sum. The tiles also add two quads' pair sums in int16
// before widening them, so a layer takes them only where its weights keep those sums within
// int16 too (QuadPairBound.swift: every layer with 7-bit weights, as format 1.1's converter
// writes them). A layer over 8-bit inputs (a network's first), or whose weights fail that bound,
// takes the shifted tiles (Tile2x16WasmRelaxedShifted.swift: inputs to s8, weights to 7 bits)
// where its weights lie in -64...63, else wasmsimd.

import NiNKernelCore
import NiNWasmSIMD

/// `PackedConvolution.variant` of a layer that runs the relaxed-dot tiles (0: wasmsimd's).
let relaxedVariant = 1
/// `PackedConvolution.variant` of a layer that runs the shifted relaxed-dot tiles.
let shiftedVariant = 2

/// Packs a layer for the wasmrelaxed family: by quads for the relaxed-dot tiles when its inputs
/// (and input zero point) are at most 127 and its weights keep the tiles' int16 quad-pair sums
/// exact; else shifted for the shifted tiles when its weights lie in -64...63; else as wasmsimd
/// packs it; nil when memory runs out.
public func packWasmRelaxed(_ layer: ConvolutionWeights) -> PackedConvolution? {
    guard layer.inputMax <= 127 && layer.inputZeroPoint >= 0 && layer.inputZeroPoint <= 127,
          quadPairSumsFitInt16(layer, inputBound: Int(max(layer.inputMax, layer.inputZeroPoint))) else {
        guard weightsFitShift(layer) else { return packInt16Pairs(layer) }
        guard let packed = packShiftedQuads(layer) else { return nil }
        packed.variant = shiftedVariant
        return packed
    }
    guard let packed = packQuads(layer) else { return nil }
    packed.variant = relaxedVariant
    return packed
}

/// The name of the kernel `packWasmRelaxed` chose (`PackedConvolution.variant`).
public func wasmRelaxedKernelName(_ variant: Int) -> String {
    variant == relaxedVariant ? "2x16 relaxed dot, int16 quad-pair sums (7-bit inputs)"
        : variant == shiftedVariant ? "2x16 relaxed dot, inputs shifted to s8 (8-bit inputs)" : "wasmsimd 2x16"
}

/// Scratch bytes one thread needs for a layer of `geometry` of `totalRows` output rows with the
/// kernel `packWasmRelaxed` chose (`variant`).
public func convolutionWasmRelaxedScratchBytes(_ geometry: ConvolutionGeometry, totalRows: Int, variant: Int) -> Int {
    variant == relaxedVariant ? quadScratchBytes(geometry, totalRows: totalRows, tiles: WasmRelaxedTiles.self)
        : variant == shiftedVariant ? quadScratchBytes(geometry, totalRows: totalRows, tiles: WasmRelaxedShiftedTiles.self)
        : convolutionWasmSIMDScratchBytes(geometry, totalRows: totalRows)
}

/// Computes part `part` of `parts` of the output rows of a convolution call, with the weights
/// packed by `packWasmRelaxed`.
public func convolutionWasmRelaxed(_ a: ConvolutionCall, part: Int = 0, of parts: Int = 1) {
    if a.variant == relaxedVariant {
        convolveQuads(a, part: part, of: parts, tiles: WasmRelaxedTiles.self)
    } else if a.variant == shiftedVariant {
        convolveQuads(a, part: part, of: parts, tiles: WasmRelaxedShiftedTiles.self)
    } else {
        convolutionWasmSIMD(a, part: part, of: parts)
    }
}
