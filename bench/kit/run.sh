#!/usr/bin/env bash
# Runs on a machine without Swift (a server with AMX, a laptop with AVX-VNNI): every kernel family
# the CPU has against the reference (nin-kernel-check), the same bits on the shipped models from
# every family, per-family latency (nin-infer --profile, interleaved rounds), the default family's
# per-layer profile with shares of its peak, each AMX layer split into its tiles' time and the
# rest (nin-kernel-check --amx-split), thread scaling (nin_bench) and, when python3 has
# onnxruntime / openvino, those engines on the same QDQ model, with each layer beside OpenVINO's
# (engines.py; OpenVINO also from the kit's openvino.tar.xz, made by `make bench-kit
# OPENVINO=3.12`). Built by `make bench-kit` into .build/bench-kit/ (and .build/bench-kit.tar.xz);
# copy that folder over and run
#   bench-kit/run.sh [OUT_DIR]
# It prints everything and keeps the raw outputs in OUT_DIR (default ./bench-kit-out). A kit made
# with `make bench-kit BASE=<commit>` also times that commit's nin-infer against this one.
set -uo pipefail
KIT=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-bench-kit-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$KIT${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
MODEL=$KIT/fashion_classic.nin
IMG=$(ls "$KIT"/images/*.png | head -1)
# Every family of the build but the reference (generic, timed apart), best first: nin-infer's list.
FAMILIES=$("$KIT/nin-infer" --list-kernels | awk '$1 != "generic" {print $1}' | tr '\n' ' ')
# The CPU flags the families' probes check (their table's cpu_flags), each once.
WANTED=$("$KIT/nin-infer" --list-kernels --json | grep -o '"cpu_flags": \[[^]]*\]' | sed 's/"cpu_flags": //' \
         | tr -d '[]",' | tr ' ' '\n' | awk 'NF && !seen[$0]++')
CPU_FLAGS=" $(grep -m1 flags /proc/cpuinfo | cut -d: -f2) "
{ grep -m1 'model name' /proc/cpuinfo; echo "cpus: $(nproc)"
  echo "flags: $(for f in $WANTED; do case $CPU_FLAGS in *" $f "*) printf '%s ' "$f" ;; esac; done)"
  # CPUs that share a core (hyperthreads share its AMX unit and L2): "0,8 1,9 ..." or "0 1 2 ..."
  echo "core siblings: $(cat /sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings_list 2>/dev/null | sort -un | tr '\n' ' ')"; } | tee "$OUT/cpu.txt"
echo "== every family against the reference (300 random convolutions and the classic layers, 1 and 3 threads)"
"$KIT/nin-kernel-check" | tee "$OUT/kernel_check.txt"
echo "== the same bits from every family (nin-infer --jsonl --top 10 on the example images)"
for isa in $FAMILIES generic; do
  NIN_ISA=$isa "$KIT/nin-infer" --model "$MODEL" --jsonl --top 10 --no-progress "$KIT"/images/*.png > "$OUT/out_$isa.jsonl" 2>/dev/null
done
md5sum "$OUT"/out_*.jsonl | awk '{print $1}' | sort | uniq -c | awk '{print $1 " families: " $2}'
echo "== latency per family, 1 thread (nin-infer --profile 100, 3 interleaved rounds; 'kernels' names what really ran)"
for r in 1 2 3; do for isa in $FAMILIES; do
  line=$(NIN_ISA=$isa "$KIT/nin-infer" --model "$MODEL" --profile 100 "$IMG" 2>/dev/null)
  echo "round $r NIN_ISA=$isa: $(echo "$line" | head -1 | grep -o 'kernels [a-z0-9]*') $(echo "$line" | grep total)"
done; done | tee "$OUT/family_latency.txt"
echo "== the default family's profile: each layer's median and its share of the family's measured peak (nin-infer --profile 200)"
NIN_ISA= "$KIT/nin-infer" --model "$MODEL" --profile 200 "$IMG" 2>&1 | tee "$OUT/profile_default.txt"
echo "== AMX: each layer on the tiles and outside them (nin-kernel-check --amx-split; outside only, without AMX)"
for t in 1 2; do "$KIT/nin-kernel-check" --amx-split "$MODEL" --runs 100 --threads $t; done 2>&1 | tee "$OUT/amx_split.txt"
if [ -x "$KIT/base/nin-infer" ]; then
  echo "== this build against the base build ($(cat "$KIT/base/commit.txt")), default family, 1 and 2 threads (--profile 100, 5 interleaved rounds)"
  for r in 1 2 3 4 5; do for t in 1 2; do for build in base this; do
    bin=$KIT/nin-infer; [ "$build" = base ] && bin=$KIT/base/nin-infer
    "$bin" --model "$MODEL" --threads "$t" --profile 100 "$IMG" > "$OUT/profile_${build}_t${t}_r$r.txt" 2>&1
    echo "round $r threads $t $build: $(grep -o 'kernels [a-z0-9]*' "$OUT/profile_${build}_t${t}_r$r.txt" | head -1) $(grep total "$OUT/profile_${build}_t${t}_r$r.txt")"
  done; done; done | tee "$OUT/base_latency.txt"
  for t in 1 2; do for build in base this; do
    echo "median total, threads $t, $build: $(grep "threads $t $build:" "$OUT/base_latency.txt" | grep -o '[0-9.]* ms' | sort -n | sed -n 3p)"
  done; done | tee -a "$OUT/base_latency.txt"
fi
echo "== thread scaling, default family (nin_bench)"
for t in 1 2 4 8 16; do for b in 1 16; do
  [ "$t" -le "$(nproc)" ] && "$KIT/nin_bench" "$MODEL" 40 "$t" "$b" | sed 's/ times_ms=.*//'
done; done | tee "$OUT/threads.txt"
if [ -f "$KIT/openvino.tar.xz" ] && ! python3 -c 'import openvino' 2>/dev/null; then
  mkdir -p "$OUT/openvino" && tar -xJf "$KIT/openvino.tar.xz" -C "$OUT/openvino"
  export PYTHONPATH="$(cd "$OUT/openvino/site" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
  echo "openvino from the kit: $(python3 -c 'import openvino; print(openvino.__version__)' 2>&1 | tail -1)"
fi
if [ -f "$KIT/int8_qdq.onnx" ]; then
  echo "== ONNX Runtime / OpenVINO int8 on make bench's QDQ model, interleaved with nin"
  python3 "$KIT/engines.py" "$KIT" 2>&1 | tee "$OUT/engines.txt"
fi
