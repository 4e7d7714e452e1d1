#!/usr/bin/env bash
# The README's C snippet compiles (-Wall -Werror), links against libnin.so and classifies the
# shipped image, from the repository root as the README implies. Usage: test_readme.sh LIBDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
libdir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^```c$/{on=1; next} /^```$/{on=0} on' "$root/README.md" > "$work/readme.c"
passed=0 failed=0
if [ -s "$work/readme.c" ] && cc -std=c11 -Wall -Werror -I"$root/include" "$work/readme.c" -L"$libdir" -Wl,-rpath,"$libdir" -lnin -o "$work/readme"; then
    passed=$((passed + 1))
    # The snippet classifies the shipped ankle-boot image: it must print that label and a probability.
    if out=$(cd "$root" && "$work/readme") && [[ "$out" =~ ^Ankle\ boot\ [01]\.[0-9]{3}$ ]]; then
        passed=$((passed + 1)); echo "README C snippet printed: $out"
    else
        failed=$((failed + 1)); echo "FAIL: the README C snippet printed \"${out:-}\", not \"Ankle boot <probability>\""
    fi
    # Outside the repository root the model is not found: a message on stderr and status 1.
    if (cd "$work" && ! "$work/readme" >"$work/out" 2>"$work/err") && [ ! -s "$work/out" ] && grep -q '^nin: .*models/fashion_classic.nin' "$work/err"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAIL: outside the root the README C snippet did not fail with a message"
    fi
else
    failed=$((failed + 1)); echo "FAIL: the README C snippet does not compile"
fi
echo "test_readme: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
