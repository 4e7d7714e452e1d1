/* test_memcheck.c - the load / run / free cycle that `make memcheck` runs under valgrind memcheck
 * (tests/memcheck.sh): each cycle loads the model from its file and from memory, decodes a PNG,
 * makes contexts of 1 and 2 threads, runs the image and prepared input, reads every result, and
 * frees everything. valgrind then requires no errors and nothing definitely or indirectly lost.
 * Usage: test_memcheck MODEL.nin IMAGE.png [CYCLES] */
#include "nin.h"
#include "check.h"

#include <stdlib.h>

static void cycle(const char *model_path, const unsigned char *bytes, size_t size, const char *image_path, int threads) {
    nin_model *from_file = NULL, *from_memory = NULL;
    CHECK_STATUS(nin_model_load_file(model_path, &from_file), NIN_OK);
    CHECK_STATUS(nin_model_load_memory(bytes, size, &from_memory), NIN_OK);
    nin_image image = { 0 };
    CHECK_STATUS(nin_image_load_png(image_path, &image), NIN_OK);
    if (!from_file || !from_memory || !image.pixels) return;
    int c = 0, h = 0, w = 0;
    CHECK_STATUS(nin_model_input_shape(from_memory, &c, &h, &w), NIN_OK);
    size_t input_bytes = (size_t)c * (size_t)h * (size_t)w;
    unsigned char *input = malloc(input_bytes);
    for (size_t i = 0; i < input_bytes; i++) input[i] = (unsigned char)(i * 7);
    nin_context_params params = nin_context_default_params();
    params.threads = threads;
    nin_context *ctx = NULL;
    CHECK_STATUS(nin_context_create(from_file, &params, &ctx), NIN_OK);
    float out[4096];
    int best = -1;
    CHECK_STATUS(nin_run_images(ctx, &image, 1), NIN_OK);
    CHECK_STATUS(nin_context_top_k(ctx, 0, 1, &best, NULL), NIN_OK);
    nin_context_free(ctx);
    ctx = NULL;
    CHECK_STATUS(nin_context_create(from_memory, &params, &ctx), NIN_OK);
    CHECK_STATUS(nin_run_prepared_u8(ctx, input, input_bytes, 1), NIN_OK);
    CHECK_STATUS(nin_context_logits(ctx, 0, out, 4096), NIN_OK);
    CHECK_STATUS(nin_context_probabilities(ctx, 0, out, 4096), NIN_OK);
    /* A refused call leaves an error message behind: that must not leak either. */
    CHECK_STATUS(nin_run_prepared_u8(ctx, input, input_bytes + 1, 1), NIN_ERROR_INVALID_ARGUMENT);
    nin_context_free(ctx);
    free(input);
    nin_image_free(&image);
    nin_model_free(from_memory);
    nin_model_free(from_file);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.nin IMAGE.png [CYCLES]\n", argv[0]);
        return 2;
    }
    int cycles = argc == 4 ? atoi(argv[3]) : 4;
    size_t size = 0;
    unsigned char *bytes = read_file(argv[1], &size);
    CHECK(bytes != NULL);
    if (!bytes) return SUMMARY("test_memcheck");
    for (int i = 0; i < cycles; i++) cycle(argv[1], bytes, size, argv[2], 1 + i % 2);
    free(bytes);
    return SUMMARY("test_memcheck");
}
