#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS seconds (docs/SECURITY.md, "Fuzzing").
#   fuzz/run.sh SECONDS [model] [png]     (default: both targets, one after the other)
# Build, both products in one scratch folder, .build-fuzz/build:
#   NIN_FUZZ=1 swift build -c release --disable-dead-strip --sanitize=fuzzer
#     -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address --product fuzz-TARGET
# Both sanitizers go to the Swift compiler in one -sanitize= argument, the last on its command
# line: swiftc hands only its last -sanitize= argument to the frontend (it links the runtimes of
# all of them), and SwiftPM's --sanitize=fuzzer --sanitize=address come out in a random order
# (a Set) in each build, so every Swift module was built either with ASan and no fuzzer mode or
# with fuzzer mode and no ASan (7,700 coverage counters, of a complete build's 47,500 then; no
# ASan checks), and the order changing between two builds rebuilt everything
# (docs/SECURITY.md). SwiftPM's --sanitize=fuzzer stays for the entry point (libFuzzer's main)
# and the C targets, which get -fsanitize=address through -Xcc.
# (Package.swift adds the fuzz-model and fuzz-png targets only when NIN_FUZZ=1, so normal
# builds never see them). Each target keeps its growing corpus in .build-fuzz/corpus/TARGET,
# seeded from fuzz/corpus/TARGET (committed) and, for the model target, models/fashion_small.nin;
# crashing inputs land in .build-fuzz/crashes/TARGET/ and the script then fails. Each run's
# libFuzzer output is in .build-fuzz/TARGET.log; its last "#N ... cov: ... ft: ..." line and the
# executions are printed at the end. Runs at nice 19 so it never slows other work.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS [model] [png]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model png)
build=.build-fuzz
# A complete build has about 29,000 coverage counters (inline 8-bit counters, read with
# -runs=0); a binary with fewer than 20,000 was built without part of its instrumentation
# (one without ASan in its Swift modules had about 7,700).
min_counters=20000
failed=0
for target in "${targets[@]}"; do
    NIN_FUZZ=1 nice -n 19 swift build -c release --disable-dead-strip --sanitize=fuzzer \
        -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address \
        --scratch-path "$build/build" --product "fuzz-$target" 2>&1 | grep -v 'Cannot export local symbol' | tail -1
    binary=$build/build/release/fuzz-$target
    counters=$("$binary" -runs=0 2>&1 | sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' | head -1)
    echo "fuzz-$target: ${counters:-no} coverage counters"
    if [ "${counters:-0}" -lt $min_counters ]; then
        echo "fuzz-$target: FAILED: only ${counters:-no} coverage counters (a complete build has about 29,000)"
        failed=1
        continue
    fi
    corpus=$build/corpus/$target artifacts=$build/crashes/$target/  # not artifacts/: SwiftPM owns and empties that folder
    mkdir -p "$corpus" "$artifacts" "$build/seeds-$target"
    options=(-rss_limit_mb=3072 -timeout=30 -print_final_stats=1 -dict=fuzz/$target.dict)
    case $target in
        model)
            # Large enough for fashion_small.nin (317 KiB); the classic model (2 MB) would make
            # every execution seconds long under ASan, so it is left out.
            cp models/fashion_small.nin "$build/seeds-model/"
            options+=(-max_len=400000) ;;
        png)
            options+=(-max_len=65536) ;;
    esac
    echo "fuzz-$target: ${seconds}s"
    status=0
    nice -n 19 "$binary" "${options[@]}" -max_total_time="$seconds" \
        -artifact_prefix="$artifacts" "$corpus" "fuzz/corpus/$target" "$build/seeds-$target" \
        > "$build/$target.log" 2>&1 || status=$?
    grep -E '^#[0-9]+\s' "$build/$target.log" | tail -1 || true
    grep -E '^stat::number_of_executed_units' "$build/$target.log" || true
    if [ $status -ne 0 ] || ls "$artifacts" | grep -q .; then
        echo "fuzz-$target: FAILED (exit $status); inputs in $artifacts, log in $build/$target.log"
        grep -E 'ERROR|SUMMARY|Fatal error|panic' "$build/$target.log" | head -5 || true
        failed=1
    fi
done
exit $failed
