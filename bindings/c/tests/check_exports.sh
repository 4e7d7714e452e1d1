#!/usr/bin/env bash
# Keeps include/nin.h and libnin.so from drifting: the functions the header declares must be
# exactly the library's exported (global, defined) dynamic symbols, and test_api.c must call
# every one of them. Usage: check_exports.sh HEADER LIBRARY TEST_SOURCE
set -euo pipefail
header=$1 library=$2 source=$3
declared=$(grep -oE '^[a-z_ ]*[ *](nin_[a-z0-9_]+)\(' "$header" | grep -oE 'nin_[a-z0-9_]+\(' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only --extern-only "$library" | awk '{print $3}' | sort -u)
passed=0 failed=0
if [ "$declared" == "$exported" ]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL: header declarations and library exports differ (< header only, > library only):"
    diff <(echo "$declared") <(echo "$exported") || true
fi
for name in $declared; do
    if grep -qE "\b$name\(" "$source"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $source never calls $name"; fi
done
count=$(echo "$declared" | wc -l)
echo "check_exports ($count functions): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
