/* embedded.c - the embedded pattern: the model is read into a static buffer, the context's
 * arena is a static buffer too, and nothing touches the heap after the model is loaded.
 * Build: cc embedded.c $(pkg-config --cflags --libs nin) -o embedded
 * Usage: embedded MODEL.nin RAW_INPUT.u8   (the prepared H x W x C input, e.g. from a sensor) */
#include <nin.h>
#include <stdalign.h>
#include <stdio.h>

static alignas(64) unsigned char model_bytes[4 << 20];  /* the .nin image, used in place */
static alignas(64) unsigned char arena[8 << 20];        /* every tensor of the context */
static unsigned char input[1 << 20];

static size_t read_into(const char *path, unsigned char *buffer, size_t capacity) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buffer, 1, capacity, f);
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.nin RAW_INPUT.u8\n", argv[0]);
        return 2;
    }
    size_t model_size = read_into(argv[1], model_bytes, sizeof model_bytes);
    size_t input_size = read_into(argv[2], input, sizeof input);
    nin_model *model = NULL;
    if (nin_model_load_memory(model_bytes, model_size, &model) != NIN_OK) {
        fprintf(stderr, "embedded: %s\n", nin_last_error());
        return 1;
    }
    nin_context_params params = nin_context_default_params();
    params.arena = arena;
    params.arena_bytes = sizeof arena;
    printf("arena: %zu of %zu bytes used\n", nin_model_arena_bytes(model, &params), sizeof arena);
    nin_context *ctx = NULL;
    int best = -1;
    float probability = 0;
    if (nin_context_create(model, &params, &ctx) != NIN_OK ||
        nin_run_prepared_u8(ctx, input, input_size, 1) != NIN_OK ||
        nin_context_top_k(ctx, 0, 1, &best, &probability) != NIN_OK) {
        fprintf(stderr, "embedded: %s\n", nin_last_error());
        nin_context_free(ctx);
        nin_model_free(model);
        return 1;
    }
    printf("%s %.4f\n", nin_model_label(model, best), probability);
    nin_context_free(ctx);
    nin_model_free(model);
    return 0;
}
