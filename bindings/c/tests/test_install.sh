#!/usr/bin/env bash
# Installs nin into a temporary prefix and builds examples/c/classify.c against it the way a user
# would: cc classify.c $(pkg-config --cflags --libs nin). Usage: test_install.sh MODEL IMAGE
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
passed=0 failed=0
step() { if "$@" >"$prefix/log" 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; cat "$prefix/log"; fi; }
step make -s -C "$here" install PREFIX="$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
step pkg-config --exists nin
step cc -std=c11 -Wall -Werror "$here/../../examples/c/classify.c" $(pkg-config --cflags --libs nin) -o "$prefix/classify"
step "$prefix/classify" "$1" "$2" 1
echo "test_install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
