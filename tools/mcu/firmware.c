/* firmware.c - the microcontroller demo: loads the model linked into flash (model.S) with
 * nin_model_load_memory, plans it into a static arena, runs each prepared example image
 * (images.c, made on the host by tools/mcu/make_images.py) and prints, through semihosting, one
 * line per image (its name, the logits as float32 bit patterns and rounded, the top-1 class) and
 * then the memory figures. Exit status 0; 1 when nin reports an error; 2 when the arena is
 * smaller than the model needs. tools/mcu/test.py checks the logits against the host's;
 * tools/mcu/bench.py counts instructions between the mcu_mark() calls. The kernel family is
 * the best one the image has (cortexm) unless the command line (qemu -append) says NIN_ISA=NAME. */
#include <stdint.h>

#include "images.h"
#include "mcu.h"
#include "nin.h"

#ifndef NIN_MCU_ARENA_BYTES
#define NIN_MCU_ARENA_BYTES (180u * 1024u)
#endif

extern const unsigned char nin_mcu_model[], nin_mcu_model_end[];
size_t ninpriv_bare_heap_bytes(void);
size_t ninpriv_bare_heap_used(void);

/* The environment nin reads (nin_platform_bare.c's getenv is weak): the NAME=VALUE words of the
 * command line (qemu -append 'NIN_ISA=generic' picks the reference kernels). */
char *getenv(const char *name) {
    static char words[128];
    static int parsed;
    if (!parsed) {
        const char *line = mcu_command_line();
        for (size_t i = 0; i + 1 < sizeof words && line[i]; i++) words[i] = line[i] == ' ' ? 0 : line[i];
        parsed = 1;
    }
    for (size_t at = 0; at < sizeof words;) {
        size_t i = 0;
        while (name[i] && words[at + i] == name[i]) i++;
        if (!name[i] && words[at + i] == '=') return words + at + i + 1;
        while (at < sizeof words && words[at]) at++;
        at++;
    }
    return NULL;
}

/** Every tensor of a run: planned by nin_context_create, never allocated. */
static _Alignas(64) unsigned char arena[NIN_MCU_ARENA_BYTES];

/* ---- Text without a C library ---- */

static void write_unsigned(uint32_t value) {
    char text[11], *at = text + sizeof text - 1;
    *at = 0;
    do *--at = (char)('0' + value % 10u); while (value /= 10u);
    mcu_write(at);
}

static void write_hex(uint32_t value) {
    char text[9];
    for (int i = 0; i < 8; i++) text[i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 15u];
    text[8] = 0;
    mcu_write(text);
}

/* value with 4 decimals (|value| < 400,000), for people; the test reads the bit patterns. */
static void write_decimal(float value) {
    if (value < 0) { mcu_write("-"); value = -value; }
    uint32_t scaled = (uint32_t)(value * 10000.0f + 0.5f);
    write_unsigned(scaled / 10000u);
    char fraction[6] = {'.', 0, 0, 0, 0, 0};
    for (int i = 4, rest = (int)(scaled % 10000u); i >= 1; i--, rest /= 10) fraction[i] = (char)('0' + rest % 10);
    mcu_write(fraction);
}

static int fail(const char *what, nin_status status) {
    mcu_write("mcu: ");
    mcu_write(what);
    mcu_write(": ");
    mcu_write(nin_status_string(status));
    mcu_write(": ");
    mcu_write(nin_last_error());
    mcu_write("\n");
    return 1;
}

static void figure(const char *name, size_t value) {
    mcu_write("figure ");
    mcu_write(name);
    mcu_write(" ");
    write_unsigned((uint32_t)value);
    mcu_write("\n");
}

int main(void) {
    mcu_mark();  /* loading the model and making the context: up to the first image's mark */
    nin_model *model = NULL;
    nin_status status = nin_model_load_memory(nin_mcu_model, (size_t)(nin_mcu_model_end - nin_mcu_model), &model);
    if (status != NIN_OK) return fail("loading the model", status);
    nin_context_params params = nin_context_default_params();
    size_t needed = nin_model_arena_bytes(model, &params);
    if (needed > sizeof arena) {
        mcu_write("mcu: the model needs an arena of ");
        write_unsigned((uint32_t)needed);
        mcu_write(" bytes; NIN_MCU_ARENA_BYTES is ");
        write_unsigned((uint32_t)sizeof arena);
        mcu_write("\n");
        return 2;
    }
    params.arena = arena;
    params.arena_bytes = sizeof arena;
    nin_context *context = NULL;
    if ((status = nin_context_create(model, &params, &context)) != NIN_OK) return fail("creating the context", status);

    int classes = nin_model_class_count(model);
    float logits[64];
    if (classes < 1 || classes > 64) return fail("class count", NIN_ERROR_INVALID_ARGUMENT);
    for (unsigned i = 0; i < mcu_image_count; i++) {
        mcu_mark();  /* the instructions of one inference: between this mark and the next */
        status = nin_run_prepared_u8(context, mcu_images[i], mcu_image_bytes, 1);
        mcu_mark();
        if (status != NIN_OK) return fail("running", status);
        if ((status = nin_context_logits(context, 0, logits, 64)) != NIN_OK) return fail("logits", status);
        int best = 0;
        nin_context_top_k(context, 0, 1, &best, NULL);
        mcu_write("image ");
        mcu_write(mcu_image_names[i]);
        mcu_write(" bits");
        for (int c = 0; c < classes; c++) {
            union { float f; uint32_t u; } bits = {.f = logits[c]};
            mcu_write(" ");
            write_hex(bits.u);
        }
        mcu_write(" logits");
        for (int c = 0; c < classes; c++) {
            mcu_write(" ");
            write_decimal(logits[c]);
        }
        mcu_write(" top1 ");
        write_unsigned((uint32_t)best);
        mcu_write(" ");
        mcu_write(nin_model_label(model, best));
        mcu_write("\n");
    }
    mcu_write("kernels ");
    mcu_write(nin_model_kernels(model));
    mcu_write("\n");
    figure("model_bytes", (size_t)(nin_mcu_model_end - nin_mcu_model));
    figure("arena_needed", needed);
    figure("arena_reserved", sizeof arena);
    figure("pool_used", ninpriv_bare_heap_used());
    figure("pool_bytes", ninpriv_bare_heap_bytes());
    figure("stack_high_water", mcu_stack_high_water());
    figure("stack_reserved", mcu_stack_bytes());
    nin_context_free(context);
    nin_model_free(model);
    mcu_write("done\n");
    return 0;
}
