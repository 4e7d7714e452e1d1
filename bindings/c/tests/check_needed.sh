#!/usr/bin/env bash
# The libraries a libnin.so needs at run time (readelf -d, NEEDED) must all be among the allowed
# ones: for the Embedded build (`make test-embedded`) only the C library, libm, libpng and zlib,
# so no Swift runtime (libswift*) and no libstdc++ ride along. Usage: check_needed.sh LIBRARY
set -euo pipefail
library=$1
allowed='^(libc\.so\.6|libm\.so\.6|libpng16\.so\.16|libz\.so\.1)$'
needed=$(readelf -d "$library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
passed=0 failed=0
[ -n "$needed" ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: $library lists no NEEDED library"; }
for name in $needed; do
    if [[ $name =~ $allowed ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $library needs $name"; fi
done
echo "check_needed ($(echo $needed)): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
