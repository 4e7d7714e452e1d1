#!/bin/sh
# tools/wasm/bench.sh [ROUNDS=5] [RUNS=50]: nin.wasm and nin-relaxed.wasm in Node and in headless
# Chromium against the native library and ONNX Runtime native int8 on this CPU, one thread, batch 1,
# in interleaved rounds (each round runs every engine once): `node tools/wasm/bench.mjs`,
# tools/wasm/bench_chromium.py, bench/nin_bench.c on .build/release/libnin.so with the best
# family this CPU has and with NIN_ISA=portable, and tools/wasm/bench_ort.py on `make bench`'s
# QDQ model (tools/bench.py --peers-only builds it under .build/bench/peers/; skipped when
# onnxruntime is not installed), for each shipped model. Prints every round's medians and the
# median of them. `make bench-wasm` runs it (after make wasm and make lib).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-5} RUNS=${2:-50}
OUT=$ROOT/.build/wasm
mkdir -p "$OUT"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" "$ROOT/bench/nin_bench.c" -o "$OUT/nin_bench" \
    -L"$ROOT/.build/release" -lnin -Wl,-rpath,"$ROOT/.build/release"
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); Node $(node --version); $(chromium --version 2>/dev/null)"
echo "nin.wasm runs wasmsimd; nin-relaxed.wasm runs wasmrelaxed (Node with --experimental-wasm-relaxed-simd)"
ORT=0
if python3 -c 'import onnxruntime' 2>/dev/null; then
    ORT=1
    echo "ONNX Runtime $(python3 -c 'import onnxruntime; print(onnxruntime.__version__)') native int8 (QDQ)"
else
    echo "ONNX Runtime: skipped: onnxruntime not installed (pip install onnxruntime onnx)"
fi
median() { sed 's/.*median_ms=\([0-9.]*\).*/\1/'; }
for model in fashion_classic fashion_small; do
    file=$ROOT/models/$model.nin
    ort=nan qdq=
    if [ "$ORT" = 1 ]; then
        qdq=$(find "$ROOT/.build/bench/peers" -path "*models_${model}/int8_qdq.onnx" 2>/dev/null | head -1)
        if [ -z "$qdq" ]; then
            (cd "$ROOT/tools" && PYTHONPATH="$ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH}" python3 bench.py --peers-only --models "$file" >/dev/null)
            qdq=$(find "$ROOT/.build/bench/peers" -path "*models_${model}/int8_qdq.onnx" | head -1)
        fi
    fi
    : > "$OUT/bench-$model.txt"
    round=1
    while [ "$round" -le "$ROUNDS" ]; do
        node_simd=$(node "$ROOT/tools/wasm/bench.mjs" "$file" "$RUNS" | median)
        node_relaxed=$(NIN_WASM=nin-relaxed.wasm node --experimental-wasm-relaxed-simd "$ROOT/tools/wasm/bench.mjs" "$file" "$RUNS" | median)
        chromium_simd=$(python3 "$ROOT/tools/wasm/bench_chromium.py" "$model" "$RUNS" | median)
        chromium_relaxed=$(NIN_WASM=nin-relaxed.wasm python3 "$ROOT/tools/wasm/bench_chromium.py" "$model" "$RUNS" | median)
        best=$("$OUT/nin_bench" "$file" "$RUNS" | median)
        portable=$(NIN_ISA=portable "$OUT/nin_bench" "$file" "$RUNS" | median)
        [ -z "$qdq" ] || ort=$(python3 "$ROOT/tools/wasm/bench_ort.py" "$qdq" "$RUNS" | median)
        echo "$node_simd $node_relaxed $chromium_simd $chromium_relaxed $best $portable $ort" >> "$OUT/bench-$model.txt"
        echo "$model round $round: node $node_simd / relaxed $node_relaxed ms, chromium $chromium_simd / relaxed" \
             "$chromium_relaxed ms, native best $best ms, native portable $portable ms, ORT int8 $ort ms"
        round=$((round + 1))
    done
    python3 - "$OUT/bench-$model.txt" "$model" <<'PY'
import math, statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
m = [statistics.median(column) for column in zip(*rows)]
names = ["nin.wasm Node", "nin-relaxed.wasm Node", "nin.wasm Chromium", "nin-relaxed.wasm Chromium",
         "native best family", "native portable", "ONNX Runtime native int8"]
best, ort = m[4], m[6]
print(f"{sys.argv[2]}: median of {len(rows)} rounds (ms; x native best; x ORT int8)")
for name, value in zip(names, m):
    if math.isnan(value):
        print(f"  {name:27s} skipped")
    else:
        vs_ort = "" if math.isnan(ort) else f"  {value / ort:5.2f}x ORT"
        print(f"  {name:27s} {value:8.2f}  {value / best:5.2f}x best{vs_ort}")
PY
done
