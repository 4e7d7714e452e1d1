#!/usr/bin/env bash
# The README's C program, as a user outside the checkout meets it: installed with
# `make -C bindings/c install PREFIX=...` into a temporary prefix, compiled there with
# `cc app.c $(pkg-config --cflags --libs nin)` (-Wall -Werror), and run from / with no NIN_MODEL:
# it finds the installed model through nin_default_model_path() and classifies the shipped
# ankle-boot image given on its command line. Usage: test_readme.sh LIBDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
libdir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
image="$root/examples/images/test_00000_ankle_boot.png"
awk '/^```c$/{on=1; next} /^```$/{on=0} on' "$root/README.md" > "$work/app.c"
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
if make -s -C "$root/bindings/c" install PREFIX="$work/prefix" LIBDIR="$libdir" >"$work/log" 2>&1; then pass; else fail "make install"; cat "$work/log"; fi
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
if [ -s "$work/app.c" ] && (cd "$work" && cc -std=c11 -Wall -Werror app.c $(pkg-config --cflags --libs nin) -o app); then
    pass
    # From /, without NIN_MODEL: the installed model, the label of the image and a probability.
    if out=$(cd / && env -u NIN_MODEL "$work/app" "$image") && [[ "$out" =~ ^Ankle\ boot\ [01]\.[0-9]{3}$ ]]; then
        pass; echo "README C program, run from /, printed: $out"
    else
        fail "the README C program, run from /, printed \"${out:-}\", not \"Ankle boot <probability>\""
    fi
    # The model it loaded is the installed one: with NIN_MODEL naming a missing file it fails,
    # saying which; without an image it prints its usage.
    if (cd / && ! NIN_MODEL="$work/none.nin" "$work/app" "$image" >"$work/out" 2>"$work/err") && [ ! -s "$work/out" ] \
        && grep -q "^nin: .*$work/none.nin" "$work/err"; then pass; else fail "a missing \$NIN_MODEL gave no message"; fi
    if (cd / && ! "$work/app" 2>"$work/err") && grep -q '^usage: .* IMAGE.png$' "$work/err"; then pass; else fail "no usage line without an image"; fi
else
    fail "the README C program does not compile against the installed prefix"
fi
if make -s -C "$root/bindings/c" uninstall PREFIX="$work/prefix" >"$work/log" 2>&1 && [ -z "$(find "$work/prefix" -type f)" ]; then
    pass
else
    fail "make uninstall left files: $(find "$work/prefix" -type f)"
fi
echo "test_readme: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
