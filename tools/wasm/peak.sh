#!/bin/sh
# tools/wasm/peak.sh [ROUNDS=3] [MODEL=models/fashion_classic.nin]: the ceiling of the wasmrelaxed
# kernels on this CPU. Builds .build-wasm/peak.wasm (tools/wasm/peak_wasm.c, clang for
# wasm32 with relaxed SIMD, as tools/wasm/build.sh compiles the kernels' C header) and the native
# step (tools/wasm/peak_native.c, AVX2), then in ROUNDS interleaved rounds times the inner step's
# peak rate in Node (tools/wasm/peak.mjs), in headless Chromium (tools/wasm/peak_chromium.py) and
# natively at 128 and 256 bits. Prints every round, the medians and the best rounds in GMAC/s, and
# what they mean for MODEL: the least time its multiply-adds take at each best rate (the whole run
# can only be slower).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-3} MODEL=${2:-$ROOT/models/fashion_classic.nin}
OUT=$ROOT/.build-wasm
mkdir -p "$OUT"
SWIFTC=${SWIFTC:-swiftc}
TOOLCHAIN=$(dirname "$(dirname "$(command -v "$SWIFTC")")")
CLANG=${CLANG:-$TOOLCHAIN/bin/clang}
WASM_LD=${WASM_LD:-$TOOLCHAIN/bin/wasm-ld}
"$CLANG" --target=wasm32-unknown-none-wasm -O2 -msimd128 -mrelaxed-simd -ffreestanding -nostdlib -Wall -Werror \
    -c "$ROOT/tools/wasm/peak_wasm.c" -o "$OUT/peak.o"
"$WASM_LD" --no-entry --export-dynamic --strip-all "$OUT/peak.o" -o "$OUT/peak.wasm"
cc -O2 -mavx2 -std=c11 -Wall -Werror "$ROOT/tools/wasm/peak_native.c" -o "$OUT/peak_native"
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(grep -o -w -m1 -E 'avx512vnni|avx_vnni|avx2' /proc/cpuinfo | head -1)); Node $(node --version); $(chromium --version 2>/dev/null)"
: > "$OUT/peak.txt"
round=1
while [ "$round" -le "$ROUNDS" ]; do
    line="node $(node --experimental-wasm-relaxed-simd "$ROOT/tools/wasm/peak.mjs" "$OUT/peak.wasm")"
    line="$line chromium $(python3 "$ROOT/tools/wasm/peak_chromium.py")"
    line="$line $("$OUT/peak_native")"
    echo "round $round: $line" | tee -a "$OUT/peak.txt"
    round=$((round + 1))
done
cd "$ROOT/tools" && python3 - "$OUT/peak.txt" "$MODEL" <<'PY'
import statistics
import sys
from pathlib import Path

from nin_tools import model_format as F
from nin_tools.bench.model import conv_macs

rounds = [line.split(": ", 1)[1].split() for line in open(sys.argv[1])]
figures: dict[str, list[float]] = {}
for words in rounds:
    engine = ""
    for word in words:
        if "=" not in word:
            engine = word
            continue
        name, value = word.split("=")
        key = name if name.startswith("native") else f"{engine}_{name}"
        figures.setdefault(key, []).append(float(value))
macs = conv_macs(F.read(Path(sys.argv[2])))
print(f"{len(rounds)} rounds, GMAC/s (median, best: other work on the machine only slows a round);"
      f" {Path(sys.argv[2]).name}: {macs / 1e6:.1f} M multiply-adds")
print("  (2x8: the tiles' step, loads included; 3x8, 4x8: 3 or 4 pixels a weight load; 2x8q3: three quads a widening;")
print("   regs: weights in registers, the multiply pipes' bound; native 128: the same x86 instructions V8 emits, 256: AVX2's width)")
for key, values in figures.items():
    rate, best = statistics.median(values), max(values)
    print(f"  {key:24s} median {rate:7.2f} best {best:7.2f} GMAC/s -> at best {macs / best / 1e6:6.2f} ms"
          " for the model's multiply-adds")
PY
