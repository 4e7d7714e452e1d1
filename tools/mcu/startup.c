/* startup.c - what runs a Cortex-M firmware before and around main, for the MPS2 boards under
 * qemu (tools/mcu/mps2.ld): the vector table, the reset handler (FPU on, .data copied from flash,
 * .bss zeroed, the stack painted), the fault handler, and the semihosting calls the firmware
 * prints, exits and reads its command line with (ARM's semihosting: BKPT 0xAB, operation in r0, argument in r1; qemu
 * answers them with -semihosting). On a real board, mcu_write would send to a UART instead and
 * mcu_exit would stop or reset. */
#include <stddef.h>
#include <stdint.h>

#include "mcu.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];

int main(void);

/* ---- Semihosting ---- */

static int semihost(int operation, const void *argument) {
    register int r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void mcu_write(const char *text) { semihost(0x04, text); }  /* SYS_WRITE0: a NUL-terminated string */

void mcu_exit(int status) {
    /* SYS_EXIT_EXTENDED: {ADP_Stopped_ApplicationExit, status}; qemu exits with `status`. */
    const uint32_t block[2] = {0x20026u, (uint32_t)status};
    semihost(0x20, block);
    for (;;) __asm__ volatile("wfi");
}

const char *mcu_command_line(void) {
    /* SYS_GET_CMDLINE: {buffer, its size}; qemu fills it with -append's text. */
    static char text[128];
    uint32_t block[2] = {(uint32_t)text, sizeof text};
    return semihost(0x15, block) == 0 ? text : "";
}

/* ---- Instruction-count marks ---- */

/* Does nothing, and is never inlined: tools/qemu/insn_count.c (a qemu plugin) records the running
 * instruction count each time its first instruction executes. */
__attribute__((noinline, used)) void mcu_mark(void) { __asm__ volatile("" ::: "memory"); }

/* ---- Stack painting ---- */

#define STACK_PAINT 0x5AA5C33Cu

size_t mcu_stack_high_water(void) {
    const uint32_t *word = __stack_bottom;
    while (word < __stack_top && *word == STACK_PAINT) word++;
    return (size_t)((const char *)__stack_top - (const char *)word);
}

size_t mcu_stack_bytes(void) { return (size_t)((const char *)__stack_top - (const char *)__stack_bottom); }

/* ---- Reset and faults ---- */

__attribute__((noreturn)) void mcu_reset(void);

static void write_hex(const char *name, uint32_t value) {
    char text[20] = " ";
    size_t at = 1;
    for (const char *c = name; *c; c++) text[at++] = *c;
    text[at++] = '=';
    for (int i = 0; i < 8; i++) text[at++] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 15u];
    text[at] = 0;
    mcu_write(text);
}

/* The fault's report: the faulting pc and lr from the exception frame, and the fault status
 * registers CFSR and (for a bus or memory fault) the address, then exit status 3. */
__attribute__((noreturn, used)) static void mcu_fault_report(const uint32_t *frame) {
    mcu_write("mcu: fault");
    write_hex("pc", frame[6]);
    write_hex("lr", frame[5]);
    write_hex("cfsr", *(volatile uint32_t *)0xE000ED28u);
    write_hex("hfsr", *(volatile uint32_t *)0xE000ED2Cu);
    write_hex("address", *(volatile uint32_t *)0xE000ED38u);
    mcu_write("\n");
    mcu_exit(3);
}

/* Every fault: the exception frame is on the main stack (no thread mode stack is used). */
__attribute__((naked)) static void mcu_fault(void) {
    __asm__ volatile("mrs r0, msp\n"
                     "b mcu_fault_report\n");
}

/* Cortex-M vector table: initial stack pointer, reset, NMI, HardFault, MemManage, BusFault,
 * UsageFault (the rest unused: no interrupt is enabled). */
__attribute__((section(".vectors"), used)) static void *const vectors[16] = {
    __stack_top, (void *)mcu_reset, (void *)mcu_fault, (void *)mcu_fault,
    (void *)mcu_fault, (void *)mcu_fault, (void *)mcu_fault,
};

/* Runs on the initial stack before anything is initialized: only locals and the linker's symbols. */
__attribute__((noreturn, naked)) void mcu_reset(void) {
    __asm__ volatile(
        /* CPACR: full access to CP10 and CP11 (the FPU), then barriers so the next instruction sees it. */
        "ldr r0, =0xE000ED88\n"
        "ldr r1, [r0]\n"
        "orr r1, r1, #(0xF << 20)\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
        "b mcu_start\n");
}

__attribute__((noreturn, used)) void mcu_start(void) {
    for (uint32_t *from = __data_load, *to = __data_start; to < __data_end;) *to++ = *from++;
    for (uint32_t *to = __bss_start; to < __bss_end;) *to++ = 0;
    /* Paint the stack below this function's frame (a few words below the current sp). */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *word = __stack_bottom; word < sp - 16; word++) *word = STACK_PAINT;
    mcu_exit(main());
}
