#!/bin/sh
# tools/wasm/build.sh [OUT]: nin as WebAssembly, OUT (default web/nin.wasm): the engine, the
# wasmsimd (Sources/NiNWasmSIMD: SIMD128) and portable kernel families and the C API of
# include/nin.h, compiled with Embedded Swift for wasm32-unknown-none-wasm (no Swift runtime, no C
# library) on the single-threaded, file-less platform backend (Sources/CNiNPlatform/nin_platform_bare.h and .c: one thread, models and images
# from memory, its own allocator over linear memory), linked by wasm-ld. Like
# tools/embedded/build.sh, one whole-module swiftc run per Swift target, in dependency order, into
# .build-wasm/. PNG decoding is left out (tools/bare/NoPNG.swift): JavaScript decodes images.
# Also .build-wasm/kernel-check.wasm: every family of this build against the reference kernels.
# Then the same with relaxed SIMD: OUT's nin-relaxed.wasm (the wasmrelaxed family first,
# Sources/NiNWasmRelaxed; engine, C API and kernel check rebuilt in .build-wasm/relaxed/ with
# NIN_WASM_RELAXED, without the portable family) and .build-wasm/relaxed/kernel-check.wasm. A module that uses relaxed SIMD
# is refused whole by an engine without it, hence two modules; nin.js loads nin-relaxed.wasm
# where WebAssembly.validate accepts relaxed SIMD, else nin.wasm.
# `make wasm` runs this; web/nin.js loads what it builds.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${1:-$ROOT/web/nin.wasm}
MOD=$ROOT/.build-wasm
mkdir -p "$MOD" "$(dirname "$OUTPUT")"
S=$ROOT/Sources
SWIFTC=${SWIFTC:-swiftc}
TOOLCHAIN=$(dirname "$(dirname "$(command -v "$SWIFTC")")")
CLANG=${CLANG:-$TOOLCHAIN/bin/clang}
WASM_LD=${WASM_LD:-$TOOLCHAIN/bin/wasm-ld}
TARGET=wasm32-unknown-none-wasm
# SIMD128 and bulk memory (memory.copy/fill): every browser since 2021 and Node 16+ have both.
FEATURES="-msimd128 -mbulk-memory"

# -Osize for the engine and the C API (322 -> 293 KB, no change in a run's time measured); the
# kernel families' modules are -Ounchecked, as in the hosted build.
mkdir -p "$MOD/NiNCPU"
printf 'module NiNCPU {\n    umbrella "%s"\n    export *\n}\n' "$S/NiNCPU/include" > "$MOD/NiNCPU/module.modulemap"

SWIFTFLAGS="-target $TARGET -enable-experimental-feature Embedded -wmo -swift-version 5 -package-name nin -Osize -Xfrontend -disable-stack-protector
            -Xcc -DNIN_PLATFORM_BARE -Xcc -msimd128 -Xcc -mbulk-memory -Xllvm -mattr=+simd128,+bulk-memory
            -I $MOD -Xcc -fmodule-map-file=$MOD/NiNCPU/module.modulemap -I $S/CNiNPlatform -I $S/CNiN -I $S/CNiNWasmSIMD"

# swift_module NAME SOURCES [FLAGS...]: the .swift files under SOURCES (a folder or a file) ->
# DEST/NAME.o (DEST: MOD, or MOD/relaxed for nin-relaxed.wasm, whose modules are found first)
DEST=$MOD
swift_module() {
    name=$1 dir=$2; shift 2
    echo "wasm: $name${DEST#"$MOD"}"
    # shellcheck disable=SC2046,SC2086
    $SWIFTC -I "$DEST" $SWIFTFLAGS -parse-as-library -module-name "$name" "$@" -emit-module -emit-module-path "$DEST/$name.swiftmodule" \
        -c -o "$DEST/$name.o" $(find "$dir" -name '*.swift' | sort)
}

# shellcheck disable=SC2086
"$CLANG" --target=$TARGET -O2 $FEATURES -DNIN_PLATFORM_BARE -ffreestanding -fno-builtin -Wall -Werror \
    -c "$S/CNiNPlatform/nin_platform_bare.c" -o "$MOD/nin_platform_bare.o"
swift_module NiNPlatform "$S/NiNPlatform"
swift_module NiNKernelCore "$S/NiNKernelCore"
swift_module NiNPortable "$S/NiNPortable" -Ounchecked
# -disable-lsr: without loop strength reduction, LLVM keeps the tiles' constant load offsets in
# wasm's offset field, so V8 needs no address add per load (classic model: 5% faster).
swift_module NiNWasmSIMD "$S/NiNWasmSIMD" -Ounchecked -Xllvm -disable-lsr
swift_module NiN "$S/NiN" -D NIN_WASM_KERNELS
swift_module NiNPNG "$ROOT/tools/bare/NoPNG.swift"
swift_module NiNCAPI "$S/NiNCAPI"

# The function names section (48 KB) is dropped unless NIN_WASM_NAMES=1 (profiles in Node or
# Chromium then name Swift functions).
STRIP=--strip-all
[ "${NIN_WASM_NAMES:-0}" = 0 ] || STRIP=--strip-debug
# Exports: every function nin.h declares, and the allocator (JavaScript puts models and pixels
# in linear memory); the heap figures for the memory test.
EXPORTS=$(sed -n 's/^[a-z].*[ *]\(nin_[a-z0-9_]*\)(.*/--export=\1/p' "$ROOT/include/nin.h" | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
"$WASM_LD" --no-entry $EXPORTS --export=malloc --export=free --export=ninpriv_bare_heap_bytes \
    --export=ninpriv_bare_heap_used -z stack-size=1048576 --gc-sections $STRIP \
    "$MOD/nin_platform_bare.o" "$MOD/NiNPlatform.o" "$MOD/NiNKernelCore.o" "$MOD/NiNPortable.o" "$MOD/NiNWasmSIMD.o" "$MOD/NiN.o" \
    "$MOD/NiNPNG.o" "$MOD/NiNCAPI.o" "$TOOLCHAIN/lib/swift/embedded/$TARGET/libswiftUnicodeDataTables.a" \
    -o "$OUTPUT"
echo "wasm: $OUTPUT ($(wc -c < "$OUTPUT") bytes)"

# The kernel check (tools/wasm/KernelCheck.swift over NiNKernelCheck): every family of this build
# against the reference kernels, for Tests/wasm.
swift_module NiNKernelCheck "$S/NiNKernelCheck"
swift_module KernelCheck "$ROOT/tools/wasm/KernelCheck.swift"
# shellcheck disable=SC2086
"$WASM_LD" --no-entry --export=ninwasm_kernel_check --export=ninwasm_kernel_check_families --export=ninwasm_profile --export=malloc -z stack-size=1048576 \
    --gc-sections --strip-debug "$MOD/nin_platform_bare.o" "$MOD/NiNPlatform.o" "$MOD/NiNKernelCore.o" "$MOD/NiNPortable.o" \
    "$MOD/NiNWasmSIMD.o" "$MOD/NiN.o" "$MOD/NiNKernelCheck.o" "$MOD/KernelCheck.o" \
    "$TOOLCHAIN/lib/swift/embedded/$TARGET/libswiftUnicodeDataTables.a" -o "$MOD/kernel-check.wasm"
echo "wasm: $MOD/kernel-check.wasm"

# nin-relaxed.wasm: relaxed SIMD for the wasmrelaxed family and the modules that name it.
# (Every module that imports NiNWasmRelaxed, even indirectly, sees CNiNWasmSIMD with relaxed SIMD.)
SWIFTFLAGS="$SWIFTFLAGS -Xcc -mrelaxed-simd -Xllvm -mattr=+simd128,+relaxed-simd,+bulk-memory"
DEST=$MOD/relaxed
mkdir -p "$DEST"
swift_module NiNWasmRelaxed "$S/NiNWasmRelaxed" -Ounchecked -Xllvm -disable-lsr
# Without the portable family: SIMD128 is there wherever this module validates (size).
swift_module NiN "$S/NiN" -D NIN_WASM_KERNELS -D NIN_WASM_RELAXED -D NIN_NO_PORTABLE_FAMILY
swift_module NiNPNG "$ROOT/tools/bare/NoPNG.swift"
swift_module NiNCAPI "$S/NiNCAPI"
RELAXED_OUTPUT=$(dirname "$OUTPUT")/nin-relaxed.wasm
# shellcheck disable=SC2086
"$WASM_LD" --no-entry $EXPORTS --export=malloc --export=free --export=ninpriv_bare_heap_bytes \
    --export=ninpriv_bare_heap_used -z stack-size=1048576 --gc-sections $STRIP \
    "$MOD/nin_platform_bare.o" "$MOD/NiNPlatform.o" "$MOD/NiNKernelCore.o" "$MOD/NiNPortable.o" "$MOD/NiNWasmSIMD.o" \
    "$DEST/NiNWasmRelaxed.o" "$DEST/NiN.o" "$DEST/NiNPNG.o" "$DEST/NiNCAPI.o" \
    "$TOOLCHAIN/lib/swift/embedded/$TARGET/libswiftUnicodeDataTables.a" -o "$RELAXED_OUTPUT"
echo "wasm: $RELAXED_OUTPUT ($(wc -c < "$RELAXED_OUTPUT") bytes)"
swift_module NiNKernelCheck "$S/NiNKernelCheck"
swift_module KernelCheck "$ROOT/tools/wasm/KernelCheck.swift"
# shellcheck disable=SC2086
"$WASM_LD" --no-entry --export=ninwasm_kernel_check --export=ninwasm_kernel_check_families --export=ninwasm_profile --export=malloc -z stack-size=1048576 \
    --gc-sections --strip-debug "$MOD/nin_platform_bare.o" "$MOD/NiNPlatform.o" "$MOD/NiNKernelCore.o" "$MOD/NiNPortable.o" \
    "$MOD/NiNWasmSIMD.o" "$DEST/NiNWasmRelaxed.o" "$DEST/NiN.o" "$DEST/NiNKernelCheck.o" "$DEST/KernelCheck.o" \
    "$TOOLCHAIN/lib/swift/embedded/$TARGET/libswiftUnicodeDataTables.a" -o "$DEST/kernel-check.wasm"
echo "wasm: $DEST/kernel-check.wasm"
