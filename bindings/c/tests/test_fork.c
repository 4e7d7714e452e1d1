/* test_fork.c - a context keeps working in the child of a fork(): at 1 and 2 threads the child's
 * runs give the parent's bits, a grandchild's too, and freeing the parent's context in the child
 * returns (the parent's workers do not exist there; waiting for them was a hang at 100% CPU).
 * Each child has 30 s (alarm) before it is killed and counted as failed.
 * Usage: test_fork MODEL.nin */
#define _DEFAULT_SOURCE  /* fork, alarm */
#include "nin.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_CLASSES = 4096 };

static nin_model *model;
static uint8_t *input;
static size_t input_bytes;
static int classes;

/* Runs `input` on `ctx` and compares its logits with `expected`; 0 when equal. */
static int run_and_compare(nin_context *ctx, const float *expected) {
    float logits[MAX_CLASSES];
    if (nin_run_prepared_u8(ctx, input, input_bytes, 1) != NIN_OK) return 1;
    if (nin_context_logits(ctx, 0, logits, MAX_CLASSES) != NIN_OK) return 2;
    return memcmp(logits, expected, (size_t)classes * sizeof(float)) == 0 ? 0 : 3;
}

/* In a child: runs on the inherited context twice, forks a grandchild that does the same, makes
 * a new context, frees the inherited one; exits 0 when all of it gave the parent's bits. */
static int child_work(nin_context *ctx, int threads, const float *expected) {
    alarm(30);
    if (run_and_compare(ctx, expected) != 0 || run_and_compare(ctx, expected) != 0) return 10;
    pid_t grandchild = fork();
    if (grandchild == 0) _exit(run_and_compare(ctx, expected) == 0 ? 0 : 11);
    int status = 0;
    if (grandchild < 0 || waitpid(grandchild, &status, 0) != grandchild) return 12;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 13;
    nin_context_params params = nin_context_default_params();
    params.threads = threads;
    nin_context *fresh = NULL;
    if (nin_context_create(model, &params, &fresh) != NIN_OK) return 14;
    if (run_and_compare(fresh, expected) != 0) return 15;
    nin_context_free(fresh);
    nin_context_free(ctx);
    return 0;
}

static void fork_at(int threads) {
    nin_context_params params = nin_context_default_params();
    params.threads = threads;
    nin_context *ctx = NULL;
    CHECK_STATUS(nin_context_create(model, &params, &ctx), NIN_OK);
    if (!ctx) return;
    /* The minimum work per part is large, so make sure the layers really split: the classic
     * model's layers do at 2 threads. The parent's result is the expectation. */
    float expected[MAX_CLASSES];
    CHECK_STATUS(nin_run_prepared_u8(ctx, input, input_bytes, 1), NIN_OK);
    CHECK_STATUS(nin_context_logits(ctx, 0, expected, MAX_CLASSES), NIN_OK);
    pid_t child = fork();
    if (child == 0) _exit(child_work(ctx, threads, expected));
    CHECK(child > 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    if (WIFSIGNALED(status)) fprintf(stderr, "threads=%d: child killed by signal %d (hang or crash)\n", threads, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0) fprintf(stderr, "threads=%d: child failed with code %d\n", threads, WEXITSTATUS(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent's context is unaffected by the child. */
    CHECK(run_and_compare(ctx, expected) == 0);
    nin_context_free(ctx);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.nin\n", argv[0]);
        return 2;
    }
    CHECK_STATUS(nin_model_load_file(argv[1], &model), NIN_OK);
    if (!model) return SUMMARY("test_fork");
    int c = 0, h = 0, w = 0;
    CHECK_STATUS(nin_model_input_shape(model, &c, &h, &w), NIN_OK);
    input_bytes = (size_t)c * (size_t)h * (size_t)w;
    classes = nin_model_class_count(model);
    CHECK(classes >= 1 && classes <= MAX_CLASSES);
    input = malloc(input_bytes);
    unsigned state = 777;
    fill_random_input(input, input_bytes, &state);
    fflush(stdout);
    fork_at(1);
    fork_at(2);
    fork_at(3);
    free(input);
    nin_model_free(model);
    return SUMMARY("test_fork");
}
