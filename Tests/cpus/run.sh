#!/usr/bin/env bash
# make test-cpus: every x86-64 CPU class nin dispatches on, on any x86-64 host, under
# qemu-x86_64 -cpu MODEL (Debian's qemu-user, whose TCG emulates up to AVX2 but no AVX-512).
# For each model it runs, on the emulated CPU:
#   - nin-infer --version: the kernel family it names must be the one expected for the model;
#   - nin-infer on the example images: byte-identical to the host's output (every family gives
#     the same bits);
#   - nin-kernel-check: every family the emulated CPU has against the reference kernels, and
#     the expected family among them;
#   - the C tests that time nothing (test_api, test_no_malloc, test_threads,
#     test_shared_context, test_paths; the small model where a test runs many inferences:
#     the same code, 40 times fewer operations) and the embedded example. Not test_fork:
#     qemu-user 7.2 itself aborts in a child forked from a process with threads (an assertion
#     in its RCU code, "rcu_read_unlock: Assertion `p_rcu_reader->depth != 0'"), whatever
#     the program; it runs natively in make test;
#   - the Swift test binary (the whole suite), whose "kernel families:" line must name the
#     expected family as tested.
# A CPU feature the code uses without asking the CPU first dies here with SIGILL, as it would
# on a user's machine of that class. Prints one line per check and "test-cpus: N passed,
# N failed"; exits 1 on any failure.
#
# Usage: Tests/cpus/run.sh [MODEL:FAMILY ...]   (default: Nehalem:portable Haswell:avx2)
# Needs the builds `make test-cpus` makes first: the debug test binary, the release library and
# nin-infer, the static nin-kernel-check and the C tests (bindings/c).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(Nehalem:portable Haswell:avx2)
qemu=$(command -v qemu-x86_64) || { echo "test-cpus: qemu-x86_64 not found (Debian qemu-user; .ci/deps installs it)"; exit 1; }
tests="$(swift build --show-bin-path)/ninPackageTests.xctest"
infer=$root/.build/release/nin-infer
check=$root/.build-kernel-check/release/nin-kernel-check
cbuild=$root/bindings/c/build
model=$root/models/fashion_classic.nin
small=$root/models/fashion_small.nin
image=$(ls "$root"/examples/images/*.png | head -1)
for f in "$tests" "$infer" "$check" "$cbuild/test_api"; do
    [ -x "$f" ] || { echo "test-cpus: $f is not built (run make test-cpus)"; exit 1; }
done
out=$root/.build/test-cpus
rm -rf "$out" && mkdir -p "$out"

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "  ok    $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $*"; }
# run NAME LOG COMMAND...: the command under qemu on the current model, its stdout in LOG and its
# stderr in LOG.stderr (with qemu's own warnings about CPU features TCG lacks); pass when it
# exits 0.
run() {
    local name=$1 log=$2; shift 2
    local start=$SECONDS
    local status=0
    NIN_EMULATED_CPU=$cpu "$qemu" -cpu "$cpu" "$@" >"$log" 2>"$log.stderr" || status=$?
    if [ "$status" -eq 0 ]; then pass "$name ($((SECONDS - start)) s)"; return 0; fi
    fail "$name: exit $status ($(cat "$log" "$log.stderr" | tail -1))"; return 1
}

# The host's own output, which every emulated CPU must reproduce byte for byte.
"$infer" --no-progress --top 3 "$root"/examples/images/*.png >"$out/host-infer.txt"

for entry in "${models[@]}"; do
    cpu=${entry%%:*} family=${entry#*:}
    dir=$out/$cpu && mkdir -p "$dir"
    echo "$cpu (expect kernel family $family):"
    cpu_start=$SECONDS
    if run "nin-infer --version" "$dir/version.txt" "$infer" --version; then
        if grep -qx "kernels: $family" "$dir/version.txt"; then pass "nin-infer runs the $family family"
        else fail "nin-infer names $(grep '^kernels:' "$dir/version.txt"), not kernels: $family"; fi
    fi
    # Asking for the best family there is (AMX) on a CPU without it: one line with the reason,
    # and the best family the CPU has.
    if NIN_ISA=amx run "NIN_ISA=amx nin-infer --version" "$dir/version-amx.txt" "$infer" --version; then
        if grep -qx "kernels: $family" "$dir/version-amx.txt" && [ "$(grep -c 'NIN_ISA=amx unavailable' "$dir/version-amx.txt.stderr")" = 1 ]; then
            pass "NIN_ISA=amx: $(grep 'NIN_ISA=amx unavailable' "$dir/version-amx.txt.stderr")"
        else fail "NIN_ISA=amx: no one-line reason and fallback to $family: $(cat "$dir/version-amx.txt"*)"; fi
    fi
    if run "nin-infer on examples/images" "$dir/infer.txt" "$infer" --no-progress --top 3 "$root"/examples/images/*.png; then
        if cmp -s "$out/host-infer.txt" "$dir/infer.txt"; then pass "nin-infer output identical to the host's"
        else fail "nin-infer output differs from the host's:"; diff "$out/host-infer.txt" "$dir/infer.txt" | head -5; fi
    fi
    if run "nin-kernel-check" "$dir/kernel-check.txt" "$check"; then
        if [ "$family" = portable ] || grep -q "^$family: ok " "$dir/kernel-check.txt"; then
            pass "nin-kernel-check: $(grep -E ': (ok|not run)' "$dir/kernel-check.txt" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
        else fail "nin-kernel-check did not check $family"; fi
    fi
    run "test_api" "$dir/test_api.txt" "$cbuild/test_api" "$model" "$image"
    run "test_no_malloc" "$dir/test_no_malloc.txt" "$cbuild/test_no_malloc" "$small" "$image"
    run "test_threads" "$dir/test_threads.txt" "$cbuild/test_threads" "$small"
    run "test_shared_context" "$dir/test_shared_context.txt" "$cbuild/test_shared_context" "$small"
    run "test_paths" "$dir/test_paths.txt" "$cbuild/test_paths" "$model" "$image"
    if run "examples/c/embedded" "$dir/embedded.txt" "$cbuild/embedded" "$model" \
           "$root/Tests/golden/shipped/fashion_classic/test_00000_ankle_boot.input.u8"; then
        grep -q '^Ankle boot ' "$dir/embedded.txt" && pass "embedded classifies the ankle boot" || fail "embedded: $(head -1 "$dir/embedded.txt")"
    fi
    if run "Swift tests" "$dir/swift-test.txt" "$tests" --testing-library swift-testing; then
        families=$(cat "$dir/swift-test.txt" "$dir/swift-test.txt.stderr" | grep -a '^kernel families: ' | grep -av 'cpuinfo check skipped' | head -1)
        if [[ "$families" == *"$family tested"* ]]; then pass "${families#kernel families: }"
        else fail "the Swift tests did not test $family: $families"; fi
        cat "$dir/swift-test.txt" "$dir/swift-test.txt.stderr" | grep -a '✔ Test run with' | sed 's/^/        /'
    fi
    echo "  ($cpu: $((SECONDS - cpu_start)) s)"
done
echo "test-cpus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
