#!/usr/bin/env bash
# tools/embedded/compare_cli.sh EMBEDDED HOSTED: the Embedded nin-infer must print what the hosted
# one prints, byte for byte (stdout, stderr and exit status), for each kernel family NIN_ISA can
# name here (auto, portable, generic) over the example images in every output format, the plan,
# the kernel list and a few mistakes; write the same heatmap PNGs; and, under qemu-x86_64 -cpu
# Nehalem (no AVX) and Haswell (AVX2), pick that CPU's family and print the host's bits.
# `make test-embedded` runs it.
set -euo pipefail
embedded=$1 hosted=$2
cd "$(dirname "$0")/../.."
images=(examples/images/*.png)
passed=0 failed=0
check() {  # check ISA ARGS...: one comparison
    local isa=$1; shift
    local a b
    a=$(NIN_ISA=$isa "$embedded" "$@" 2>&1; echo "exit $?")
    b=$(NIN_ISA=$isa "$hosted" "$@" 2>&1; echo "exit $?")
    if [ "$a" == "$b" ]; then passed=$((passed + 1)); else
        failed=$((failed + 1)); echo "FAIL: NIN_ISA=$isa nin-infer $* differs (< Embedded, > hosted):"
        diff <(echo "$a") <(echo "$b") | head -10 || true
    fi
}
for isa in auto portable generic; do
    check "$isa" "${images[@]}"
    check "$isa" --top 5 --json "${images[@]}"
    check "$isa" --batch 4 --threads 2 examples/images
    check "$isa" --plan
    check "$isa" --plan --json
done
check auto --list-kernels
check auto --list-kernels --json
check auto --version
check auto --help
check auto --top 0 "${images[0]}"
check auto --no-such-option
check auto no/such/image.png
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$embedded" --heatmap "$out/embedded" "${images[@]}" > /dev/null
"$hosted" --heatmap "$out/hosted" "${images[@]}" > /dev/null
if diff -r "$out/embedded" "$out/hosted" > /dev/null && [ -n "$(ls "$out/embedded")" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: the heatmap PNGs differ (or none were written)"
fi
# Every CPU class under qemu-x86_64 (Tests/cpus/run.sh does the same for the hosted build): the
# Embedded nin-infer must pick the class's family and print the host's bits; code built with
# AVX2 or AVX-512 flags reached without its probe (a weak copy linked into baseline code, say)
# dies there with SIGILL.
qemu=$(command -v qemu-x86_64 || true)
[ -n "$qemu" ] || { failed=$((failed + 1)); echo "FAIL: qemu-x86_64 not found (Debian qemu-user; .ci/deps installs it)"; }
host=$("$hosted" --no-progress --top 3 "${images[@]}")
for entry in Nehalem:portable Haswell:avx2; do
    [ -n "$qemu" ] || break
    cpu=${entry%%:*} family=${entry#*:}
    # (stdout only: qemu warns on stderr about CPUID bits TCG lacks; a crash shows as the exit)
    kernels=$("$qemu" -cpu "$cpu" "$embedded" --version 2>/dev/null | sed -n 's/^kernels: //p')
    emulated=$("$qemu" -cpu "$cpu" "$embedded" --no-progress --top 3 "${images[@]}" 2>/dev/null || echo "exit $?")
    if [ "$kernels" == "$family" ] && [ "$emulated" == "$host" ]; then passed=$((passed + 1)); else
        failed=$((failed + 1)); echo "FAIL: qemu -cpu $cpu: kernels '$kernels' (want $family), output differs from the host's:"
        diff <(echo "$emulated") <(echo "$host") | head -5 || true
    fi
done
echo "compare_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
