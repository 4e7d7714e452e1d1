#!/usr/bin/env bash
# tools/arm64/test.sh ARM64 HOSTED: the arm64 build (ARM64: the folder tools/embedded/build.sh
# wrote with TARGET=aarch64-unknown-linux-gnu, e.g. .build-arm64/release) under qemu-aarch64, one
# emulated CPU of each arm64 class (CPU_FAMILIES below):
#   - nin-infer picks that class's kernel family (its --version `kernels:` line);
#   - nin-infer prints what the x86-64 HOSTED nin-infer prints, byte for byte (stdout and exit
#     status), over the example images with NIN_ISA naming each optimized family the CPU runs,
#     and (on the first CPU) in two more output forms, batched on two threads;
#   - nin-kernel-check: every family the emulated CPU runs against the reference kernels;
#   - the C suites that time nothing (bindings/c: test_api, test_no_malloc, test_threads,
#     test_shared_context, test_paths, and the embedded example; the small model where a test runs
#     many inferences, as Tests/cpus/run.sh runs them on x86-64 CPU models), cross-compiled with
#     aarch64-linux-gnu-gcc against ARM64/libnin.so and run side by side under -cpu neoverse-n1
#     (Debian's multiarch arm64 glibc, libpng and zlib: the loader is /lib/ld-linux-aarch64.so.1).
#     Not test_fork: qemu-user 7.2 itself aborts in a child forked from a process with threads (an
#     assertion in its RCU code), whatever the program; it runs natively in make test.
# `make test-arm64` runs it (after `make arm64` and `make cli`).
set -euo pipefail
arm64=$1 hosted=$2
cd "$(dirname "$0")/../.."
qemu=$(command -v qemu-aarch64 || true)
[ -n "$qemu" ] || { echo "test-arm64: qemu-aarch64 not found (Debian qemu-user; .ci/deps installs it)"; exit 1; }
# qemu CPU model : the family a load must pick there (best first, as KernelFamily.table orders).
CPU_FAMILIES=(cortex-a53:neon neoverse-n1:neondot max:i8mm)
images=(examples/images/*.png)
passed=0 failed=0
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# compare CPU ISA ARGS...: nin-infer's stdout and exit status under qemu -cpu CPU with NIN_ISA=ISA
# against the hosted nin-infer's with the family it picks.
compare() {
    local cpu=$1 isa=$2; shift 2
    local emulated host
    emulated=$(NIN_ISA=$isa "$qemu" -cpu "$cpu" "$arm64/nin-infer" --no-progress "$@" 2>/dev/null; echo "exit $?")
    host=$("$hosted" --no-progress "$@" 2>/dev/null; echo "exit $?")
    if [ "$emulated" == "$host" ]; then passed=$((passed + 1)); else
        fail "qemu-aarch64 -cpu $cpu NIN_ISA=$isa nin-infer $* differs from the x86-64 build's (< arm64, > x86-64):"
        diff <(echo "$emulated") <(echo "$host") | head -10 || true
    fi
}
for entry in "${CPU_FAMILIES[@]}"; do
    cpu=${entry%%:*} want=${entry#*:}
    kernels=$("$qemu" -cpu "$cpu" "$arm64/nin-infer" --version | sed -n 's/^kernels: //p')
    if [ "$kernels" == "$want" ]; then passed=$((passed + 1)); else fail "qemu-aarch64 -cpu $cpu: kernels '$kernels', want $want"; fi
    # Each optimized family this CPU runs (the reference kernels, slow under emulation, are
    # nin-kernel-check's yardstick below), then the other output forms once, on the first CPU.
    runs=$("$qemu" -cpu "$cpu" "$arm64/nin-infer" --list-kernels | awk '$2 == "yes" && $1 != "generic" {print $1}')
    for isa in $runs; do
        compare "$cpu" "$isa" --top 3 "${images[@]}"
    done
    if [ "$entry" == "${CPU_FAMILIES[0]}" ]; then
        compare "$cpu" auto --top 5 --json "${images[@]}"
        compare "$cpu" auto --batch 4 --threads 2 examples/images
    fi
    started=$SECONDS
    if "$qemu" -cpu "$cpu" "$arm64/nin-kernel-check" > "$arm64/kernel-check-$cpu.txt" 2>&1; then passed=$((passed + 1)); else
        fail "qemu-aarch64 -cpu $cpu nin-kernel-check:"; cat "$arm64/kernel-check-$cpu.txt"
    fi
    echo "qemu-aarch64 -cpu $cpu: kernels $kernels; nin-kernel-check ($((SECONDS - started)) s):" \
        "$(grep -v 'not run' "$arm64/kernel-check-$cpu.txt" | paste -sd ';' -)"
done

# The C suites, on one CPU model (the library's own family there), all at once.
c_cpu=neoverse-n1
cbuild=$(cd "$arm64/.." && pwd)/c
suites=(test_api test_no_malloc test_threads test_shared_context test_paths embedded)
make -s -C bindings/c CC=aarch64-linux-gnu-gcc LIBDIR="$(cd "$arm64" && pwd)" BUILD="$cbuild" \
    "${suites[@]/#/$cbuild/}"
model=models/fashion_classic.nin small=models/fashion_small.nin image=${images[0]}
declare -A suite_args=(
    [test_api]="$model $image" [test_no_malloc]="$small $image" [test_threads]=$small
    [test_shared_context]=$small [test_paths]="$model $image"
    [embedded]="$model Tests/golden/shipped/fashion_classic/test_00000_ankle_boot.input.u8")
started=$SECONDS
declare -A pids
for suite in "${suites[@]}"; do
    # shellcheck disable=SC2086
    "$qemu" -cpu "$c_cpu" "$cbuild/$suite" ${suite_args[$suite]} > "$cbuild/$suite.txt" 2>&1 &
    pids[$suite]=$!
done
for suite in "${suites[@]}"; do
    if wait "${pids[$suite]}" && { [ "$suite" != embedded ] || grep -q '^Ankle boot ' "$cbuild/embedded.txt"; }; then
        passed=$((passed + 1))
    else
        fail "qemu-aarch64 -cpu $c_cpu $suite:"; tail -5 "$cbuild/$suite.txt"
    fi
done
echo "qemu-aarch64 -cpu $c_cpu: C suites ($((SECONDS - started)) s, side by side):" \
    "$(for suite in "${suites[@]}"; do tail -1 "$cbuild/$suite.txt"; done | paste -sd ';' -); test_fork not run" \
    "(qemu-user 7.2 aborts in a child forked from a process with threads)"
echo "test-arm64: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
