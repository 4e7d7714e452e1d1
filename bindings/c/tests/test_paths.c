/* test_paths.c - file names are bytes on Linux: a model and a PNG whose names are not UTF-8
 * ("bad\xffbyte") load from C exactly as under a plain name, and a missing one of that name is
 * reported as NIN_ERROR_IO. Before, the path went through a Swift String, which replaced the
 * invalid byte and so named another file.
 * Usage: test_paths MODEL.nin IMAGE.png */
#define _DEFAULT_SOURCE  /* mkdtemp */
#include "nin.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies the file `from` to `to`; 0 on success. */
static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    int ok = in && out;
    char buffer[65536];
    size_t n;
    while (ok && (n = fread(buffer, 1, sizeof buffer, in)) > 0) ok = fwrite(buffer, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = 0;
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.nin IMAGE.png\n", argv[0]);
        return 2;
    }
    char dir[] = "/tmp/nin_paths_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char model_path[256], image_path[256], missing_path[256];
    snprintf(model_path, sizeof model_path, "%s/model\xff\xfe.nin", dir);
    snprintf(image_path, sizeof image_path, "%s/bad\xff" "byte.png", dir);
    snprintf(missing_path, sizeof missing_path, "%s/missing\xff.png", dir);
    CHECK(copy_file(argv[1], model_path) == 0);
    CHECK(copy_file(argv[2], image_path) == 0);

    nin_model *plain = NULL, *odd = NULL;
    CHECK_STATUS(nin_model_load_file(argv[1], &plain), NIN_OK);
    CHECK_STATUS(nin_model_load_file(model_path, &odd), NIN_OK);
    nin_image plain_image = {0}, odd_image = {0};
    CHECK_STATUS(nin_image_load_png(argv[2], &plain_image), NIN_OK);
    CHECK_STATUS(nin_image_load_png(image_path, &odd_image), NIN_OK);
    if (plain_image.pixels && odd_image.pixels) {
        CHECK(plain_image.width == odd_image.width && plain_image.height == odd_image.height &&
              plain_image.channels == odd_image.channels);
        CHECK(memcmp(plain_image.pixels, odd_image.pixels,
                     (size_t)plain_image.width * (size_t)plain_image.height * (size_t)plain_image.channels) == 0);
    }
    if (plain && odd && odd_image.pixels) {
        nin_context *a = NULL, *b = NULL;
        CHECK_STATUS(nin_context_create(plain, NULL, &a), NIN_OK);
        CHECK_STATUS(nin_context_create(odd, NULL, &b), NIN_OK);
        float la[4096], lb[4096];
        int classes = nin_model_class_count(plain);
        CHECK(classes >= 1 && classes <= 4096 && classes == nin_model_class_count(odd));
        CHECK_STATUS(nin_run_images(a, &plain_image, 1), NIN_OK);
        CHECK_STATUS(nin_run_images(b, &odd_image, 1), NIN_OK);
        CHECK_STATUS(nin_context_logits(a, 0, la, 4096), NIN_OK);
        CHECK_STATUS(nin_context_logits(b, 0, lb, 4096), NIN_OK);
        CHECK(memcmp(la, lb, (size_t)classes * sizeof(float)) == 0);
        nin_context_free(a);
        nin_context_free(b);
    }
    nin_image missing = {0};
    CHECK_STATUS(nin_image_load_png(missing_path, &missing), NIN_ERROR_IO);
    CHECK(strstr(nin_last_error(), "missing\\xff.png") != NULL);  /* the name, shown with the byte escaped */
    nin_model *none = NULL;
    CHECK_STATUS(nin_model_load_file(missing_path, &none), NIN_ERROR_IO);

    nin_image_free(&plain_image);
    nin_image_free(&odd_image);
    nin_model_free(plain);
    nin_model_free(odd);
    unlink(model_path);
    unlink(image_path);
    rmdir(dir);
    return SUMMARY("test_paths");
}
