/* test_api.c - exercises every function of nin.h, including misuse: NULL arguments, wrong
 * buffer sizes, freed handles, double frees, results before a run, hostile model bytes.
 * Usage: test_api MODEL.nin IMAGE.png   (compiled with -Wall -Werror) */
#define _POSIX_C_SOURCE 200809L  /* setenv, unsetenv */
#include "nin.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <fenv.h>

static void test_version_and_status(void) {
    CHECK(strcmp(nin_version(), NIN_VERSION_STRING) == 0);
    CHECK(strcmp(nin_status_string(NIN_OK), "NIN_OK") == 0);
    CHECK(strcmp(nin_status_string(NIN_ERROR_BAD_MODEL), "NIN_ERROR_BAD_MODEL") == 0);
    CHECK(strcmp(nin_status_string((nin_status)12345), "unknown status") == 0);
    CHECK(nin_last_error() != NULL);
}

static void test_loading_errors(const char *model_path) {
    nin_model *model = NULL;
    CHECK_STATUS(nin_model_load_file(NULL, &model), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "path") != NULL);
    CHECK_STATUS(nin_model_load_file(model_path, NULL), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_model_load_file("/nonexistent/model.nin", &model), NIN_ERROR_IO);
    CHECK(strstr(nin_last_error(), "/nonexistent/model.nin") != NULL);
    CHECK(model == NULL);
    CHECK_STATUS(nin_model_load_memory(NULL, 10, &model), NIN_ERROR_INVALID_ARGUMENT);

    size_t size = 0;
    unsigned char *data = read_file(model_path, &size);
    CHECK(data != NULL);
    if (!data) return;
    CHECK_STATUS(nin_model_load_memory(data, 0, &model), NIN_ERROR_INVALID_ARGUMENT);
    /* Truncated, corrupted, wrong magic: refused with a message, never a crash. */
    CHECK_STATUS(nin_model_load_memory(data, size / 2, &model), NIN_ERROR_BAD_MODEL);
    CHECK(strstr(nin_last_error(), "bytes") != NULL);
    data[size - 1] ^= 0x5A;
    CHECK_STATUS(nin_model_load_memory(data, size, &model), NIN_ERROR_BAD_MODEL);
    CHECK(strstr(nin_last_error(), "checksum") != NULL);
    data[size - 1] ^= 0x5A;
    data[0] = 'X';
    CHECK_STATUS(nin_model_load_memory(data, size, &model), NIN_ERROR_BAD_MODEL);
    CHECK(strstr(nin_last_error(), "magic") != NULL);
    data[0] = 'N';
    /* Aligned memory is used in place; unaligned memory is copied. Both work. */
    CHECK_STATUS(nin_model_load_memory(data, size, &model), NIN_OK);
    CHECK(nin_model_class_count(model) > 0);
    nin_model_free(model);
    unsigned char *shifted = malloc(size + 1);
    memcpy(shifted + 1, data, size);
    model = NULL;
    CHECK_STATUS(nin_model_load_memory(shifted + 1, size, &model), NIN_OK);
    free(shifted);  /* the unaligned copy is the model's own */
    CHECK(nin_model_class_count(model) > 0);
    nin_model_free(model);
    free(data);
}

static void test_model_queries(nin_model *model) {
    int c = 0, h = 0, w = 0;
    CHECK_STATUS(nin_model_input_shape(model, &c, &h, &w), NIN_OK);
    CHECK((c == 1 || c == 3) && h > 0 && w > 0);
    CHECK_STATUS(nin_model_input_shape(model, NULL, NULL, NULL), NIN_OK);
    CHECK_STATUS(nin_model_input_shape(NULL, &c, &h, &w), NIN_ERROR_INVALID_ARGUMENT);
    int classes = nin_model_class_count(model);
    CHECK(classes >= 2);
    CHECK(nin_model_class_count(NULL) == 0);
    CHECK(nin_model_label(model, 0) != NULL && strlen(nin_model_label(model, 0)) > 0);
    CHECK(nin_model_label(model, classes - 1) != NULL);
    CHECK(nin_model_label(model, classes) == NULL);
    CHECK(nin_model_label(model, -1) == NULL);
    CHECK(nin_model_label(NULL, 0) == NULL);
    CHECK(nin_model_metadata(model, "name") != NULL);
    CHECK(nin_model_metadata(model, "no such key") == NULL);
    CHECK(nin_model_metadata(model, NULL) == NULL);
    int mc = 0, mh = 0, mw = 0;
    CHECK_STATUS(nin_model_map_shape(model, &mc, &mh, &mw), NIN_OK);
    CHECK(mc == classes && mh > 0 && mw > 0);
    CHECK_STATUS(nin_model_map_shape(NULL, &mc, &mh, &mw), NIN_ERROR_INVALID_ARGUMENT);
    /* Without NIN_ISA a load takes the first family of the list that this CPU runs. */
    const char *kernels = nin_model_kernels(model);
    int first_supported = -1;
    for (int i = nin_kernel_family_count() - 1; i >= 0; i--) if (nin_kernel_family_supported(i) == 1) first_supported = i;
    if (!getenv("NIN_ISA")) CHECK(kernels && first_supported >= 0 && strcmp(kernels, nin_kernel_family_name(first_supported)) == 0);
    CHECK(nin_model_kernels(NULL) == NULL);
    /* Weight memory: a family either repacks (packed bytes) or reads in place; the test model is
     * format 1.1 (no quad copy), so only the generic and cortexm families read weights in place. */
    size_t packed = 0, in_place = 0;
    CHECK_STATUS(nin_model_weight_memory(model, &packed, &in_place), NIN_OK);
    CHECK(packed > 0);
    if (kernels && strcmp(kernels, "generic") != 0) CHECK(in_place == 0);
    CHECK_STATUS(nin_model_weight_memory(model, NULL, NULL), NIN_OK);
    CHECK_STATUS(nin_model_weight_memory(NULL, &packed, &in_place), NIN_ERROR_INVALID_ARGUMENT);
}

/* The build's kernel families: named once each, "portable" and "generic" last and run on every
 * CPU, a reason exactly where a family does not run, and nothing out of range. */
static void test_kernel_families(void) {
    int count = nin_kernel_family_count();
    CHECK(count >= 2);
    for (int i = 0; i < count; i++) {
        const char *name = nin_kernel_family_name(i);
        CHECK(name != NULL && name[0] != 0);
        for (int j = 0; j < i; j++) CHECK(name && strcmp(name, nin_kernel_family_name(j)) != 0);
        int supported = nin_kernel_family_supported(i);
        const char *reason = nin_kernel_family_unavailable_reason(i);
        CHECK(supported == 0 || supported == 1);
        CHECK((supported == 1) == (reason == NULL));
        CHECK(reason == NULL || reason[0] != 0);
        CHECK(nin_kernel_family_name(i) == name);  /* static storage: the same pointer each call */
        /* flags: none for the families every CPU runs; space-separated names, no empty one */
        const char *flags = nin_kernel_family_cpu_flags(i);
        CHECK(flags != NULL && nin_kernel_family_cpu_flags(i) == flags);
        if (flags && name && (strcmp(name, "portable") == 0 || strcmp(name, "generic") == 0)) CHECK(flags[0] == 0);
        if (flags && flags[0]) CHECK(flags[0] != ' ' && flags[strlen(flags) - 1] != ' ' && !strstr(flags, "  "));
    }
    CHECK(count >= 2 && strcmp(nin_kernel_family_name(count - 1), "generic") == 0 && nin_kernel_family_supported(count - 1) == 1);
    CHECK(count >= 2 && strcmp(nin_kernel_family_name(count - 2), "portable") == 0 && nin_kernel_family_supported(count - 2) == 1);
    CHECK(nin_kernel_family_name(-1) == NULL && nin_kernel_family_name(count) == NULL);
    CHECK(nin_kernel_family_supported(-1) == -1 && nin_kernel_family_supported(count) == -1);
    CHECK(nin_kernel_family_unavailable_reason(-1) == NULL && nin_kernel_family_unavailable_reason(count) == NULL);
    CHECK(nin_kernel_family_cpu_flags(-1) == NULL && nin_kernel_family_cpu_flags(count) == NULL);
}

/* nin_model_kernels names the family NIN_ISA asked for at load time (generic and portable run
 * on every CPU), and the environment's own choice again once NIN_ISA is back as it was. */
static void test_kernels_follow_nin_isa(const char *model_path) {
    const char *old = getenv("NIN_ISA");
    char *saved = old ? strdup(old) : NULL;
    nin_model *before = NULL, *model = NULL;
    CHECK_STATUS(nin_model_load_file(model_path, &before), NIN_OK);
    /* Every family this CPU runs is the one a load under NIN_ISA=<it> gets. */
    for (int i = 0; i < nin_kernel_family_count(); i++) {
        if (nin_kernel_family_supported(i) != 1) continue;
        setenv("NIN_ISA", nin_kernel_family_name(i), 1);
        CHECK_STATUS(nin_model_load_file(model_path, &model), NIN_OK);
        CHECK(model && strcmp(nin_model_kernels(model), nin_kernel_family_name(i)) == 0);
        nin_model_free(model);
        model = NULL;
    }
    if (saved) setenv("NIN_ISA", saved, 1); else unsetenv("NIN_ISA");
    CHECK_STATUS(nin_model_load_file(model_path, &model), NIN_OK);
    CHECK(model && before && strcmp(nin_model_kernels(model), nin_model_kernels(before)) == 0);
    nin_model_free(model);
    nin_model_free(before);
    free(saved);
}

static void test_contexts(nin_model *model, const char *image_path) {
    nin_context_params params = nin_context_default_params();
    CHECK(params.threads == 1 && params.batch_size == 1 && params.arena == NULL && params.arena_bytes == 0);
    size_t need = nin_model_arena_bytes(model, &params);
    CHECK(need > 0);
    CHECK(nin_model_arena_bytes(model, NULL) == need);
    CHECK(nin_model_arena_bytes(NULL, &params) == 0);
    nin_context_params bad = params;
    bad.threads = 0;
    nin_context *ctx = NULL;
    CHECK_STATUS(nin_context_create(model, &bad, &ctx), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "threads") != NULL);
    bad = params;
    bad.batch_size = -3;
    CHECK_STATUS(nin_context_create(model, &bad, &ctx), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_create(NULL, &params, &ctx), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_create(model, &params, NULL), NIN_ERROR_INVALID_ARGUMENT);
    /* A caller arena that is too small or unaligned is refused. */
    bad = params;
    bad.arena = aligned_alloc(64, need);
    bad.arena_bytes = need - 64;
    CHECK_STATUS(nin_context_create(model, &bad, &ctx), NIN_ERROR_BUFFER_TOO_SMALL);
    bad.arena = (char *)bad.arena + 1;
    bad.arena_bytes = need;
    CHECK_STATUS(nin_context_create(model, &bad, &ctx), NIN_ERROR_INVALID_ARGUMENT);
    free((char *)bad.arena - 1);
    bad = params;
    bad.arena_bytes = 1024;
    CHECK_STATUS(nin_context_create(model, &bad, &ctx), NIN_ERROR_INVALID_ARGUMENT);

    CHECK_STATUS(nin_context_create(model, NULL, &ctx), NIN_OK);
    int classes = nin_model_class_count(model);
    float *logits = calloc((size_t)classes, sizeof(float));
    float *probs = calloc((size_t)classes, sizeof(float));
    int top[3];
    float top_p[3];
    /* Results before any run. */
    CHECK(nin_context_result_count(ctx) == 0);
    CHECK_STATUS(nin_context_logits(ctx, 0, logits, (size_t)classes), NIN_ERROR_STATE);
    CHECK_STATUS(nin_context_top_k(ctx, 0, 1, top, top_p), NIN_ERROR_STATE);

    nin_image image;
    CHECK_STATUS(nin_image_load_png(NULL, &image), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_image_load_png(image_path, NULL), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_image_load_png("/nonexistent.png", &image), NIN_ERROR_IO);
    CHECK(strstr(nin_last_error(), "/nonexistent.png") != NULL);
    CHECK_STATUS(nin_image_load_png(image_path, &image), NIN_OK);
    CHECK(image.pixels != NULL && image.width > 0 && image.height > 0 && image.channels >= 1);

    /* Bad run arguments. */
    CHECK_STATUS(nin_run_images(NULL, &image, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_run_images(ctx, NULL, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_run_images(ctx, &image, 0), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_run_images(ctx, &image, 2), NIN_ERROR_INVALID_ARGUMENT);
    nin_image broken = image;
    broken.channels = 5;
    CHECK_STATUS(nin_run_images(ctx, &broken, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "channels") != NULL);
    broken = image;
    broken.pixels = NULL;
    CHECK_STATUS(nin_run_images(ctx, &broken, 1), NIN_ERROR_INVALID_ARGUMENT);
    broken = image;
    broken.stride = 1;
    CHECK_STATUS(nin_run_images(ctx, &broken, 1), NIN_ERROR_INVALID_ARGUMENT);

    CHECK_STATUS(nin_run_images(ctx, &image, 1), NIN_OK);
    CHECK(nin_context_result_count(ctx) == 1);
    CHECK_STATUS(nin_context_logits(ctx, 0, logits, (size_t)classes), NIN_OK);
    CHECK_STATUS(nin_context_probabilities(ctx, 0, probs, (size_t)classes), NIN_OK);
    float sum = 0;
    int argmax = 0;
    for (int i = 0; i < classes; i++) {
        sum += probs[i];
        if (logits[i] > logits[argmax]) argmax = i;
    }
    CHECK(fabsf(sum - 1.0f) < 1e-4f);
    CHECK_STATUS(nin_context_top_k(ctx, 0, 3, top, top_p), NIN_OK);
    CHECK(top[0] == argmax);
    CHECK(top_p[0] >= top_p[1] && top_p[1] >= top_p[2]);
    CHECK_STATUS(nin_context_top_k(ctx, 0, 1, top, NULL), NIN_OK);
    CHECK_STATUS(nin_context_top_k(ctx, 0, 0, top, top_p), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_top_k(ctx, 0, classes + 1, top, top_p), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_top_k(ctx, 0, 1, NULL, top_p), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_logits(ctx, 1, logits, (size_t)classes), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_logits(ctx, 0, logits, (size_t)classes - 1), NIN_ERROR_BUFFER_TOO_SMALL);
    CHECK_STATUS(nin_context_logits(ctx, 0, NULL, (size_t)classes), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_probabilities(NULL, 0, probs, (size_t)classes), NIN_ERROR_INVALID_ARGUMENT);

    /* Confidence maps: their global average is the logit. */
    int mc = 0, mh = 0, mw = 0;
    nin_model_map_shape(model, &mc, &mh, &mw);
    size_t map_count = (size_t)mc * (size_t)mh * (size_t)mw;
    float *maps = calloc(map_count, sizeof(float));
    CHECK_STATUS(nin_context_confidence_maps(ctx, 0, maps, map_count - 1), NIN_ERROR_BUFFER_TOO_SMALL);
    CHECK_STATUS(nin_context_confidence_maps(ctx, 0, maps, map_count), NIN_OK);
    double mean = 0;
    for (int i = 0; i < mh * mw; i++) mean += maps[(size_t)argmax * (size_t)(mh * mw) + (size_t)i];
    mean /= (double)(mh * mw);
    CHECK(fabs(mean - logits[argmax]) < 1e-4 * (1 + fabs(mean)));

    /* Prepared inputs: wrong sizes and NaN are refused; u8 and f32 of the same pixels agree. */
    int c = 0, h = 0, w = 0;
    nin_model_input_shape(model, &c, &h, &w);
    size_t n = (size_t)c * (size_t)h * (size_t)w;
    uint8_t *u8 = calloc(n, 1);
    float *f32 = calloc(n, sizeof(float));
    for (size_t i = 0; i < n; i++) { u8[i] = (uint8_t)(i * 7 % 256); }
    for (int ch = 0; ch < c; ch++)
        for (int p = 0; p < h * w; p++) f32[(size_t)ch * (size_t)(h * w) + (size_t)p] = u8[(size_t)p * (size_t)c + (size_t)ch] / 255.0f;
    CHECK_STATUS(nin_run_prepared_u8(ctx, u8, n - 1, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "bytes") != NULL);
    CHECK_STATUS(nin_run_prepared_u8(ctx, NULL, n, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_run_prepared_u8(ctx, u8, n, 1), NIN_OK);
    float *a = calloc((size_t)classes, sizeof(float)), *b = calloc((size_t)classes, sizeof(float));
    CHECK_STATUS(nin_context_logits(ctx, 0, a, (size_t)classes), NIN_OK);
    CHECK_STATUS(nin_run_prepared_f32(ctx, f32, n, 1), NIN_OK);
    CHECK_STATUS(nin_context_logits(ctx, 0, b, (size_t)classes), NIN_OK);
    CHECK(memcmp(a, b, (size_t)classes * sizeof(float)) == 0);
    f32[0] = NAN;
    CHECK_STATUS(nin_run_prepared_f32(ctx, f32, n, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "NaN") != NULL);
    /* A failed run leaves no results, whatever made it fail. */
    CHECK(nin_context_result_count(ctx) == 0);
    CHECK_STATUS(nin_context_logits(ctx, 0, b, (size_t)classes), NIN_ERROR_STATE);
    CHECK_STATUS(nin_run_prepared_u8(ctx, u8, n, 1), NIN_OK);
    CHECK_STATUS(nin_run_prepared_u8(ctx, u8, n - 1, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(nin_context_result_count(ctx) == 0);
    CHECK_STATUS(nin_run_prepared_u8(ctx, u8, n, 1), NIN_OK);
    CHECK_STATUS(nin_run_images(ctx, &broken, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(nin_context_result_count(ctx) == 0);
    CHECK_STATUS(nin_run_prepared_f32(ctx, f32, n + 1, 1), NIN_ERROR_INVALID_ARGUMENT);

    /* A caller-owned arena gives the same results. */
    nin_context_params own = params;
    own.arena = aligned_alloc(64, (need + 63) / 64 * 64);
    own.arena_bytes = need;
    nin_context *ctx2 = NULL;
    CHECK_STATUS(nin_context_create(model, &own, &ctx2), NIN_OK);
    CHECK_STATUS(nin_run_prepared_u8(ctx2, u8, n, 1), NIN_OK);
    memset(b, 0xFF, (size_t)classes * sizeof(float));
    CHECK_STATUS(nin_context_logits(ctx2, 0, b, (size_t)classes), NIN_OK);
    CHECK(memcmp(a, b, (size_t)classes * sizeof(float)) == 0);
    nin_context_free(ctx2);
    free(own.arena);

    /* Freed handles are refused, double frees ignored. */
    nin_context_free(ctx);
    CHECK_STATUS(nin_run_images(ctx, &image, 1), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "context") != NULL);
    CHECK(nin_context_result_count(ctx) == 0);
    nin_context_free(ctx);
    nin_context_free(NULL);
    nin_image_free(&image);
    CHECK(image.pixels == NULL);
    nin_image_free(&image);
    nin_image_free(NULL);
    free(u8); free(f32); free(a); free(b); free(maps); free(logits); free(probs);
}

/* The quantization contract is float32 arithmetic in round-to-nearest. A host that set another
 * rounding mode gets the same bits (nin rounds to nearest for its own work, on its own threads
 * too) and finds its mode unchanged after the run. */
static void test_rounding_mode(nin_model *model, const char *image_path) {
    nin_image image;
    CHECK_STATUS(nin_image_load_png(image_path, &image), NIN_OK);
    int classes = nin_model_class_count(model);
    float *expected = calloc((size_t)classes, sizeof(float)), *got = calloc((size_t)classes, sizeof(float));
    nin_context *ctx = NULL;
    CHECK_STATUS(nin_context_create(model, NULL, &ctx), NIN_OK);
    CHECK_STATUS(nin_run_images(ctx, &image, 1), NIN_OK);
    CHECK_STATUS(nin_context_logits(ctx, 0, expected, (size_t)classes), NIN_OK);
    const int modes[] = {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    for (int m = 0; m < 3; m++) {
        for (int threads = 1; threads <= 2; threads++) {
            CHECK(fesetround(modes[m]) == 0);
            nin_context_params params = nin_context_default_params();
            params.threads = threads;
            nin_context *other = NULL;
            CHECK_STATUS(nin_context_create(model, &params, &other), NIN_OK);
            CHECK_STATUS(nin_run_images(other, &image, 1), NIN_OK);
            CHECK_STATUS(nin_context_logits(other, 0, got, (size_t)classes), NIN_OK);
            CHECK(fegetround() == modes[m]);
            CHECK(memcmp(got, expected, (size_t)classes * sizeof(float)) == 0);
            fesetround(FE_TONEAREST);
            nin_context_free(other);
        }
    }
    nin_context_free(ctx);
    free(expected);
    free(got);
    nin_image_free(&image);
}

/* nin_context_heatmap: refused before a run and for bad arguments; after a run an RGB image at
 * least 256 pixels on the short side plus the caption strip, the same pixels for the top class
 * given as -1 or by index, different ones for another class, and freed by nin_image_free. */
static void test_heatmap(nin_model *model, const char *png) {
    nin_context *ctx = NULL;
    nin_image image = {0}, top = {0}, same = {0}, other = {0};
    CHECK_STATUS(nin_context_create(model, NULL, &ctx), NIN_OK);
    CHECK_STATUS(nin_image_load_png(png, &image), NIN_OK);
    if (!ctx || !image.pixels) return;
    CHECK_STATUS(nin_context_heatmap(ctx, 0, -1, &image, &top), NIN_ERROR_STATE);      /* no run yet */
    CHECK_STATUS(nin_run_images(ctx, &image, 1), NIN_OK);
    CHECK_STATUS(nin_context_heatmap(NULL, 0, -1, &image, &top), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_heatmap(ctx, 0, -1, NULL, &top), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_heatmap(ctx, 0, -1, &image, NULL), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_context_heatmap(ctx, 1, -1, &image, &top), NIN_ERROR_INVALID_ARGUMENT);  /* one image ran */
    int classes = nin_model_class_count(model);
    CHECK_STATUS(nin_context_heatmap(ctx, 0, classes, &image, &top), NIN_ERROR_INVALID_ARGUMENT);
    nin_image broken = image;
    broken.channels = 5;
    CHECK_STATUS(nin_context_heatmap(ctx, 0, -1, &broken, &top), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(top.pixels == NULL);                                           /* untouched on failure */

    int best = -1;
    CHECK_STATUS(nin_context_top_k(ctx, 0, 1, &best, NULL), NIN_OK);
    CHECK_STATUS(nin_context_heatmap(ctx, 0, -1, &image, &top), NIN_OK);
    CHECK_STATUS(nin_context_heatmap(ctx, 0, best, &image, &same), NIN_OK);
    CHECK_STATUS(nin_context_heatmap(ctx, 0, (best + 1) % classes, &image, &other), NIN_OK);
    int c = 0, h = 0, w = 0;
    CHECK_STATUS(nin_model_input_shape(model, &c, &h, &w), NIN_OK);
    int scale = (256 + (h < w ? h : w) - 1) / (h < w ? h : w);
    CHECK(top.channels == 3 && top.width == w * scale && top.height == h * scale + 17);
    CHECK(top.stride == (size_t)top.width * 3);
    size_t bytes = (size_t)top.height * top.stride;
    CHECK(same.pixels && memcmp(top.pixels, same.pixels, bytes) == 0);
    CHECK(other.pixels && memcmp(top.pixels, other.pixels, bytes) != 0);
    nin_image_free(&top);
    CHECK(top.pixels == NULL && top.width == 0);
    nin_image_free(&same);
    nin_image_free(&other);
    nin_image_free(&image);
    nin_context_free(ctx);
}

/* nin_image_load_png_memory decodes the same pixels as nin_image_load_png from the file's
 * bytes, and refuses NULL, size 0, truncated data and non-PNG data with a status and a reason. */
/* nin_default_model_path: $NIN_MODEL as given, else a readable model found from libnin.so's
 * folder (this test runs against the checkout's build, so the checkout's models/); a buffer one
 * byte short is NIN_ERROR_BUFFER_TOO_SMALL; nothing found is NIN_ERROR_IO naming the places. */
static void test_default_model_path(void) {
    char path[4096], small[8];
    const char *saved = getenv("NIN_MODEL");
    unsetenv("NIN_MODEL");
    CHECK_STATUS(nin_default_model_path(path, sizeof path), NIN_OK);
    CHECK(strstr(path, "models/fashion_classic.nin") != NULL);
    FILE *found = fopen(path, "rb");
    CHECK(found != NULL);
    if (found) fclose(found);
    size_t length = strlen(path);
    char *exact = malloc(length + 1);
    CHECK_STATUS(nin_default_model_path(exact, length + 1), NIN_OK);
    CHECK_STATUS(nin_default_model_path(exact, length), NIN_ERROR_BUFFER_TOO_SMALL);
    free(exact);
    CHECK_STATUS(nin_default_model_path(NULL, 10), NIN_ERROR_INVALID_ARGUMENT);
    setenv("NIN_MODEL", "/some/where/else.nin", 1);
    CHECK_STATUS(nin_default_model_path(path, sizeof path), NIN_OK);
    CHECK(strcmp(path, "/some/where/else.nin") == 0);
    CHECK_STATUS(nin_default_model_path(small, sizeof small), NIN_ERROR_BUFFER_TOO_SMALL);
    if (saved) setenv("NIN_MODEL", saved, 1); else unsetenv("NIN_MODEL");
}

static void test_png_memory(const char *image_path) {
    size_t size = 0;
    unsigned char *data = read_file(image_path, &size);
    CHECK(data != NULL && size > 8);
    if (!data) return;
    nin_image from_file, from_memory;
    CHECK_STATUS(nin_image_load_png(image_path, &from_file), NIN_OK);
    CHECK_STATUS(nin_image_load_png_memory(data, size, &from_memory), NIN_OK);
    CHECK(from_memory.width == from_file.width && from_memory.height == from_file.height);
    CHECK(from_memory.channels == from_file.channels && from_memory.stride == from_file.stride);
    CHECK(memcmp(from_memory.pixels, from_file.pixels, from_file.stride * (size_t)from_file.height) == 0);
    nin_image_free(&from_memory);
    CHECK(from_memory.pixels == NULL);
    nin_image_free(&from_file);

    nin_image image = {0};
    CHECK_STATUS(nin_image_load_png_memory(NULL, size, &image), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "data") != NULL);
    CHECK_STATUS(nin_image_load_png_memory(data, 0, &image), NIN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(nin_last_error(), "size") != NULL);
    CHECK_STATUS(nin_image_load_png_memory(data, size, NULL), NIN_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(nin_image_load_png_memory(data, size / 2, &image), NIN_ERROR_BAD_IMAGE);
    CHECK(strstr(nin_last_error(), "PNG") != NULL && strchr(nin_last_error(), '\n') == NULL);
    CHECK_STATUS(nin_image_load_png_memory(data + 1, size - 1, &image), NIN_ERROR_BAD_IMAGE);
    CHECK(image.pixels == NULL);
    free(data);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.nin IMAGE.png\n", argv[0]);
        return 2;
    }
    test_version_and_status();
    test_kernel_families();
    test_loading_errors(argv[1]);
    nin_model *model = NULL;
    CHECK_STATUS(nin_model_load_file(argv[1], &model), NIN_OK);
    if (model) {
        test_model_queries(model);
        test_kernels_follow_nin_isa(argv[1]);
        /* The context keeps the model alive after the caller's free. */
        nin_context *ctx = NULL;
        CHECK_STATUS(nin_context_create(model, NULL, &ctx), NIN_OK);
        test_contexts(model, argv[2]);
        test_rounding_mode(model, argv[2]);
        test_heatmap(model, argv[2]);
        test_png_memory(argv[2]);
        test_default_model_path();
        int c = 0, h = 0, w = 0;
        nin_model_input_shape(model, &c, &h, &w);
        size_t n = (size_t)c * (size_t)h * (size_t)w;
        nin_model_free(model);
        CHECK(nin_model_class_count(model) == 0);  /* freed handle: refused, no crash */
        CHECK(nin_model_kernels(model) == NULL);
        nin_model_free(model);                      /* double free: ignored */
        uint8_t *zeros = calloc(n, 1);
        CHECK_STATUS(nin_run_prepared_u8(ctx, zeros, n, 1), NIN_OK);  /* the context still runs */
        CHECK(nin_context_result_count(ctx) == 1);
        free(zeros);
        nin_context_free(ctx);
    }
    return SUMMARY("test_api");
}
