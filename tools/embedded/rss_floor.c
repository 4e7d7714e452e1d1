/* tools/embedded/rss_floor.c: `rss_floor WEIGHT_BYTES ARENA_BYTES` holds (writes every page of)
 * the given bytes of packed weights and of arena, starts and joins a thread, makes and frees a
 * libpng read struct, and prints a line with printf and strtod: the C library, libpng, zlib and
 * data of static nin-infer, without any of nin's own code. Linked the way nin-infer is (static
 * PIE, glibc, libpng, zlib), its peak RSS is the least any static nin-infer could reach for a
 * model with those sizes: tools/embedded/goals.py prints it beside nin-infer's, so a memory goal
 * below it is seen to need a smaller C library or less data, not leaner engine code. */
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *nothing(void *argument) { return argument; }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: rss_floor WEIGHT_BYTES ARENA_BYTES\n");
        return 2;
    }
    size_t weight_bytes = strtoull(argv[1], NULL, 10), arena_bytes = strtoull(argv[2], NULL, 10);
    unsigned char *weights = malloc(weight_bytes ? weight_bytes : 1), *arena = malloc(arena_bytes ? arena_bytes : 1);
    if (!weights || !arena) return 1;
    memset(weights, 1, weight_bytes);
    memset(arena, 2, arena_bytes);
    pthread_t thread;
    if (pthread_create(&thread, NULL, nothing, NULL) == 0) pthread_join(thread, NULL);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_destroy_read_struct(&png, &info, NULL);
    printf("libpng %s, %zu + %zu bytes held (%g)\n", png_get_libpng_ver(NULL), weight_bytes, arena_bytes,
           strtod("1.5", NULL) + weights[weight_bytes / 2] + arena[arena_bytes / 2]);
    free(weights);
    free(arena);
    return 0;
}
