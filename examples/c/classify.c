/* classify.c - load a PNG, classify it, print the top-K labels.
 * Build: cc classify.c $(pkg-config --cflags --libs nin) -o classify
 * Usage: classify MODEL.nin IMAGE.png [K] */
#include <nin.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.nin IMAGE.png [K]\n", argv[0]);
        return 2;
    }
    int k = argc > 3 ? atoi(argv[3]) : 3;
    nin_model *model = NULL;
    nin_context *ctx = NULL;
    nin_image image = {0};
    int status = 1;
    if (nin_model_load_file(argv[1], &model) != NIN_OK ||
        nin_context_create(model, NULL, &ctx) != NIN_OK ||
        nin_image_load_png(argv[2], &image) != NIN_OK ||
        nin_run_images(ctx, &image, 1) != NIN_OK) {
        fprintf(stderr, "classify: %s\n", nin_last_error());
        goto done;
    }
    if (k < 1) k = 1;
    if (k > nin_model_class_count(model)) k = nin_model_class_count(model);
    int classes[64];
    float probabilities[64];
    if (k > 64) k = 64;
    nin_context_top_k(ctx, 0, k, classes, probabilities);
    for (int i = 0; i < k; i++) printf("%.4f  %s\n", probabilities[i], nin_model_label(model, classes[i]));
    status = 0;
done:
    nin_image_free(&image);
    nin_context_free(ctx);
    nin_model_free(model);
    return status;
}
