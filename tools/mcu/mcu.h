/* mcu.h - the firmware's board services (tools/mcu/startup.c): text out, exit with a status, and
 * the stack's size and high-water mark (the stack is painted at reset), and instruction-count marks. */
#ifndef NIN_MCU_H
#define NIN_MCU_H

#include <stddef.h>

/** Writes a NUL-terminated string to the host (semihosting; a UART on a real board). */
void mcu_write(const char *text);
/** Ends the program with `status` (qemu exits with it). */
__attribute__((noreturn)) void mcu_exit(int status);
/** The command line the host gave (qemu's -append; semihosting), "" when none. */
const char *mcu_command_line(void);
/** A point the instruction counter (tools/qemu/insn_count.c, under qemu) records; does nothing. */
void mcu_mark(void);
/** Bytes of stack ever used since reset (the painted words overwritten, counted from the top). */
size_t mcu_stack_high_water(void);
/** Bytes reserved for the stack (mps2.ld's STACK_BYTES). */
size_t mcu_stack_bytes(void);

#endif
