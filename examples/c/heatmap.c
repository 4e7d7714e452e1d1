/* heatmap.c - where did the network see the class? Classifies a PNG, prints the top class's
 * confidence map (nin_context_confidence_maps: one map per class, the last block's output
 * before global average pooling) as a grid of digits 0-9, and writes the rendered heatmap
 * (nin_context_heatmap: the same pixels as `nin-infer --heatmap`) as a binary PPM, which any
 * image viewer opens; no image library needed here.
 * Usage: heatmap MODEL.nin IMAGE.png OUT.ppm */
#include <nin.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what) {
    fprintf(stderr, "heatmap: %s: %s\n", what, nin_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.nin IMAGE.png OUT.ppm\n", argv[0]);
        return 2;
    }
    nin_model *model = NULL;
    nin_context *ctx = NULL;
    nin_image image = {0}, rendered = {0};
    if (nin_model_load_file(argv[1], &model) != NIN_OK) return fail(argv[1]);
    if (nin_context_create(model, NULL, &ctx) != NIN_OK) return fail("nin_context_create");
    if (nin_image_load_png(argv[2], &image) != NIN_OK) return fail(argv[2]);
    if (nin_run_images(ctx, &image, 1) != NIN_OK) return fail("nin_run_images");

    int best = 0;
    float p = 0;
    if (nin_context_top_k(ctx, 0, 1, &best, &p) != NIN_OK) return fail("nin_context_top_k");
    int classes = 0, h = 0, w = 0;
    if (nin_model_map_shape(model, &classes, &h, &w) != NIN_OK) return fail("nin_model_map_shape");
    float *maps = malloc((size_t)classes * (size_t)h * (size_t)w * sizeof(float));
    if (!maps) return 1;
    if (nin_context_confidence_maps(ctx, 0, maps, (size_t)classes * (size_t)h * (size_t)w) != NIN_OK)
        return fail("nin_context_confidence_maps");
    const float *map = maps + (size_t)best * (size_t)h * (size_t)w;
    float lo = map[0], hi = map[0];
    for (int i = 1; i < h * w; i++) { lo = map[i] < lo ? map[i] : lo; hi = map[i] > hi ? map[i] : hi; }
    printf("%s %.3f: its %dx%d confidence map, 0 (lowest) to 9 (highest)\n", nin_model_label(model, best), p, h, w);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) putchar('0' + (hi > lo ? (int)(9.0f * (map[y * w + x] - lo) / (hi - lo) + 0.5f) : 0));
        putchar('\n');
    }
    free(maps);

    if (nin_context_heatmap(ctx, 0, -1, &image, &rendered) != NIN_OK) return fail("nin_context_heatmap");
    FILE *out = fopen(argv[3], "wb");
    if (!out) { perror(argv[3]); return 1; }
    fprintf(out, "P6\n%d %d\n255\n", rendered.width, rendered.height);
    for (int y = 0; y < rendered.height; y++) fwrite(rendered.pixels + (size_t)y * rendered.stride, 3, (size_t)rendered.width, out);
    if (fclose(out) != 0) { perror(argv[3]); return 1; }
    printf("wrote %s (%dx%d)\n", argv[3], rendered.width, rendered.height);

    nin_image_free(&rendered);
    nin_image_free(&image);
    nin_context_free(ctx);
    nin_model_free(model);
    return 0;
}
