/* insn_count.c - a qemu TCG plugin (the plugin API of qemu 7.2, version 1) that counts the guest
 * instructions executed, for the benchmarks that count instead of timing: tools/mcu/bench.py and
 * bench_cmsis_nn.sh (qemu-system-arm, the firmware) and tools/arm64/bench.py (qemu-aarch64 user
 * mode, bench/nin_bench.c and bench/ort_bench.c). It prints the total at exit, and the running
 * count each time the instruction at address `mark` (argument mark=0x...: a function that does
 * nothing, called before and after the region to count: the firmware's mcu_mark, the drivers'
 * bench_mark) executes, so that the difference of two marks is the instructions between them.
 * Counting is per translation block (an inline add of the block's length where the block starts),
 * so each mark reads the count up to the end of mark's block: a constant offset that cancels in
 * differences. One counter for all vCPUs, not atomic: exact for one guest thread (the MPS2 boards
 * have one vCPU; in user mode each guest thread is one, so the drivers run one thread). Printed
 * through qemu's log (-d plugin -D FILE):
 *   insn mark N     (one line per mark, in order)
 *   insn total N
 * The few declarations it needs from qemu's plugin API are written out here (no qemu headers). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *text);

/* The API version this plugin is written against (qemu checks it on loading). */
__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;     /* one vCPU (the MPS2 boards have one), so no atomics */
static uint64_t mark_address; /* 0: no mark */

static void at_mark(unsigned int vcpu, void *userdata) {
    (void)vcpu; (void)userdata;
    char line[64];
    snprintf(line, sizeof line, "insn mark %" PRIu64 "\n", executed);
    qemu_plugin_outs(line);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t count = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, count);
    for (size_t i = 0; mark_address && i < count; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if ((qemu_plugin_insn_vaddr(insn) & ~(uint64_t)1) == mark_address)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id; (void)userdata;
    char line[64];
    snprintf(line, sizeof line, "insn total %" PRIu64 "\n", executed);
    qemu_plugin_outs(line);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "mark=", 5) == 0) mark_address = strtoull(argv[i] + 5, NULL, 0) & ~(uint64_t)1;
        else { fprintf(stderr, "insn_count: unknown argument %s (expected mark=ADDRESS)\n", argv[i]); return 1; }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
