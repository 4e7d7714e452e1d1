#!/bin/sh
# tools/mcu/bench_cmsis_nn.sh CMSIS_NN_DIR CMSIS_CORE_INCLUDE_DIR: builds cmsis_nn_bench.c (the small
# NiN's layers with CMSIS-NN's int8 kernels) for the same Cortex-M4F as the firmware, with
# arm-none-eabi-gcc -O2 and this directory's startup file, into .build-mcu/cmsis-nn.elf, and
# prints the instructions of one inference under qemu-system-arm -M mps2-an386 (the tools/qemu/insn_count.c
# plugin, between the driver's marks). CMSIS-NN is not part of this repository: pass a checkout of
# github.com/ARM-software/CMSIS-NN and CMSIS-Core's Include folder (CMSIS_6: CMSIS/Core/Include).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MCU=$ROOT/tools/mcu
NN=$1 CORE=$2
OUT=$ROOT/.build-mcu/cmsis-nn
mkdir -p "$OUT/shim"
# No C library: the two headers CMSIS-NN includes beyond the compiler's, declared here; memcpy and
# memset as the compiler's builtins (-ffreestanding turns them off), so that CMSIS-NN's 4-byte
# memcpy reads are single loads as with a hosted compiler.
printf '#include <stddef.h>\nvoid *memcpy(void *, const void *, size_t);\nvoid *memset(void *, int, size_t);\nvoid *memmove(void *, const void *, size_t);\n#define memcpy __builtin_memcpy\n#define memset __builtin_memset\n#define memmove __builtin_memmove\n' > "$OUT/shim/string.h"
: > "$OUT/shim/stdio.h"
CPU="-mcpu=cortex-m4 -mthumb -mfloat-abi=softfp -mfpu=fpv4-sp-d16"
# shellcheck disable=SC2086
arm-none-eabi-gcc $CPU -O2 ${CFLAGS:-} -ffreestanding -ffunction-sections -fdata-sections -I "$OUT/shim" -I "$NN/Include" -I "$CORE" -I "$MCU" \
    -DNIN_PLATFORM_BARE -DNIN_BARE_HEAP_BYTES=16 -DNIN_BARE_NO_MALLOC -I "$ROOT/Sources/CNiNPlatform" \
    -nostdlib -T "$MCU/mps2.ld" -Wl,--gc-sections -Wl,--no-warn-execstack \
    "$MCU/cmsis_nn_bench.c" "$MCU/startup.c" "$MCU/runtime.c" "$ROOT/Sources/CNiNPlatform/nin_platform_bare.c" \
    "$NN"/Source/ConvolutionFunctions/*_s8*.c "$NN"/Source/PoolingFunctions/*_s8*.c \
    $(ls "$NN"/Source/NNSupportFunctions/*.c | grep -v -e f32 -e f16) \
    -lgcc -o "$OUT/cmsis-nn.elf"
arm-none-eabi-size "$OUT/cmsis-nn.elf"
mark=$(arm-none-eabi-nm "$OUT/cmsis-nn.elf" | awk '$3 == "mcu_mark" { print "0x" $1 }')
cc -O2 -shared -fPIC "$ROOT/tools/qemu/insn_count.c" -o "$OUT/insn_count.so"
qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -semihosting-config enable=on,target=native \
    -kernel "$OUT/cmsis-nn.elf" -plugin "$OUT/insn_count.so,mark=$mark" -d plugin -D "$OUT/insn.log"
awk '/^insn mark/ { m[n++] = $3 } END { printf "cmsis-nn: %d instructions per inference (second of two)\n", m[3] - m[2] }' "$OUT/insn.log"
