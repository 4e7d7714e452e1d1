#!/usr/bin/env python3
"""Mutation testing of nin: does each test suite catch the bugs it is there to catch?

Each mutant below is one small exact-string replacement in one source file, with the tests
that must catch it. For every mutant in turn the script applies it, rebuilds (touching the
mutated target and the targets that inline its code, so an incremental debug build cannot keep
stale code: docs/ARCHITECTURE.md, "Building"), runs those tests, restores the file and records
whether the tests failed (killed) or passed (survived). It prints the kill table at the end and
exits 1 if any mutant survived or a mutation no longer applies. A mutant whose tests need a
kernel family this CPU lacks (`needs`: the AVX-512 VNNI and AMX ones on an AVX2-only CPU, whose
tests skip there) is not run: it is named with the reason, and the summary counts it apart.

    tools/mutants.py               run every mutant (minutes per mutant; `make mutants`)
    tools/mutants.py --check       only check that every search string occurs exactly once
                                   in the current sources (no build); exit 1 if not
    tools/mutants.py --list        list the mutants
    tools/mutants.py --only a,b    run the named mutants only

The sources are restored after each mutant, also on Ctrl-C; a mutated file is never left behind.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Test:
    """How to run the tests that should kill a mutant: a Swift test filter (`swift test
    --filter`), the C tests (`make test-c`), or pytest arguments."""
    kind: str  # "swift" | "c" | "python"
    what: str = ""
    env: Optional[dict] = None

    def describe(self) -> str:
        return {"swift": f"swift test --filter '{self.what}'", "c": "make test-c",
                "python": f"pytest {self.what}"}[self.kind]


@dataclass
class Mutant:
    name: str
    path: str      # relative to the repository root
    search: str    # must occur exactly once in the file
    replace: str
    why: str       # what the mutation breaks
    test: Test
    #: The kernel family whose tests kill it (its own, or the AMX emulator's AVX-512 VNNI), as
    #: nin.kernel_families() names it: on a CPU without it the tests skip, so it is not run.
    needs: Optional[str] = None


def swift(filter: str) -> Test:
    return Test("swift", filter)


C_TESTS = Test("c")

MUTANTS: List[Mutant] = [
    # --- the survivors of issue 15 ---
    Mutant("requant-ties-away", "Sources/NiN/Kernels/Reference/Requantize.swift",
           "(Float(acc) * scale).rounded(.toNearestOrEven)", "(Float(acc) * scale).rounded(.toNearestOrAwayFromZero)",
           "reference requantization rounds ties away from zero", swift("randomConvolutions")),
    Mutant("avx2-maxpool-last", "Sources/NiNAVX2/MaxPoolAVX2.swift",
           "best = _mm256_max_epu8(best, _mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: __m256i.self)))",
           "best = _mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: __m256i.self))",
           "AVX2 max pool keeps the last value of 32-channel blocks", swift("randomMaxPools")),
    Mutant("luma-blue-7470", "Sources/NiN/Runtime/Preprocess.swift",
           "7471 * Int(pixel[2])", "7470 * Int(pixel[2])",
           "gray conversion's blue coefficient off by one", swift("grayConversion")),
    Mutant("reader-empty-label", "Sources/NiN/Model/ModelReader.swift",
           "where label.string.isEmpty {", "where label.string.isEmpty && false {",
           "empty labels accepted", swift("stringSectionRules")),
    Mutant("reader-duplicate-meta-key", "Sources/NiN/Model/ModelReader.swift",
           "guard !result.metadata.contains(where: { $0.key.hasSameBytes(as: pairs[i].string) }) else {",
           "guard !result.metadata.contains(where: { $0.key.hasSameBytes(as: pairs[i].string + \"?\") }) else {",
           "duplicate META keys accepted", swift("stringSectionRules")),
    Mutant("reader-empty-meta-key", "Sources/NiN/Model/ModelReader.swift",
           "guard !pairs[i].string.isEmpty else", "guard !pairs[i].string.isEmpty || true else",
           "empty META keys accepted", swift("stringSectionRules")),
    Mutant("pixeltaps-kxend", "Sources/NiNKernelCore/PixelOrder.swift",
           "kxEnd = UInt8(max(0, min(g.kernelWidth, g.inWidth - ix0)))",
           "kxEnd = UInt8(max(0, min(g.kernelWidth, g.inWidth - ix0) - 1))",
           "PixelTaps drops the last kernel column inside the image", swift("pixelTapsBruteForce")),
    # --- kernels ---
    Mutant("quads-skip-padding-any-zero-point", "Sources/NiNKernelCore/QuadConvolution.swift",
           "let skipPadding = a.inputZeroPoint == 0 && g.inChannels % 4 == 0 && !pointwise",
           "let skipPadding = g.inChannels % 4 == 0 && !pointwise",
           "the quad families skip padding taps although the padding value is not 0", swift("randomConvolutions")),
    Mutant("amx-chunks-twice", "Sources/NiNAMX/Tile32x32AMX.swift",
           "var chunk = max(start >> 4, next)", "var chunk = start >> 4",
           "AMX multiplies a K chunk shared by two runs twice", swift("randomConvolutions"),
           needs="avx512vnni"),
    Mutant("amx-skip-padding-any-zero-point", "Sources/NiNAMX/ConvolutionAMX.swift",
           "let skipPadding = a.inputZeroPoint == 0 && g.inChannels % 4 == 0 && !pointwise",
           "let skipPadding = g.inChannels % 4 == 0 && !pointwise",
           "AMX widens its K runs over padding taps that hold a nonzero zero point", swift("randomConvolutions"),
           needs="avx512vnni"),
    Mutant("amx-staging-drops-a-row", "Sources/NiNAMX/ConvolutionAMX.swift",
           "for r in 0..<count { UnsafeMutableRawPointer(staged + r * rowBytes)",
           "for r in 0..<count - 1 { UnsafeMutableRawPointer(staged + r * rowBytes)",
           "AMX stages one row too few of a pointwise layer's last tile", swift("randomConvolutions"),
           needs="avx512vnni"),
    Mutant("amx-pending-rows-outlive-table", "Sources/NiNAMX/ConvolutionAMX.swift",
           "        pending.finish()  // (its output rows", "        // pending.finish()  // (its output rows",
           "AMX writes a block's pending rows after im2col rewrote their pixel table", swift("randomConvolutions"),
           needs="avx512vnni"),
    Mutant("pool-window-short", "Sources/NiNKernelCore/PoolWindows.swift",
           "xs: max(0, ix0)..<min(g.inWidth, ix0 + g.kernelWidth)", "xs: max(0, ix0)..<min(g.inWidth, ix0 + g.kernelWidth - 1)",
           "the optimized max pools leave out each window's last column", swift("randomMaxPools")),
    Mutant("amx-configure-every-layer", "Sources/NiNAMXTiles/AMXTiles.swift",
           "guard !holdsConvolutionConfiguration else { return }", "guard holdsConvolutionConfiguration || true else { return }",
           "AMX loads its tile configuration at every layer", swift("amxTilesLiveForOneRun"),
           needs="avx512vnni"),
    Mutant("amx-run-keeps-tiles", "Sources/NiN/Runtime/Scheduler.swift",
           "defer { model.kernels.endRun?() }", "defer { _ = model.kernels.endRun }",
           "a run leaves the caller's AMX tiles configured", swift("amxTilesLiveForOneRun"),
           needs="avx512vnni"),
    Mutant("peak-vnni-claims-more", "Sources/NiNAVX512VNNI/PeakAVX512VNNI.swift",
           "macsPerRound: 12 * 64,", "macsPerRound: 16 * 64,",
           "the AVX-512 VNNI peak loop claims MACs it does not do (a peak 1.33x too high)", swift("peakLoopsCountTheirMACs"),
           needs="avx512vnni"),
    Mutant("peak-avx2-drops-a-product", "Sources/NiNAVX2/PeakAVX2.swift",
           "_mm256_maddubs_epi16(x(2 &* i &+ 1), weights))", "_mm256_setzero_si256())",
           "the AVX2 peak loop skips half its products but still counts them", swift("peakLoopsCountTheirMACs")),
    Mutant("peak-amx-one-tile", "Sources/NiNAMX/PeakAMX.swift",
           "T.dotProduct(0, 4, 6); T.dotProduct(1, 4, 7); T.dotProduct(2, 5, 6); T.dotProduct(3, 5, 7)",
           "T.dotProduct(0, 4, 6)",
           "the AMX peak loop runs one tdpbusd per round and counts four", swift("peakLoopsCountTheirMACs"),
           needs="avx512vnni"),
    Mutant("profile-share-ignores-threads", "Sources/nin-infer/NinInfer.swift",
           "(peak.macsPerSecond * Double(context.threads))", "peak.macsPerSecond",
           "--profile gives shares of one thread's peak at any thread count", Test("python", "Tests/cli/test_nin_infer_profile.py")),
    Mutant("im2col-last-row-short", "Sources/NiNKernelCore/QuadConvolution.swift",
           "            copy8(from: from + (run &- 8), to: to + (run &- 8))\n", "",
           "im2col's inside runs copy only the first 8 bytes of a pixel's last kernel row", swift("im2colQuadsEqualsPlainIm2col")),
    Mutant("pixel-runs-past-range", "Sources/NiNKernelCore/PixelOrder.swift",
           "min(insideEnd &- p.x, indices.upperBound &- index)", "insideEnd &- p.x",
           "a run of inside pixels continues past the end of the range asked for", swift("im2colQuadsEqualsPlainIm2col")),
    Mutant("vnni-requant-zero-point-zero-unclamped", "Sources/NiNAVX512VNNI/RequantizeAVX512VNNI.swift",
           "if path == .zeroPointZero { return _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(clamped)) }",
           "if path == .zeroPointZero { return _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(_mm512_max_ps(scaled, load(RequantBlock.low)))) }",
           "outputs with zero point 0 and output_max under 255 (7-bit models) are not clamped at output_max",
           swift("randomConvolutions"),
           needs="avx512vnni"),
    Mutant("maddubs-bound-loose", "Sources/NiNAVX2/MaddubsBound.swift",
           "let k = layer.kernelSize, limit = 32767", "let k = layer.kernelSize, limit = 40000",
           "AVX2 runs vpmaddubsw on layers whose int16 sums can saturate", swift("randomConvolutions")),
    Mutant("maddubs-quad-pairs-unchecked", "Sources/NiNAVX2/MaddubsBound.swift",
           "if inputMax * sum > limit { quadPairs = false }", "if inputMax * sum > 4 * limit { quadPairs = false }",
           "AVX2 sums four products in int16 where only two fit", swift("randomConvolutions")),
    Mutant("reference-ignores-output-max", "Sources/NiN/Kernels/Reference/Requantize.swift",
           "Float(high - zeroPoint))", "Float(255 - zeroPoint))",
           "the reference requantization ignores output_max", swift("goldenBounds")),
    Mutant("reader-ignores-weight-max", "Sources/NiN/Model/ModelReader.swift",
           "if layer.weightMax < 127, let start", "if layer.weightMax < 0, let start",
           "weights beyond weight_max accepted", swift("boundRules")),
    Mutant("vnni-masked-store", "Sources/NiNAVX512VNNI/RequantizeAVX512VNNI.swift",
           "__mmask16(truncatingIfNeeded: (1 << channels) - 1)", "__mmask16(truncatingIfNeeded: (1 << channels) - 2)",
           "VNNI partial block store drops its first channel", swift("randomConvolutions"),
           needs="avx512vnni"),
    Mutant("int16pairs-widen-zero-point", "Sources/NiNKernelCore/Int16PairConvolution.swift",
           "dst[i] = Int16(src[i]) &- zeroPoint", "dst[i] = Int16(src[i])",
           "AVX2/portable im2col forgets the input zero point", swift("randomConvolutions")),
    Mutant("int16pairs-skip-padding-odd-channels", "Sources/NiNKernelCore/Int16PairConvolution.swift",
           "let skipPadding = g.inChannels % 2 == 0 && !pointwise", "let skipPadding = !pointwise",
           "AVX2/portable skip padding with odd channel counts (K pairs straddle taps)", swift("randomConvolutions")),
    Mutant("portable-second-row", "Sources/NiNPortable/Tile2x16Portable.swift",
           "if rows > 1 { requantizeAndStore", "if rows > 2 { requantizeAndStore",
           "portable 2x16 tile never stores its second pixel", swift("randomConvolutions")),
    Mutant("portable-clamp-high", "Sources/NiNPortable/RequantizePortable.swift",
           "scaled.replace(with: high, where: scaled .> high)", "scaled.replace(with: high, where: scaled .> high + 1)",
           "portable requantization lets 256 through the upper clamp", swift("randomConvolutions")),
    Mutant("portable-maxpool-last", "Sources/NiNPortable/MaxPoolPortable.swift",
           "for ch in 0..<c { w.output[ch] = max(w.output[ch], p[ch]) }", "for ch in 0..<c { w.output[ch] = p[ch] }",
           "portable max pool keeps the window's last value", swift("randomMaxPools")),
    Mutant("pixelorder-inside-end", "Sources/NiNKernelCore/PixelOrder.swift",
           "(hi - 1) * g.strideWidth - g.padLeft + g.kernelWidth > g.inWidth",
           "(hi - 1) * g.strideWidth - g.padLeft + g.kernelWidth >= g.inWidth",
           "the last inside column counted as a border column", swift("pixelOrderIsAPermutation")),
    Mutant("taps-whole-rows", "Sources/NiNKernelCore/PixelOrder.swift",
           "if kx0 == 0 && Int(kx1) == g.kernelWidth {", "if kx0 == 0 {",
           "tile taps read whole kernel rows when the right columns are padding", swift("tileTapsCoverTheImage")),
    Mutant("avgpool-rounding", "Sources/NiN/Kernels/Reference/PoolingReference.swift",
           "out[ch] = UInt8(truncatingIfNeeded: (sum + divisor / 2) / divisor)",
           "out[ch] = UInt8(truncatingIfNeeded: (sum + divisor / 2 - 1) / divisor)",
           "average pool rounds ties down", swift("goldenNetwork")),
    Mutant("gap-zero-point", "Sources/NiN/Kernels/Reference/PoolingReference.swift",
           "out[ch] &+= Int32(image[p * c + ch]) &- a.inputZeroPoint", "out[ch] &+= Int32(image[p * c + ch])",
           "GAP sums forget the input zero point", swift("goldenNetwork")),
    # --- planner ---
    Mutant("planner-slide", "Sources/NiN/Plan/MemoryPlanner.swift",
           "if candidate + size <= start { break }", "if candidate + size <= start + 64 { break }",
           "a buffer placed 64 bytes into a live neighbour", swift("randomChains|randomLifetimes")),
    Mutant("planner-lifetime", "Sources/NiN/Plan/MemoryPlanner.swift",
           "firstUse <= other.lastUse && other.firstUse <= lastUse", "firstUse < other.lastUse && other.firstUse <= lastUse",
           "buffers live at one shared step may overlap", swift("randomChains|randomLifetimes")),
    # --- reader ---
    Mutant("reader-shift-63", "Sources/NiN/Model/ModelReader.swift",
           "guard (1...62).contains(n) else", "guard (1...63).contains(n) else",
           "shift 63 accepted", swift("layerDamage")),
    Mutant("reader-pad-equal-kernel", "Sources/NiN/Model/ModelReader.swift",
           "guard window.padTop < window.kernelHeight,", "guard window.padTop <= window.kernelHeight,",
           "top padding as large as the kernel accepted", swift("layerDamage")),
    Mutant("reader-accumulator-bound", "Sources/NiN/Model/ModelReader.swift",
           "guard abs(bias) + worstProducts <= Int64(Int32.max) else", "guard abs(bias) + worstProducts <= 2 * Int64(Int32.max) else",
           "int32 accumulator overflow accepted", swift("layerDamage")),
    Mutant("reader-header-reserved", "Sources/NiN/Model/ModelReader.swift",
           "guard r.isZero(28, 36) else", "guard r.isZero(28, 12) else",
           "reserved header bytes 40..63 not checked", swift("headerDamage")),
    Mutant("reader-meta-odd", "Sources/NiN/Model/ModelReader.swift",
           "guard pairs.count % 2 == 0 else", "guard pairs.count % 2 < 2 else",
           "a META key without a value accepted (the last value read past the pairs)", swift("stringSectionRules")),
    Mutant("reader-trailing-bytes", "Sources/NiN/Model/ModelReader.swift",
           "guard r.isZero(position, r.count - position) else", "guard r.isZero(position, 0) else",
           "nonzero bytes after the last section accepted", swift("headerAndTableRules")),
    # --- images (PNG decoding itself is being rewritten elsewhere: its callers are mutated) ---
    Mutant("preprocess-alpha-as-colour", "Sources/NiN/Runtime/Preprocess.swift",
           "    if from >= 3 {", "    if from >= 2 {",
           "gray + alpha taken as colour (luma of gray, alpha, next pixel)", swift("goldenPreprocess")),
    Mutant("resize-weight-rounding", "Sources/NiN/Runtime/Preprocess.swift",
           "var f = (t % (2 * m) * 256 + m) / (2 * m)", "var f = (t % (2 * m) * 256) / (2 * m)",
           "bilinear weights truncated instead of rounded", swift("goldenPreprocess")),
    Mutant("image-stride", "Sources/NiN/Runtime/Image.swift",
           "guard stride >= width * channels else", "guard stride >= width * channels - 1 else",
           "a row stride one byte short accepted", swift("imageShapeChecks")),
    Mutant("float-input-nan", "Sources/NiN/Runtime/Preprocess.swift",
           "if v.isNaN { return false }", "if v.isNaN && false { return false }",
           "NaN float input quantized instead of refused", C_TESTS),
    # --- C API ---
    Mutant("capi-logits-capacity", "Sources/NiNCAPI/CAPI.swift",
           "guard capacity >= classes else", "guard capacity >= classes - 1 else",
           "a logits buffer one float short accepted (written past its end)", C_TESTS),
    Mutant("capi-top-k-order", "Sources/NiN/Runtime/Results.swift",
           "if after && (best < 0 || p[c] > p[best]) { best = c }", "if after && (best < 0 || p[c] < p[best]) { best = c }",
           "top-k returns the least probable classes", C_TESTS),
    # --- kernel dispatch ---
    Mutant("cpu-vnni-check", "Sources/NiNCPU/cpu.c",
           'return ninpriv_cpu_has_avx2() && __builtin_cpu_supports("avx512f")',
           'return 0 && ninpriv_cpu_has_avx2() && __builtin_cpu_supports("avx512f")',
           "AVX-512 VNNI never detected: the family would be skipped silently", swift("kernelFamilies"),
           needs="avx512vnni"),
    # --- threads ---
    Mutant("threads-image-lanes", "Sources/NiN/Runtime/Scheduler.swift",
           "pool.run(self, parts: count)  //", "pool.run(self, parts: count - 1)  //",
           "a batch dealt to the threads skips its last image", swift("goldenNetworkThreads")),
    Mutant("threads-row-split", "Sources/NiN/Runtime/Scheduler.swift",
           "let rowRange = (rows * part / parts)..<(rows * (part + 1) / parts)",
           "let rowRange = (rows * part / parts)..<max(rows * part / parts, rows * (part + 1) / parts - 1)",
           "each thread's part of a layer drops its last row", swift("goldenNetworkThreads")),
]

# Issue 29: the guards at the edges of every numeric limit of validation (docs/SECURITY.md,
# "Limits", lists each limit with the test that pins it), and the worker pool's claim protocol.
MUTANTS += [
    # --- threads ---
    Mutant("pool-claim-ignores-run", "Sources/NiN/Runtime/WorkerPool.swift",
           "while claim >> 16 == run && claim & 0xFFFF < parts {", "while claim & 0xFFFF < parts {",
           "a worker that read an older run's claim word claims parts of a newer run", swift("workerPoolStaleClaimTakesNothing")),
    # --- PNG ---
    Mutant("png-inflation-1000x-looser", "Sources/NiNPNG/PNGDecoder.swift",
           "static let maxInflation = 1032", "static let maxInflation = 1_032_000",
           "the inflation rule 1000 times looser (the mutant of issue 29)", swift("pngInflationEdge")),
    Mutant("png-inflation-one-byte-looser", "Sources/NiNPNG/PNGDecoder.swift",
           "let least = (stored + maxInflation - 1) / maxInflation", "let least = stored / maxInflation",
           "a file may declare up to 1031 bytes of samples more than 1032 x its size", swift("pngInflationEdge")),
    Mutant("png-inflation-one-byte-tighter", "Sources/NiNPNG/PNGDecoder.swift",
           "if input > 0, input < least {", "if input > 0, input <= least {",
           "a file declaring exactly 1032 x its size in samples refused", swift("pngInflationEdge")),
    Mutant("png-side-16383", "Sources/NiNPNG/PNGDecoder.swift",
           "public static let maxSide = 16384", "public static let maxSide = 16383",
           "a PNG of 16384 on a side refused", swift("pngSizeEdges")),
    Mutant("png-height-16385", "Sources/NiNPNG/PNGDecoder.swift",
           "width <= maxSide, height <= maxSide,", "width <= maxSide, height <= maxSide + 1,",
           "a PNG 16385 high accepted", swift("pngSizeEdges")),
    Mutant("png-pixels-below-64mi", "Sources/NiNPNG/PNGDecoder.swift",
           "width * height <= maxPixels else", "width * height < maxPixels else",
           "a PNG of exactly 64 Mi pixels refused", swift("pngSizeEdges")),
    # --- model reader (docs/FORMAT.md) ---
    Mutant("reader-sections-16-refused", "Sources/NiN/Model/ModelReader.swift",
           "guard (1...ModelFormat.maxSections).contains(sectionCount) else",
           "guard (1..<ModelFormat.maxSections).contains(sectionCount) else",
           "a section table of 16 entries refused by the count rule", swift("readerSectionCountEdge")),
    Mutant("reader-input-side-4095", "Sources/NiN/Model/ModelFormat.swift",
           "static let maxInputSide = 4096",
           "static let maxInputSide = 4095",
           "a model input of 4096 on a side refused", swift("readerInputSizeEdge")),
    Mutant("reader-input-four-channels", "Sources/NiN/Model/ModelReader.swift",
           "guard channels == 1 || channels == 3 else",
           "guard channels == 1 || channels >= 3 else",
           "a model input of 4 channels accepted", swift("readerInputSizeEdge")),
    Mutant("reader-layers-256-refused", "Sources/NiN/Model/ModelReader.swift",
           "guard (1...ModelFormat.maxLayers).contains(layerCount) else",
           "guard (1..<ModelFormat.maxLayers).contains(layerCount) else",
           "a model of 256 layers refused", swift("readerLayerCountEdge")),
    Mutant("reader-channels-4096-refused", "Sources/NiN/Model/ModelReader.swift",
           "guard (1...ModelFormat.maxChannels).contains(outChannels) else",
           "guard (1..<ModelFormat.maxChannels).contains(outChannels) else",
           "a layer of 4096 output channels refused", swift("readerOutChannelsEdge")),
    Mutant("reader-kernel-63", "Sources/NiN/Model/ModelFormat.swift",
           "static let maxKernel = 64",
           "static let maxKernel = 63",
           "a 64x64 kernel refused", swift("readerKernelStrideEdge")),
    Mutant("reader-stride-63", "Sources/NiN/Model/ModelFormat.swift",
           "static let maxStride = 64",
           "static let maxStride = 63",
           "a stride of 64 refused", swift("readerKernelStrideEdge")),
    Mutant("reader-pad-right-equal-kernel", "Sources/NiN/Model/ModelReader.swift",
           "window.padLeft < window.kernelWidth, window.padRight < window.kernelWidth else {",
           "window.padLeft < window.kernelWidth, window.padRight <= window.kernelWidth else {",
           "right padding as large as the kernel accepted", swift("readerPaddingEdge")),
    Mutant("reader-output-size-one-refused", "Sources/NiN/Model/Layer.swift",
           "return span < 0 ? nil : span / stride + 1",
           "return span < 1 ? nil : span / stride + 1",
           "a kernel exactly as large as its padded input refused (output 1)", swift("readerOutputSizeEdge")),
    Mutant("reader-input-zero-point-254", "Sources/NiN/Model/ModelReader.swift",
           "guard (0...255).contains(inputZero) else",
           "guard (0...254).contains(inputZero) else",
           "input zero point 255 refused", swift("readerZeroPointEdges")),
    Mutant("reader-output-zero-point-254", "Sources/NiN/Model/ModelReader.swift",
           "guard (0...255).contains(outZero) else",
           "guard (0...254).contains(outZero) else",
           "output zero point 255 refused", swift("readerZeroPointEdges")),
    Mutant("reader-output-max-254", "Sources/NiN/Model/ModelReader.swift",
           "guard outputMaxField <= 255 else",
           "guard outputMaxField <= 254 else",
           "output_max 255 refused", swift("readerOutputMaxEdges")),
    Mutant("reader-output-max-zero-point-plus-one", "Sources/NiN/Model/ModelReader.swift",
           "guard outputMaxField == 0 || layer.outputMax > outZero else",
           "guard outputMaxField == 0 || layer.outputMax > outZero + 1 else",
           "output_max one above the zero point refused", swift("readerOutputMaxEdges")),
    Mutant("reader-weight-max-126", "Sources/NiN/Model/ModelReader.swift",
           "guard weightMaxField <= 127 else",
           "guard weightMaxField <= 126 else",
           "weight_max 127 refused", swift("readerWeightEdges")),
    Mutant("reader-weight-at-max-refused", "Sources/NiN/Model/ModelReader.swift",
           "if abs(Int32(weights[i])) > bound { return i }",
           "if abs(Int32(weights[i])) >= bound { return i }",
           "a weight equal to weight_max refused", swift("readerWeightEdges")),
    Mutant("reader-weight-minus-127-refused", "Sources/NiN/Model/ModelReader.swift",
           "let found = Platform.firstByte(0x80, in: start + layer.weightsOffset, count: outChannels * k)",
           "let found = Platform.firstByte(0x81, in: start + layer.weightsOffset, count: outChannels * k)",
           "the weight -127 refused instead of -128", swift("readerWeightEdges")),
    Mutant("reader-multiplier-below-2-30", "Sources/NiN/Model/ModelReader.swift",
           "guard m >= 1 << 30 else",
           "guard m >= (1 << 30) - 1 else",
           "multiplier 2^30 - 1 accepted", swift("readerMultiplierEdge")),
    Mutant("reader-shift-62-refused", "Sources/NiN/Model/ModelReader.swift",
           "guard (1...62).contains(n) else",
           "guard (1...61).contains(n) else",
           "shift 62 refused", swift("readerShiftEdge")),
    Mutant("reader-accumulator-at-bound-refused", "Sources/NiN/Model/ModelReader.swift",
           "guard abs(bias) + worstProducts <= Int64(Int32.max) else",
           "guard abs(bias) + worstProducts < Int64(Int32.max) else",
           "a worst-case sum of exactly 2^31 - 1 refused", swift("readerAccumulatorEdge")),
    Mutant("reader-accumulator-negative-bias", "Sources/NiN/Model/ModelReader.swift",
           "guard abs(bias) + worstProducts <= Int64(Int32.max) else",
           "guard bias + worstProducts <= Int64(Int32.max) else",
           "a negative bias beyond the accumulator bound accepted", swift("readerAccumulatorEdge")),
    Mutant("reader-accumulator-ignores-input-bound", "Sources/NiN/Model/ModelReader.swift",
           "let worstProducts = Int64(inputMax) * Int64(layer.weightMax) * Int64(k)",
           "let worstProducts = Int64(255) * Int64(layer.weightMax) * Int64(k)",
           "the accumulator bound ignores a narrowed input bound (refuses valid 7-bit layers)", swift("readerAccumulatorEdge")),
    Mutant("reader-gap-bound-256", "Sources/NiN/Model/ModelReader.swift",
           "guard Int64(255) * Int64(input.height) * Int64(input.width) < Int64(1) << 31 else",
           "guard Int64(256) * Int64(input.height) * Int64(input.width) < Int64(1) << 31 else",
           "a GAP just under the int32 bound refused", swift("readerGapEdge")),
    # --- caller images and contexts ---
    Mutant("image-height-65537", "Sources/NiN/Runtime/Image.swift",
           "guard width <= 1 << 16, height <= 1 << 16 else",
           "guard width <= 1 << 16, height <= (1 << 16) + 1 else",
           "a caller image 65537 high accepted", swift("imageLimitEdges")),
    Mutant("image-four-channels-refused", "Sources/NiN/Runtime/Image.swift",
           "guard (1...4).contains(channels) else",
           "guard (1...3).contains(channels) else",
           "a 4-channel (RGBA) caller image refused", swift("imageLimitEdges")),
    Mutant("image-height-zero", "Sources/NiN/Runtime/Image.swift",
           "guard width >= 1, height >= 1 else",
           "guard width >= 1, height >= 0 else",
           "a caller image 0 high accepted", swift("imageLimitEdges")),
    Mutant("context-zero-threads", "Sources/NiN/Runtime/Context.swift",
           "guard (1...maxThreads).contains(threads) else",
           "guard (0...maxThreads).contains(threads) else",
           "a context of 0 threads accepted", swift("contextLimit")),
    Mutant("context-max-batch-refused", "Sources/NiN/Runtime/Context.swift",
           "guard (1...maxBatchSize).contains(batchSize) else",
           "guard (1..<maxBatchSize).contains(batchSize) else",
           "a batch of 65536 refused", swift("contextLimit")),
    Mutant("context-run-of-zero", "Sources/NiN/Runtime/Context.swift",
           "guard count >= 1, count <= plan.batchSize else",
           "guard count >= 0, count <= plan.batchSize else",
           "a run of 0 images accepted", swift("contextRunCountEdge")),
]

# The Python side of format 1.1 (output_max, weight_max): the reader's checks and the
# reference's clamp, caught by the tools tests.
MUTANTS += [
    Mutant("py-weight-max-ignored", "tools/nin_tools/model_format.py",
           "    wmax = L.weight_bound\n", "    wmax = 127\n",
           "weights beyond weight_max accepted, accumulator bound at 127", Test("python", "tools/tests/test_format.py")),
    Mutant("py-pool-bound-unchecked", "tools/nin_tools/model_format.py",
           "    if omax != 0 and omax != in_bound:", "    if omax != 0 and omax != in_bound and False:",
           "a pool's output_max may disagree with its input's bound", Test("python", "tools/tests/test_format.py")),
    Mutant("py-reference-clamp-255", "tools/nin_tools/reference.py",
           "return np.clip(v + int(z_out), lo, qmax)", "return np.clip(v + int(z_out), lo, 255)",
           "the reference ignores output_max", Test("python", "tools/tests/test_reference_kernels.py")),
]

def inliners(directory: str) -> list[str]:
    """The targets whose debug build inlines @inlinable code of the target in `directory`: those
    Package.swift builds with -Ounchecked whose sources import its module (the kernel families
    inline NiNKernelCore's drivers, NiNAMX the tile protocol of NiNAMXTiles). Read from the
    sources, so a new kernel family needs no entry here."""
    module = Path(directory).name
    package = (REPO / "Package.swift").read_text()
    found = []
    for declaration in package.split(".target(")[1:]:
        path = re.search(r'path: "(Sources/[^"]+)"', declaration)
        if not path or path.group(1) == directory or "-Ounchecked" not in declaration.split(".target(")[0]:
            continue
        sources = (REPO / path.group(1)).rglob("*.swift")
        if any(re.search(rf"^import {module}$", s.read_text(), re.M) for s in sources):
            found.append(path.group(1))
    return found


def target_dir(path: str) -> str:
    """The source directory of the target that holds `path` (Sources/<Target>)."""
    parts = Path(path).parts
    return str(Path(*parts[:2]))


def touch_for(path: str) -> None:
    """Touches every source of the mutated target and of the targets that inline its code."""
    for directory in [target_dir(path)] + inliners(target_dir(path)):
        for source in sorted((REPO / directory).rglob("*.swift")):
            source.touch()


def occurrences(m: Mutant) -> int:
    file = REPO / m.path
    if not file.is_file():
        return -1
    return file.read_text().count(m.search)


def check(mutants: Sequence[Mutant]) -> bool:
    """True when every mutation applies: its search string occurs exactly once."""
    ok = True
    names = [m.name for m in mutants]
    for m in mutants:
        n = occurrences(m)
        if n != 1:
            ok = False
            where = "file missing" if n < 0 else f"search string found {n} times, expected once"
            print(f"MUTATION DOES NOT APPLY: {m.name} ({m.path}): {where}\n    search: {m.search!r}", file=sys.stderr)
        if names.count(m.name) != 1:
            ok = False
            print(f"DUPLICATE MUTANT NAME: {m.name}", file=sys.stderr)
    return ok


def run(command: str, env: Optional[dict], log, timeout: int) -> int:
    """Runs `command` in the repository (niced), appending its output to `log`; 124 on timeout."""
    full_env = dict(os.environ, **(env or {}))
    log.write(f"$ {command}\n")
    log.flush()
    try:
        return subprocess.run(["nice", "-n", "10", "bash", "-c", command], cwd=REPO, env=full_env,
                              stdout=log, stderr=subprocess.STDOUT, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        log.write(f"TIMEOUT after {timeout} s\n")
        return 124


def build_command(test: Test) -> str:
    return {"swift": "swift build --build-tests", "c": "make lib"}.get(test.kind, "make lib cli")


def test_command(test: Test) -> str:
    if test.kind == "swift":
        return f"swift test --skip-build --filter '{test.what}'"
    if test.kind == "c":
        return "make test-c"
    return f"{sys.executable} -m pytest -q -x {test.what}"


def library_kernel_families() -> list:
    """nin.kernel_families() of this checkout's release libnin.so (`make lib`): which kernel
    families this CPU runs, and why not."""
    sys.path.insert(0, str(REPO / "bindings" / "python"))
    os.environ.setdefault("NIN_LIBRARY", str(REPO / ".build" / "release" / "libnin.so"))
    import nin  # noqa: E402 (the binding of this checkout)
    return nin.kernel_families()


def run_mutant(m: Mutant, log, timeout: int) -> str:
    """Applies `m`, builds, runs its tests, restores the file. Returns killed, SURVIVED or
    BUILD FAILED."""
    file = REPO / m.path
    original = file.read_text()
    if original.count(m.search) != 1:
        raise SystemExit(f"mutation {m.name} does not apply to {m.path}: run tools/mutants.py --check")
    try:
        file.write_text(original.replace(m.search, m.replace))
        touch_for(m.path)
        log.write(f"\n===== {m.name}: {m.path}: {m.why}\n")
        if run(build_command(m.test), None, log, timeout) != 0:
            return "BUILD FAILED"
        status = run(test_command(m.test), m.test.env, log, timeout)
        return "killed" if status != 0 else "SURVIVED"
    finally:
        file.write_text(original)
        touch_for(m.path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that every mutation applies (no build)")
    parser.add_argument("--list", action="store_true", help="list the mutants")
    parser.add_argument("--only", help="comma-separated mutant names to run")
    parser.add_argument("--log", default=str(REPO / ".build" / "mutants.log"), help="build and test output")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per build or test command")
    args = parser.parse_args(argv)

    mutants = MUTANTS
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in {m.name for m in MUTANTS}]
        if unknown:
            parser.error(f"unknown mutants: {', '.join(unknown)}")
        mutants = [m for m in MUTANTS if m.name in wanted]
    if args.list:
        for m in mutants:
            print(f"{m.name:34} {m.path}: {m.why} [{m.test.describe()}]")
        return 0
    if not check(mutants):
        print("some mutations do not apply to the current sources", file=sys.stderr)
        return 1
    if args.check:
        print(f"all {len(mutants)} mutations apply (each search string occurs exactly once)")
        return 0

    # A mutant whose tests need a kernel family this CPU lacks is not run (its tests would skip
    # and it would survive): named with the reason, and not counted as killed.
    unsupported = {f.name: f.reason for f in library_kernel_families() if not f.supported}
    not_run = [(m, unsupported[m.needs]) for m in mutants if m.needs in unsupported]
    mutants = [m for m in mutants if m.needs not in unsupported]
    for m, reason in not_run:
        print(f"not run: {m.name}: its tests need the {m.needs} family ({reason})")

    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(args.log, "w") as log:
        # A clean start: the unmutated sources build and every selected test passes.
        for test in {(m.test.kind, m.test.what): m.test for m in mutants}.values():
            if run(build_command(test), None, log, args.timeout) != 0 or run(test_command(test), test.env, log, args.timeout) != 0:
                print(f"the unmutated sources fail {test.describe()}: see {args.log}", file=sys.stderr)
                return 1
        for i, m in enumerate(mutants, 1):
            start = time.monotonic()
            result = run_mutant(m, log, args.timeout)
            seconds = time.monotonic() - start
            rows.append((m, result, seconds))
            print(f"[{i}/{len(mutants)}] {m.name}: {result} ({seconds:.0f} s)", flush=True)
        # Leave the builds matching the sources.
        for command in sorted({build_command(m.test) for m in mutants}):
            run(command, None, log, args.timeout)

    width = max([len(m.name) for m in mutants] + [6])
    print(f"\n{'mutant':{width}}  {'result':8}  {'s':>4}  tests  (file: what it breaks)")
    for m, result, seconds in rows:
        print(f"{m.name:{width}}  {result:8}  {seconds:4.0f}  {m.test.describe()}  ({m.path}: {m.why})")
    killed = sum(1 for _, r, _ in rows if r == "killed")
    skipped = f"; {len(not_run)} not run: this CPU lacks a family their tests need" if not_run else ""
    print(f"\n{killed} of {len(rows)} mutants killed{skipped}")
    return 0 if killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
