#!/bin/sh
# tools/mcu/build.sh: nin as Cortex-M firmware for qemu's MPS2 boards (mps2-an386, Cortex-M4F;
# the same image runs on mps2-an500, Cortex-M7), into .build-mcu/nin-mcu.elf (and .bin): the
# engine with the cortexm and generic kernel families (nin-mcu-all.elf: and the portable one,
# which make test-mcu runs too), and the C API of include/nin.h, compiled with Embedded Swift
# for armv7em-none-none-eabi (Thumb-2, DSP, single-precision FPU; soft-float calling convention,
# as the toolchain's lib/swift/embedded/armv7em-none-none-eabi is built) on the single-threaded,
# file-less platform backend (Sources/CNiNPlatform/nin_platform_bare.c, its allocator over a
# static pool: NIN_BARE_HEAP_BYTES); tools/mcu's startup file, linker script (mps2.ld) and demo
# (firmware.c); the model (MODEL, default models/fashion_small.nin) incbin'd into flash; the
# example images prepared by make_images.py. Linked by arm-none-eabi-gcc with no C library at all
# (-nostdlib; libgcc for the compiler's helpers): malloc, calloc and realloc are not defined, so
# any call to them fails the link. The engine is built -DNIN_SINGLE_THREADED (the platform has no
# threads: the arena plan's lane layout, for several threads, is left out of the code).
# nin-mcu-check.elf: the random convolutions of Sources/NiNKernelCheck on the board, cortexm against
# the reference kernels (KernelCheck.swift, check.c). `make mcu` runs this.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MCU=$ROOT/tools/mcu
OUT=${OUT:-$ROOT/.build-mcu}
MODEL=${MODEL:-$ROOT/models/fashion_small.nin}
# The static pool the model's objects (and its packed weights) come from, the arena and the
# stack: nin-mcu.elf's sized for the small model with the cortexm family (what make bench-mcu
# reports, plus margin: RAM of 96,000 bytes holds them all), nin-mcu-all.elf's for the portable
# family (its packed weights and large im2col). A model needing more is a clear error at run.
POOL_BYTES=${POOL_BYTES:-26624}
ARENA_BYTES=${ARENA_BYTES:-53760}
STACK_BYTES=${STACK_BYTES:-5120}
ALL_POOL_BYTES=${ALL_POOL_BYTES:-1048576}
ALL_ARENA_BYTES=${ALL_ARENA_BYTES:-184320}
ALL_STACK_BYTES=${ALL_STACK_BYTES:-32768}
# nin-mcu-check.elf (the random convolutions, cortexm against the reference on the board): its
# pool holds each trial's model, the reference's and cortexm's contexts and their outputs.
CHECK_POOL_BYTES=${CHECK_POOL_BYTES:-1048576}
CHECK_STACK_BYTES=${CHECK_STACK_BYTES:-32768}
MOD=$OUT/swift
mkdir -p "$MOD" "$OUT/gen"
S=$ROOT/Sources
SWIFTC=${SWIFTC:-swiftc}
TOOLCHAIN=$(dirname "$(dirname "$(command -v "$SWIFTC")")")
CLANG=${CLANG:-$TOOLCHAIN/bin/clang}
CROSS=${CROSS:-arm-none-eabi-}
TARGET=armv7em-none-none-eabi
CPU="-mcpu=cortex-m4 -mthumb -mfloat-abi=softfp -mfpu=fpv4-sp-d16"
SWIFT_OPT=${SWIFT_OPT:--Osize}  # the kernels: -Ounchecked (below)

for tool in "${CROSS}gcc" "$CLANG" python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "mcu: $tool not found (.ci/deps installs gcc-arm-none-eabi)" >&2; exit 1; }
done
mkdir -p "$MOD/NiNCPU"
printf 'module NiNCPU {\n    umbrella "%s"\n    export *\n}\n' "$S/NiNCPU/include" > "$MOD/NiNCPU/module.modulemap"

SWIFTFLAGS="-target $TARGET -enable-experimental-feature Embedded -wmo -swift-version 5 -package-name nin
            -Xfrontend -disable-stack-protector -Xfrontend -function-sections
            -Xcc -DNIN_PLATFORM_BARE -Xcc -mcpu=cortex-m4 -Xcc -mfloat-abi=softfp -Xcc -mfpu=fpv4-sp-d16
            -I $MOD -Xcc -fmodule-map-file=$MOD/NiNCPU/module.modulemap -I $S/CNiNPlatform -I $S/CNiN"

# swift_module NAME SOURCES_DIR [FLAGS...]: the .swift files under SOURCES_DIR -> DEST/NAME.o
# (DEST: MOD unless set; modules in DEST are found before those in MOD)
swift_module() {
    name=$1 dir=$2; shift 2
    dest=${DEST:-$MOD}
    echo "mcu: $name${DEST:+ ($DEST)}"
    # shellcheck disable=SC2046,SC2086
    $SWIFTC -I "$dest" $SWIFTFLAGS $SWIFT_OPT -parse-as-library -module-name "$name" "$@" -emit-module -emit-module-path "$dest/$name.swiftmodule" \
        -c -o "$dest/$name.o" $(find "$dir" -name '*.swift' | sort)
}

# cc SOURCE OBJECT [FLAGS...]: -Os (for flash) unless FLAGS say otherwise
cc() {
    src=$1 obj=$2; shift 2
    # shellcheck disable=SC2086
    "$CLANG" --target=armv7em-none-eabi $CPU -Os -ffreestanding -fno-builtin -ffunction-sections -fdata-sections \
        -Wall -Werror -I "$ROOT/include" -I "$MCU" -I "$OUT/gen" "$@" -c "$src" -o "$obj"
}

python3 "$MCU/make_images.py" "$(basename "$MODEL" .nin)" "$OUT/gen"
# its memcpy and memmove, which the engine calls while running, at -O2 (-Os: 0.25% more instructions)
cc "$S/CNiNPlatform/nin_platform_bare.c" "$OUT/pool.o" -DNIN_PLATFORM_BARE -DNIN_BARE_HEAP_BYTES="$POOL_BYTES" -DNIN_BARE_NO_MALLOC -O2
cc "$S/CNiNPlatform/nin_platform_bare.c" "$OUT/pool-all.o" -DNIN_PLATFORM_BARE -DNIN_BARE_HEAP_BYTES="$ALL_POOL_BYTES" -DNIN_BARE_NO_MALLOC -O2
cc "$MCU/startup.c" "$OUT/startup.o"
cc "$MCU/runtime.c" "$OUT/runtime.o" -O2  # memset and the rounding functions the engine calls while running
cc "$MCU/firmware.c" "$OUT/firmware.o" -DNIN_MCU_ARENA_BYTES="$ARENA_BYTES"
cc "$MCU/firmware.c" "$OUT/firmware-all.o" -DNIN_MCU_ARENA_BYTES="$ALL_ARENA_BYTES"
cc "$OUT/gen/images.c" "$OUT/images.o"
cc "$S/CNiNPlatform/nin_platform_bare.c" "$OUT/pool-check.o" -DNIN_PLATFORM_BARE -DNIN_BARE_HEAP_BYTES="$CHECK_POOL_BYTES" -DNIN_BARE_NO_MALLOC -O2
cc "$MCU/check.c" "$OUT/check.o"
cc "$MCU/model.S" "$OUT/model.o" -DNIN_MCU_MODEL="\"$MODEL\""
swift_module NiNPlatform "$S/NiNPlatform"
swift_module NiNKernelCore "$S/NiNKernelCore"
swift_module NiNPortable "$S/NiNPortable" -Ounchecked
swift_module NiNCortexM "$S/NiNCortexM" -Ounchecked
# The firmware (nin-mcu.elf): the cortexm family and the reference kernels (generic), which
# read the weights in place; the portable family, which packs them into RAM (660 KB for the
# small model: no small part holds that), is left out to save its 11 KB of code. nin-mcu-all.elf,
# the same with the portable family too, is what make test-mcu also runs to check portable.
swift_module NiN "$S/NiN" -DNIN_CORTEXM_KERNELS -DNIN_NO_PORTABLE_FAMILY -DNIN_SINGLE_THREADED
swift_module NiNPNG "$ROOT/tools/bare/NoPNG.swift"
swift_module NiNCAPI "$S/NiNCAPI"
swift_module NiNKernelCheck "$S/NiNKernelCheck"
swift_module NiNMCUCheck "$MCU/KernelCheck.swift"
ALL=$OUT/swift-all
mkdir -p "$ALL"
DEST=$ALL swift_module NiN "$S/NiN" -DNIN_CORTEXM_KERNELS -DNIN_SINGLE_THREADED
DEST=$ALL swift_module NiNPNG "$ROOT/tools/bare/NoPNG.swift"
DEST=$ALL swift_module NiNCAPI "$S/NiNCAPI"

# link IMAGE STACK OBJECTS...: OUT/IMAGE.elf (and .bin, .map) of the startup file, the runtime,
# OBJECTS and the modules every image has, with STACK bytes of stack
link() {
    image=$1 stack=$2; shift 2
    # shellcheck disable=SC2086
    "${CROSS}gcc" $CPU -nostdlib -T "$MCU/mps2.ld" -Wl,--defsym=STACK_BYTES="$stack" -Wl,--gc-sections -Wl,--no-enum-size-warning -Wl,--no-warn-execstack \
        -Wl,-Map="$OUT/$image.map" "$OUT/startup.o" "$OUT/runtime.o" "$@" \
        "$MOD/NiNPortable.o" "$MOD/NiNCortexM.o" "$MOD/NiNKernelCore.o" "$MOD/NiNPlatform.o" \
        "$TOOLCHAIN/lib/swift/embedded/$TARGET/libswiftUnicodeDataTables.a" -lgcc -o "$OUT/$image.elf"
    "${CROSS}objcopy" -O binary "$OUT/$image.elf" "$OUT/$image.bin"
    "${CROSS}size" "$OUT/$image.elf"
    echo "mcu: $OUT/$image.elf"
}
# engine ENGINE_DIR: its NiN, NiNPNG and NiNCAPI
engine() { echo "$1/NiNCAPI.o $1/NiN.o $1/NiNPNG.o"; }
# shellcheck disable=SC2046
link nin-mcu "$STACK_BYTES" "$OUT/firmware.o" "$OUT/images.o" "$OUT/model.o" "$OUT/pool.o" $(engine "$MOD")
# shellcheck disable=SC2046
link nin-mcu-all "$ALL_STACK_BYTES" "$OUT/firmware-all.o" "$OUT/images.o" "$OUT/model.o" "$OUT/pool-all.o" $(engine "$ALL")
link nin-mcu-check "$CHECK_STACK_BYTES" "$OUT/check.o" "$OUT/pool-check.o" "$MOD/NiNMCUCheck.o" "$MOD/NiNKernelCheck.o" "$MOD/NiN.o" "$MOD/NiNPNG.o"
