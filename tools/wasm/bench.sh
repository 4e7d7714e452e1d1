#!/bin/sh
# tools/wasm/bench.sh [ROUNDS=5] [RUNS=50]: nin.wasm in Node and in headless Chromium against the
# native library on this CPU, one thread, batch 1, prepared input, in interleaved rounds (each
# round runs every engine once): `node tools/wasm/bench.mjs`, tools/wasm/bench_chromium.py, and
# bench/nin_bench.c on .build/release/libnin.so with the best family this CPU has and with
# NIN_ISA=portable, for each shipped model. Prints every
# round's medians and the median of them. `make bench-wasm` runs it (after make wasm and make lib).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-5} RUNS=${2:-50}
OUT=$ROOT/.build/wasm
mkdir -p "$OUT"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" "$ROOT/bench/nin_bench.c" -o "$OUT/nin_bench" \
    -L"$ROOT/.build/release" -lnin -Wl,-rpath,"$ROOT/.build/release"
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); Node $(node --version); $(chromium --version 2>/dev/null); nin.wasm runs wasmsimd"
for model in fashion_classic fashion_small; do
    file=$ROOT/models/$model.nin
    : > "$OUT/bench-$model.txt"
    round=1
    while [ "$round" -le "$ROUNDS" ]; do
        wasm=$(node "$ROOT/tools/wasm/bench.mjs" "$file" "$RUNS" | sed 's/.*median_ms=\([0-9.]*\).*/\1/')
        chromium=$(python3 "$ROOT/tools/wasm/bench_chromium.py" "$model" "$RUNS" | sed 's/.*median_ms=\([0-9.]*\).*/\1/')
        best=$("$OUT/nin_bench" "$file" "$RUNS" | sed 's/.*median_ms=\([0-9.]*\).*/\1/')
        portable=$(NIN_ISA=portable "$OUT/nin_bench" "$file" "$RUNS" | sed 's/.*median_ms=\([0-9.]*\).*/\1/')
        echo "$wasm $chromium $best $portable" >> "$OUT/bench-$model.txt"
        echo "$model round $round: wasm-node $wasm ms, wasm-chromium $chromium ms, native-best $best ms, native-portable $portable ms"
        round=$((round + 1))
    done
    python3 - "$OUT/bench-$model.txt" "$model" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
wasm, chromium, best, portable = (statistics.median(column) for column in zip(*rows))
print(f"{sys.argv[2]}: median of {len(rows)} rounds: wasm-node {wasm:.2f} ms ({wasm / best:.2f}x native best), "
      f"wasm-chromium {chromium:.2f} ms ({chromium / best:.2f}x), native best {best:.2f} ms, native portable {portable:.2f} ms")
PY
done
