/* callgrind_region.c - lets a Python process count the instructions of one region under
 * valgrind --tool=callgrind --instr-atstart=no: callgrind_region(fn) turns instrumentation on,
 * calls fn (a ctypes callback, e.g. N session runs of a peer engine) and turns it off again, so
 * Python's start-up and imports run uninstrumented (fast) and are not counted.
 * Built by tools/bench.py into .build/bench/libcallgrind_region.so; outside valgrind the
 * requests are no-ops. */
#include <valgrind/callgrind.h>

/* Runs fn with callgrind's instrumentation (and so its counting) switched on. */
__attribute__((noinline, visibility("default"))) void callgrind_region(void (*fn)(void)) {
    CALLGRIND_START_INSTRUMENTATION;
    fn();
    CALLGRIND_STOP_INSTRUMENTATION;
}
