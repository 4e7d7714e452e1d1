/* nin_workers.c - the memory of worker processes that each load the same model file, as a
 * preforked server's workers do: N children (forked before anything is loaded) each map MODEL
 * with nin_model_load_file, make a context and classify one image, then wait; while all N are
 * alive the parent reads each one's /proc/PID/smaps_rollup and prints, per worker, its RSS, its
 * PSS (shared pages divided among the processes that map them), its private dirty memory (the
 * arena, the heap, repacked weights), and what nin_model_weight_memory says (bytes the kernel
 * family packed, bytes read in place from the file). Then the children exit.
 *
 *     nin_workers MODEL [workers=4]
 *
 * Output: one line per worker, then "mean rss_kib=... pss_kib=... private_dirty_kib=...".
 * Linux only (smaps_rollup, Linux 4.14 or later). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nin.h"

/** One worker: load, run one image, say "ready" on `ready`, wait for `go` to close. Exits 0, or
 *  1 with the library's message. */
static int worker(const char *path, int ready, int go) {
    nin_model *model = NULL;
    nin_context *context = NULL;
    if (nin_model_load_file(path, &model) != NIN_OK) goto fail;
    nin_context_params params = nin_context_default_params();
    if (nin_context_create(model, &params, &context) != NIN_OK) goto fail;
    int c = 0, h = 0, w = 0;
    nin_model_input_shape(model, &c, &h, &w);
    size_t size = (size_t)c * h * w;
    unsigned char *image = malloc(size);
    if (!image) goto fail;
    for (size_t i = 0; i < size; i++) image[i] = (unsigned char)(i * 7 % 251);
    nin_status status = nin_run_prepared_u8(context, image, size, 1);
    free(image);
    if (status != NIN_OK) goto fail;
    size_t packed = 0, in_place = 0;
    nin_model_weight_memory(model, &packed, &in_place);
    char line[128];
    int n = snprintf(line, sizeof line, "%zu %zu %s\n", packed, in_place, nin_model_kernels(model));
    if (write(ready, line, (size_t)n) != n) return 1;
    char byte;
    while (read(go, &byte, 1) > 0) {}
    nin_context_free(context);
    nin_model_free(model);
    return 0;
fail:
    fprintf(stderr, "nin_workers: worker %d: %s\n", (int)getpid(), nin_last_error());
    return 1;
}

/** The value in kB of `field` ("Rss:", "Pss:", ...) in /proc/PID/smaps_rollup, or -1. */
static long smaps_field(pid_t pid, const char *field) {
    char path[64], text[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long value = -1;
    size_t length = strlen(field);
    while (fgets(text, sizeof text, f)) {
        if (strncmp(text, field, length) == 0) { value = strtol(text + length, NULL, 10); break; }
    }
    fclose(f);
    return value;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: nin_workers MODEL [workers=4]\n");
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 4;
    if (count < 1 || count > 64) {
        fprintf(stderr, "nin_workers: workers must be 1 to 64\n");
        return 2;
    }
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) { perror("pipe"); return 1; }
    pid_t pids[64];
    for (int i = 0; i < count; i++) {
        pids[i] = fork();
        if (pids[i] < 0) { perror("fork"); return 1; }
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            _exit(worker(argv[1], ready[1], go[0]));
        }
    }
    close(ready[1]);
    close(go[0]);
    /* Each worker's line: packed bytes, bytes in place, family (in the order they finish). */
    FILE *lines = fdopen(ready[0], "r");
    size_t packed[64], in_place[64];
    char family[64][32];
    int got = 0;
    while (got < count && fscanf(lines, "%zu %zu %31s", &packed[got], &in_place[got], family[got]) == 3) got++;
    int failed = got < count;
    long rss_sum = 0, pss_sum = 0, dirty_sum = 0;
    if (!failed) {
        printf("model %s, %d workers, all alive while measured\n", argv[1], count);
        for (int i = 0; i < count; i++) {
            long rss = smaps_field(pids[i], "Rss:"), pss = smaps_field(pids[i], "Pss:");
            long dirty = smaps_field(pids[i], "Private_Dirty:");
            if (rss < 0 || pss < 0 || dirty < 0) { failed = 1; break; }
            printf("worker %d: rss_kib=%ld pss_kib=%ld private_dirty_kib=%ld family=%s packed_bytes=%zu weights_in_place_bytes=%zu\n",
                   i, rss, pss, dirty, family[i], packed[i], in_place[i]);
            rss_sum += rss; pss_sum += pss; dirty_sum += dirty;
        }
    }
    close(go[1]);
    int status, bad = 0;
    for (int i = 0; i < count; i++) {
        if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) bad = 1;
    }
    if (failed || bad) {
        fprintf(stderr, "nin_workers: a worker failed\n");
        return 1;
    }
    printf("mean rss_kib=%ld pss_kib=%ld private_dirty_kib=%ld\n", rss_sum / count, pss_sum / count, dirty_sum / count);
    return 0;
}
