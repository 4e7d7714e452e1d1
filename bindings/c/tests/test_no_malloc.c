/* test_no_malloc.c - proves that a run allocates nothing: this program defines malloc and its
 * relatives (forwarding to glibc's __libc_* functions), so every allocation made by libnin.so,
 * its Swift runtime or its worker threads is counted. Counting is switched on around the runs
 * only; creating contexts and loading models may allocate. Nor does the system allocate for a
 * run: a context's arena is committed when it is made, so even its first run takes no page
 * fault (where the system can populate pages: not under qemu-user, which ignores the request).
 * Usage: test_no_malloc MODEL.nin IMAGE.png */
#define _DEFAULT_SOURCE  /* madvise, mincore, MAP_ANONYMOUS under -std=c11 */
#include "nin.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older C headers lack the name */
#endif

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int counting;
static volatile long allocations;  /* volatile: the compiler assumes malloc never touches globals */

static void count(void) {
    if (counting) __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { if (p) count(); __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    count();
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12;
}

enum { BATCH = 4 };

static long measure(nin_context *ctx, const nin_image *image, const uint8_t *u8, const float *f32, size_t n, int classes) {
    nin_image images[BATCH] = {*image, *image, *image, *image};
    float logits[4096], probs[4096];
    int top[5];
    float top_p[5];
    int failed = 0;  /* calls that did not return NIN_OK: a failed call proves nothing */
    allocations = 0;
    counting = 1;
    for (int i = 0; i < 20; i++) {
        failed += nin_run_images(ctx, image, 1) != NIN_OK;
        failed += nin_run_prepared_u8(ctx, u8, n, 1) != NIN_OK;
        failed += nin_run_prepared_f32(ctx, f32, n, 1) != NIN_OK;
        failed += nin_context_logits(ctx, 0, logits, (size_t)classes) != NIN_OK;
        failed += nin_context_probabilities(ctx, 0, probs, (size_t)classes) != NIN_OK;
        failed += nin_context_top_k(ctx, 0, classes < 5 ? classes : 5, top, top_p) != NIN_OK;
        /* Batches: with several threads they run image by image on the lanes. */
        failed += nin_run_images(ctx, images, BATCH) != NIN_OK;
        failed += nin_run_prepared_u8(ctx, u8, n * BATCH, BATCH) != NIN_OK;
        failed += nin_context_logits(ctx, BATCH - 1, logits, (size_t)classes) != NIN_OK;
    }
    counting = 0;
    CHECK(failed == 0);
    return allocations;
}

/* Page faults (minor) this process has taken so far. */
static long minor_faults(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

/* Whether madvise(MADV_POPULATE_WRITE) makes pages resident here (Linux 5.14 and later, not
 * under qemu-user): mincore after populating a fresh 1 MB mapping. */
static int system_populates_pages(void) {
    size_t bytes = 1 << 20, page = (size_t)sysconf(_SC_PAGESIZE);
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 0;
    unsigned char residency[(1 << 20) / 4096];
    int populated = madvise(memory, bytes, MADV_POPULATE_WRITE) == 0 && mincore(memory, bytes, residency) == 0;
    for (size_t i = 0; populated && i < bytes / page; i++) populated = residency[i] & 1;
    munmap(memory, bytes);
    return populated;
}

/* A second context's first run (the model's weights and the code already touched by the first
 * context's) takes no page fault: the arena was committed when the context was made. */
static void first_run_takes_no_page_fault(nin_model *model, const uint8_t *u8, size_t n) {
    if (!system_populates_pages()) {
        printf("first run page faults: not checked (this system does not populate pages on request)\n");
        return;
    }
    nin_context_params params = nin_context_default_params();
    nin_context *first = NULL, *second = NULL;
    CHECK_STATUS(nin_context_create(model, &params, &first), NIN_OK);
    if (!first) return;
    CHECK_STATUS(nin_run_prepared_u8(first, u8, n, 1), NIN_OK);
    /* A batch of 16: an arena larger than any block freed so far, so its pages are new to this
     * process (not a reused heap block whose pages earlier contexts touched). */
    params.batch_size = 16;
    CHECK_STATUS(nin_context_create(model, &params, &second), NIN_OK);
    if (second) {
        long before = minor_faults();
        CHECK_STATUS(nin_run_prepared_u8(second, u8, n, 1), NIN_OK);
        long faults = minor_faults() - before;
        printf("first run of a new context: %ld page faults (arena %zu bytes)\n", faults, nin_model_arena_bytes(model, &params));
        CHECK(faults <= 2);
        nin_context_free(second);
    }
    nin_context_free(first);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.nin IMAGE.png\n", argv[0]);
        return 2;
    }
    /* The counter itself works. */
    counting = 1;
    allocations = 0;
    void *volatile probe = malloc(16);
    free(probe);
    counting = 0;
    printf("counter self-check: %ld allocations counted for malloc + free\n", allocations);
    CHECK(allocations == 2);

    nin_model *model = NULL;
    CHECK_STATUS(nin_model_load_file(argv[1], &model), NIN_OK);
    nin_image image;
    CHECK_STATUS(nin_image_load_png(argv[2], &image), NIN_OK);
    if (!model || !image.pixels) return SUMMARY("test_no_malloc");
    int c = 0, h = 0, w = 0, classes = nin_model_class_count(model);
    nin_model_input_shape(model, &c, &h, &w);
    size_t n = (size_t)c * (size_t)h * (size_t)w;
    uint8_t *u8 = calloc(n * BATCH, 1);
    float *f32 = calloc(n, sizeof(float));
    for (size_t i = 0; i < n * BATCH; i++) u8[i] = (uint8_t)(i % 251);
    for (size_t i = 0; i < n; i++) f32[i] = (float)(i % 97) / 97.0f;

    for (int threads = 1; threads <= 3; threads++) {
        nin_context_params params = nin_context_default_params();
        params.threads = threads;
        params.batch_size = BATCH;
        nin_context *ctx = NULL;
        /* The library's own allocations are seen: creating a context allocates. */
        allocations = 0;
        counting = 1;
        CHECK_STATUS(nin_context_create(model, &params, &ctx), NIN_OK);
        counting = 0;
        CHECK(allocations > 0);
        if (!ctx) continue;
        measure(ctx, &image, u8, f32, n, classes);  /* warm-up: lazy runtime state, page faults */
        long seen = measure(ctx, &image, u8, f32, n, classes);
        printf("threads=%d: %ld heap allocations in 20 x (3 single-image runs, 2 batch-%d runs, 4 result reads)\n",
               threads, seen, BATCH);
        CHECK(seen == 0);
        nin_context_free(ctx);
    }
    first_run_takes_no_page_fault(model, u8, n);
    free(u8);
    free(f32);
    nin_image_free(&image);
    nin_model_free(model);
    return SUMMARY("test_no_malloc");
}
