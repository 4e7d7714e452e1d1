/* bench_mark.h - bench_mark(), the point an instruction counter records: nin_bench.c and
 * ort_bench.c call it just before and just after their timed runs, and tools/qemu/insn_count.c
 * (a qemu plugin, mark=ADDRESS of this function) prints the running instruction count each time
 * it executes, so tools/arm64/bench.py counts those runs alone, not loading or packing. Outside
 * qemu it costs a call. Include it in one file of a program (it defines the function). */
#ifndef BENCH_MARK_H
#define BENCH_MARK_H

/** Does nothing, and is never inlined or dropped: its address is the mark. */
__attribute__((noinline, used, visibility("default"))) void bench_mark(void) { __asm__ volatile("" ::: "memory"); }

#endif
