/* fork.c - the fork generation of ninpriv_fork.h: a counter that pthread_atfork's child handler
 * bumps, so the child of a fork (and only the child) sees a new value. */
#include "ninpriv_fork.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_ulong generation;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void count_fork_in_child(void) { atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed); }

static void register_handler(void) { pthread_atfork(NULL, NULL, count_fork_in_child); }

unsigned long ninpriv_fork_generation(void) {
    pthread_once(&registered, register_handler);
    return atomic_load_explicit(&generation, memory_order_relaxed);
}
