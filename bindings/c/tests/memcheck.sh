#!/usr/bin/env bash
# valgrind memcheck over the load / run / free cycle of test_memcheck (make memcheck).
#   tests/memcheck.sh LIBDIR MODEL.nin IMAGE.png [BUILD]   (BUILD: where test_memcheck is; build/)
# valgrind cannot read the Swift toolchain's DWARF, so it runs against an `objcopy --strip-debug`
# copy of LIBDIR/libnin.so (the program's rpath points at that copy). Passes when, for 2 and for 6
# cycles: no memcheck errors, nothing "definitely lost" or "indirectly lost", and the same number
# of "possibly lost" bytes. No suppressions: the only possibly-lost blocks are the Swift runtime's
# metadata caches (swift::ConcurrentReadableHashMap, filled once per type, kept for the process's
# life, pointed into rather than at); a leak per cycle, such as a worker thread never joined,
# makes the second figure larger than the first.
set -euo pipefail
libdir=$1 model=$2 image=$3
here=$(cd "$(dirname "$0")/.." && pwd)
build=${4:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
copy=$build/memcheck
mkdir -p "$copy"
objcopy --strip-debug "$libdir/libnin.so" "$copy/libnin.so"
soname=$(readelf -d "$copy/libnin.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ -z "$soname" ] || ln -sf libnin.so "$copy/$soname"  # the name programs linked with -lnin load
possibly=()
for cycles in 2 6; do
    log=$copy/valgrind-$cycles.log
    status=0
    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
        "$build/test_memcheck" "$model" "$image" "$cycles" > "$log" 2>&1 || status=$?
    grep -E 'test_memcheck:|definitely lost:|indirectly lost:|possibly lost:|ERROR SUMMARY' "$log" | sed "s/^/$cycles cycles: /"
    if [ $status -ne 0 ]; then echo "memcheck: valgrind or the test failed (exit $status), see $log"; exit 1; fi
    for kind in definitely indirectly; do
        grep -qE "$kind lost: 0 bytes in 0 blocks" "$log" || { echo "memcheck: memory $kind lost, see $log"; exit 1; }
    done
    grep -qE 'ERROR SUMMARY: 0 errors' "$log" || { echo "memcheck: errors, see $log"; exit 1; }
    possibly+=("$(sed -n 's/.*possibly lost: \([0-9,]*\) bytes.*/\1/p' "$log")")
done
if [ "${possibly[0]:-0}" != "${possibly[1]:-0}" ]; then
    echo "memcheck: possibly lost grows with the cycles (${possibly[0]:-0} -> ${possibly[1]:-0} bytes): a leak per cycle"
    exit 1
fi
echo "memcheck: clean (possibly lost ${possibly[0]:-0} bytes at 2 and at 6 cycles: runtime caches)"
