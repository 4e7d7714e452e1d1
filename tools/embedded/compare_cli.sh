#!/usr/bin/env bash
# tools/embedded/compare_cli.sh EMBEDDED HOSTED: the Embedded nin-infer must print what the hosted
# one prints, byte for byte (stdout, stderr and exit status), for each kernel family NIN_ISA can
# name here (auto, portable, generic) over the example images in every output format, the plan,
# the kernel list and a few mistakes; and write the same heatmap PNGs. `make test-embedded` runs it.
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
echo "compare_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
