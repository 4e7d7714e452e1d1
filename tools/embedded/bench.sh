#!/usr/bin/env bash
# tools/embedded/bench.sh [ROUNDS]: nin_bench (bench/nin_bench.c) latency of the hosted libnin.so
# (.build/release, `make lib`) against the Embedded one (.build-embedded/release, `make
# embedded`) on the classic model, for b1 1T, b1 2T and b16 2T: ROUNDS rounds (default 7), each
# running every configuration on both libraries in turn (interleaved, so drift hits both alike);
# prints each configuration's median of the rounds' medians, in ms, and Embedded / hosted.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7}
model=models/fashion_classic.nin
out=.build-embedded/bench
mkdir -p "$out"
for build in hosted embedded; do
    lib=$([ $build = hosted ] && echo .build/release || echo .build-embedded/release)
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/nin_bench.c -o "$out/nin_bench_$build" \
        -L"$lib" -lnin -Wl,-rpath,"$PWD/$lib"
done
configs=("30 1 1" "30 2 1" "4 2 16")  # runs threads batch
declare -A medians
for ((r = 0; r < rounds; r++)); do
    for config in "${configs[@]}"; do
        for build in hosted embedded; do
            # shellcheck disable=SC2086
            line=$("$out/nin_bench_$build" "$model" $config 3)
            medians["$config $build"]+="$(echo "$line" | sed 's/.*median_ms=\([0-9.]*\).*/\1/') "
        done
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "nin_bench, $model, $rounds interleaved rounds, median of per-round medians (ms); kernels: $(NIN_MODEL=$model .build/release/nin-infer --version | sed -n 's/kernels: //p')"
printf '%-8s %10s %10s %9s\n' config hosted embedded ratio
for config in "${configs[@]}"; do
    read -r _ threads batch <<< "$config"
    h=$(echo "${medians["$config hosted"]}" | median); e=$(echo "${medians["$config embedded"]}" | median)
    printf '%-8s %10.3f %10.3f %9.3f\n' "b${batch} ${threads}T" "$h" "$e" "$(echo "$e / $h" | bc -l)"
done
