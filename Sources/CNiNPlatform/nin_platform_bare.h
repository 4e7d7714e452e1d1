/* nin_platform_bare.h - the single-threaded, file-less platform backend: what nin_platform.h gives
 * the platform layer where there is no operating system (WebAssembly, a microcontroller), selected
 * by NIN_PLATFORM_BARE (tools/wasm/build.sh defines it). It declares the same names the POSIX
 * backend takes from the C library, so Sources/NiNPlatform, the worker pool and the C API compile
 * unchanged:
 *   - memory: posix_memalign/free and the string functions, from nin_platform_bare.c's small
 *     allocator (first fit over linear memory that grows; no libc needed);
 *   - threads: one. NINPRIV_MAX_THREADS is 1, so the worker pool runs every part on the calling
 *     thread and never calls pthread_create (which fails here); locks do nothing, thread keys are
 *     one slot each;
 *   - files: none. open() fails with ENOSYS ("no file system"): models and images come from memory;
 *   - environment: empty (getenv gives NULL); standard error: discarded; the monotonic clock: the
 *     embedder's (on WebAssembly an import, env.ninjs_monotonic_ns).
 * Internal; the functions are defined in nin_platform_bare.c. */
#ifndef NIN_PLATFORM_BARE_H
#define NIN_PLATFORM_BARE_H

#include <stddef.h>
#include <stdint.h>

/** Most threads a worker pool starts (the calling thread included). */
#define NINPRIV_MAX_THREADS 1

/* ---- Memory and bytes (nin_platform_bare.c) ---- */
int posix_memalign(void **memory, size_t alignment, size_t size);
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *memory, size_t size);
void free(void *memory);
void *memcpy(void *destination, const void *source, size_t count);
void *memmove(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);
int memcmp(const void *a, const void *b, size_t count);
void *memchr(const void *bytes, int value, size_t count);
size_t strlen(const char *text);
float expf(float x);
double round(double x);
float roundf(float x);
void arc4random_buf(void *buffer, size_t count);

/** Bytes of linear memory the allocator manages, and how many of them are in use (tests). */
size_t ninpriv_bare_heap_bytes(void);
size_t ninpriv_bare_heap_used(void);

/* ---- Errors ---- */
#define ENOSYS 38
#define EAGAIN 11
/** The last failed call's error (one thread: one variable). */
int ninpriv_errno(void);
char *strerror(int code);

/* ---- Files: there are none ---- */
#define R_OK 4
#define _SC_PAGESIZE 30
#define MADV_DONTNEED 4
/** -1 (errno ENOSYS): there is no file system. */
int ninpriv_open_read_only(const char *path);
int close(int fd);
int ninpriv_regular_file_size(int fd, long long *size);
void *ninpriv_map_read_only(int fd, size_t size);
int munmap(void *address, size_t size);
int madvise(void *address, size_t size, int advice);
/** Nothing: memory here has no pages to fault in (Platform.commitPages). */
static inline void ninpriv_commit_pages(void *memory, size_t size) { (void)memory; (void)size; }
long sysconf(int name);
int access(const char *path, int mode);

/* ---- Environment, clock, standard error ---- */
char *getenv(const char *name);
typedef long long time_t;
struct timespec { time_t tv_sec; long tv_nsec; };
typedef int clockid_t;
#define CLOCK_MONOTONIC 1
int clock_gettime(clockid_t clock, struct timespec *time);
typedef struct ninpriv_bare_file FILE;
FILE *ninpriv_stderr(void);
FILE *ninpriv_stdout(void);
int fputs(const char *text, FILE *stream);

/* ---- Threads: one (locks and keys for a single thread) ---- */
typedef unsigned long pthread_t;
typedef struct { int unused; } pthread_attr_t;
typedef struct { int locked; } pthread_mutex_t;
typedef struct { int unused; } pthread_mutexattr_t;
typedef struct { int unused; } pthread_cond_t;
typedef struct { int unused; } pthread_condattr_t;
typedef unsigned pthread_key_t;

static inline int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) { (void)a; m->locked = 0; return 0; }
static inline int pthread_mutex_destroy(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_lock(pthread_mutex_t *m) { m->locked = 1; return 0; }
static inline int pthread_mutex_unlock(pthread_mutex_t *m) { m->locked = 0; return 0; }
static inline int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) { (void)c; (void)a; return 0; }
static inline int pthread_cond_destroy(pthread_cond_t *c) { (void)c; return 0; }
static inline int pthread_cond_broadcast(pthread_cond_t *c) { (void)c; return 0; }
/** Never reached (no other thread could signal): returns at once. */
static inline int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { (void)c; (void)m; return 0; }
/** No threads: EAGAIN (the pool never calls it, NINPRIV_MAX_THREADS being 1). */
static inline int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*start)(void *), void *arg) {
    (void)t; (void)a; (void)start; (void)arg; return EAGAIN;
}
static inline int pthread_join(pthread_t t, void **result) { (void)t; (void)result; return 0; }
static inline int sched_yield(void) { return 0; }
/** A key: one of 16 slots (one thread, so one value each); EAGAIN when none is left. */
int pthread_key_create(pthread_key_t *key, void (*destructor)(void *));
void *pthread_getspecific(pthread_key_t key);
int pthread_setspecific(pthread_key_t key, const void *value);

#endif
