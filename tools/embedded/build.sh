#!/bin/sh
# tools/embedded/build.sh [DIR]: libnin built with Embedded Swift (no Swift runtime, no libstdc++)
# from the same sources as the hosted build, into DIR (default .build-embedded):
#   DIR/release/libnin.so (SONAME libnin.so.MAJOR, exports exactly nin.h's functions) and
#   DIR/release/libnin.a, where DIR/release links to DIR/TARGET/release (SwiftPM's layout, so the
#   library finds the checkout's models/ as a hosted one does: DefaultModel.swift);
#   DIR/release/nin-infer and DIR/release/nin-kernel-check (static PIEs);
#   DIR/modules/ (the Swift modules and objects, one per target).
# Embedded Swift compiles a module whole (-wmo), so each Swift target of Package.swift is one
# swiftc run emitting its .swiftmodule and one object, in dependency order, with that target's
# flags (the ISA targets' -m flags, -Ounchecked); the C targets (NiNCPU, NiNPNGRead) are compiled
# by clang. `make embedded` runs this; `make test-embedded` tests what it builds.
# TARGET=aarch64-unknown-linux-gnu cross-builds for arm64 Linux (`make arm64`): the Swift code for
# the Embedded stdlib's aarch64-none-none-elf (its C imports see aarch64 glibc: -clang-target),
# linked by aarch64-linux-gnu-gcc against Debian's arm64 glibc, libpng and zlib.
set -eu
TARGET=${TARGET:-x86_64-unknown-linux-gnu}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$ROOT/.build-embedded}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
OUT=$DIR/$TARGET/release
MOD=$DIR/modules
mkdir -p "$MOD" "$OUT"
ln -sfn "$TARGET/release" "$DIR/release"
S=$ROOT/Sources
SWIFTC=${SWIFTC:-swiftc}
# Per target: the Embedded stdlib's triple, the C compiler and binutils, the kernel families'
# ISA modules (name and flags; Package.swift's kernelTargets) and the engine's -D for them.
case $TARGET in
    x86_64-*)
        SWIFT_TARGET="-target $TARGET" STDLIB=$TARGET CC=${CC:-cc} NM=${NM:-nm} OBJCOPY=${OBJCOPY:-objcopy}
        ENGINE_DEFINES="-D NIN_X86_KERNELS" ;;
    aarch64-*)
        SWIFT_TARGET="-target aarch64-none-none-elf -clang-target $TARGET -Xcc -isystem -Xcc /usr/aarch64-linux-gnu/include"
        STDLIB=aarch64-none-none-elf
        CC=${CC:-aarch64-linux-gnu-gcc} NM=${NM:-aarch64-linux-gnu-nm} OBJCOPY=${OBJCOPY:-aarch64-linux-gnu-objcopy}
        # (the cross gcc's -fuse-ld=lld looks for aarch64-linux-gnu-ld.lld: the toolchain's ld.lld)
        mkdir -p "$MOD/bin" && ln -sf "$(command -v ld.lld)" "$MOD/bin/aarch64-linux-gnu-ld.lld" && PATH=$MOD/bin:$PATH
        export PKG_CONFIG_LIBDIR=${PKG_CONFIG_LIBDIR:-/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig}
        ENGINE_DEFINES="-D NIN_ARM64_KERNELS" ;;
    *) echo "build.sh: TARGET $TARGET: not x86_64-* or aarch64-*" >&2; exit 2 ;;
esac
# The Embedded standard library's Unicode tables (String comparison and counting need them).
EMBEDDED_LIB=$(dirname "$(dirname "$(command -v "$SWIFTC")")")/lib/swift/embedded/$STDLIB
MAJOR=$(sed -n 's/^#define NIN_VERSION_MAJOR \([0-9]*\).*/\1/p' "$ROOT/include/nin.h")

# The C targets' public headers as clang modules (SwiftPM makes these for the hosted build).
for target in NiNCPU NiNPNGRead; do
    mkdir -p "$MOD/$target"
    printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' "$target" "$S/$target/include" > "$MOD/$target/module.modulemap"
done

# -function-sections (a frontend flag: the driver's own spelling is ignored under Embedded): each
# function in its own section, so that --gc-sections drops what nothing reaches. Embedded Swift
# compiles what a module uses from another into it, so without it every copy stayed (the C API
# module repeats much of the engine): 963 KB of text then, 471 KB with it.
EMBEDDED="$SWIFT_TARGET -enable-experimental-feature Embedded -wmo
          -swift-version 5 -package-name nin -O -Xfrontend -function-sections -I $MOD -Xcc -fmodule-map-file=$MOD/NiNCPU/module.modulemap
          -Xcc -fmodule-map-file=$MOD/NiNPNGRead/module.modulemap -I $S/CNiNPlatform -I $S/CNiN -I $S/CLibPNG
          -I $S/CNiNAMX $(pkg-config --cflags-only-I libpng | sed 's/-I/-Xcc -I/g')"
AVX2="-Xcc -mavx2 -Xcc -mfma"
AVX512="$AVX2 -Xcc -mavx512f -Xcc -mavx512vl -Xcc -mavx512bw -Xcc -mavx512vnni"

# swift_module NAME [FLAGS...]: Sources/NAME/**/*.swift -> MOD/NAME.swiftmodule + MOD/NAME.o
# (an executable's NAME is its folder; pass -module-name for a module name of its own; a folder
# with a main.swift is top-level code, the others are libraries or have an @main type)
swift_module() {
    name=$1; shift
    echo "embedded: $name"
    rm -f "$MOD/$name.o"  # (objcopy rewrites some objects below; never keep one from an earlier run)
    library=-parse-as-library
    [ ! -f "$S/$name/main.swift" ] || library=
    # shellcheck disable=SC2046,SC2086
    $SWIFTC $EMBEDDED $library -module-name "$name" "$@" -emit-module -emit-module-path "$MOD/$name.swiftmodule" \
        -c -o "$MOD/$name.o" $(find "$S/$name" -name '*.swift' | sort)
}

$CC -O2 -fPIC -I "$S/NiNCPU/include" -c "$S/NiNCPU/cpu.c" -o "$MOD/cpu.o"
$CC -O2 -fPIC -I "$S/NiNCPU/include" -c "$S/NiNCPU/fork.c" -o "$MOD/fork.o"
$CC -O2 -fPIC -I "$S/NiNCPU/include" -c "$S/NiNCPU/binary.c" -o "$MOD/binary.o"
$CC -O2 -fPIC -I "$S/NiNCPU/include" -c "$S/NiNCPU/crc32.c" -o "$MOD/crc32.o"
$CC -O2 -fPIC -I "$S/NiNPNGRead/include" $(pkg-config --cflags libpng) -c "$S/NiNPNGRead/ninpriv_png.c" -o "$MOD/png.o"

# The modules off the hot path (platform calls, the engine NiN: model reading, planning and the
# scheduler, PNG, the C API's glue and the CLI) are compiled for size (-Osize; the last -O flag
# wins); the kernel modules and NiNKernelCore's drivers keep -O / -Ounchecked (docs/ARCHITECTURE.md,
# "Embedded Swift": the same instructions per inference, measured).
SMALL=-Osize
swift_module NiNPlatform $SMALL
swift_module NiNKernelCore
swift_module NiNPortable -Ounchecked
case $TARGET in
    x86_64-*)
        swift_module NiNAVX2 $AVX2 -Ounchecked
        swift_module NiNAVXVNNI $AVX2 -Xcc -mavxvnni -Ounchecked
        swift_module NiNAVX512VNNI $AVX512 -Ounchecked
        swift_module NiNAMXTiles
        swift_module NiNAMX $AVX512 -Xcc -mamx-tile -Xcc -mamx-int8 -Ounchecked
        ISA_MODULES="NiNAVX2 NiNAVXVNNI NiNAVX512VNNI NiNAMX" BASELINE_EXTRA=NiNAMXTiles ;;
    aarch64-*)
        swift_module NiNNEON -Ounchecked
        # -disable-lsr (as for wasm): without loop strength reduction the dot tiles keep one
        # pointer per pixel and constant weight offsets (classic model under qemu neoverse-n1:
        # 67.9 M -> 66.8 M instructions).
        swift_module NiNNEONDot -Xcc -march=armv8.2-a+dotprod -Ounchecked -Xllvm -disable-lsr
        swift_module NiNI8MM -Xcc -march=armv8.2-a+dotprod+i8mm -Ounchecked -Xllvm -disable-lsr
        ISA_MODULES="NiNNEON NiNNEONDot NiNI8MM" BASELINE_EXTRA="" ;;
esac
# An ISA module holds its own copies of the code it uses from other modules (the shared drivers
# and im2col of NiNKernelCore, the standard library), compiled with its flags, as weak functions.
# The linker would keep one copy per name for the whole library (the baseline module's strong
# definition where there is one): the AVX2 kernels would run NiNKernelCore's SSE2 im2col (layer
# times up to 9x), and a baseline caller could get an AVX2 copy. Made local, each module's copies
# serve that module alone, as the hosted build inlines them into it.
for name in $ISA_MODULES; do
    $NM --defined-only "$MOD/$name.o" | awk '$2 == "W" {print $3}' > "$MOD/$name.local"
    [ ! -s "$MOD/$name.local" ] || $OBJCOPY --localize-symbols="$MOD/$name.local" "$MOD/$name.o"
done
# shellcheck disable=SC2086
swift_module NiN $ENGINE_DEFINES $SMALL
swift_module NiNPNG $SMALL
swift_module NiNCAPI $SMALL

# The baseline modules also carry copies of each other's code (weak: the linker keeps the first);
# the ISA modules' copies are local (above), so baseline code never calls code built with -m flags:
# only a family's own target runs its instructions, after its probe (docs/ARCHITECTURE.md, Targets).
OBJECTS="$MOD/cpu.o $MOD/fork.o $MOD/binary.o $MOD/crc32.o $MOD/png.o $MOD/NiNPlatform.o $MOD/NiNKernelCore.o $MOD/NiNPortable.o
         $(for name in $BASELINE_EXTRA; do echo "$MOD/$name.o"; done) $MOD/NiN.o $MOD/NiNPNG.o $MOD/NiNCAPI.o
         $(for name in $ISA_MODULES; do echo "$MOD/$name.o"; done)"
# libnin.a holds the Unicode tables' objects too, so `cc app.c libnin.a -lpng16 -lm` links.
rm -rf "$MOD/unicode" "$OUT/libnin.a" && mkdir -p "$MOD/unicode"
(cd "$MOD/unicode" && ar x "$EMBEDDED_LIB/libswiftUnicodeDataTables.a")
# shellcheck disable=SC2086
ar rcs "$OUT/libnin.a" $OBJECTS "$MOD"/unicode/*.o
# shellcheck disable=SC2086
$CC -shared -fuse-ld=lld -Wl,--version-script="$S/NiNCAPI/exports.map" -Wl,-soname,libnin.so.$MAJOR \
    -Wl,--gc-sections -Wl,-z,defs $OBJECTS -o "$OUT/libnin.so" \
    -L"$EMBEDDED_LIB" -lswiftUnicodeDataTables $(pkg-config --libs libpng) -lm -lpthread
ln -sf libnin.so "$OUT/libnin.so.$MAJOR"

# nin-infer: a static PIE (plain -static fails on a copy relocation of a protected Swift symbol),
# from the same objects less the C API's, with libpng and zlib linked in.
swift_module nin-infer -module-name nin_infer $SMALL
# shellcheck disable=SC2086
$CC -static-pie -Wl,--gc-sections $(echo "$OBJECTS" | sed "s|$MOD/NiNCAPI.o||") "$MOD/nin-infer.o" -o "$OUT/nin-infer" \
    -L"$EMBEDDED_LIB" -lswiftUnicodeDataTables -lpng16 -lz -lm -lpthread
# nin-kernel-check (every family this CPU runs against the reference), static PIE like nin-infer.
swift_module NiNKernelCheck
swift_module nin-kernel-check -module-name nin_kernel_check
# shellcheck disable=SC2086
$CC -static-pie -Wl,--gc-sections $(echo "$OBJECTS" | sed "s|$MOD/NiNCAPI.o||; s|$MOD/png.o||") "$MOD/NiNKernelCheck.o" \
    "$MOD/nin-kernel-check.o" -o "$OUT/nin-kernel-check" -L"$EMBEDDED_LIB" -lswiftUnicodeDataTables -lm -lpthread
echo "embedded: $OUT/libnin.so, $OUT/libnin.a, $OUT/nin-infer, $OUT/nin-kernel-check"
