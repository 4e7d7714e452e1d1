/* nin_platform_bare.c - the single-threaded, file-less backend's functions (nin_platform_bare.h),
 * for a target with no C library (WebAssembly: wasm32-unknown-none-wasm; a microcontroller).
 * Compiled only by such builds (tools/wasm/build.sh), never by SwiftPM's hosted build. It owns:
 *   - an allocator: one implicit list of blocks (a 16-byte header: size and whether in use) over
 *     a heap that grows at its end (WebAssembly: memory.grow; elsewhere a static array of
 *     NIN_BARE_HEAP_BYTES). First fit, a free block merged with free blocks after it as the
 *     search passes, a block split when the rest is worth a block. nin allocates at model load
 *     and context creation, not per run, so a search over every block is cheap;
 *   - the byte and string functions Swift and the engine call (memory.copy/memory.fill where the
 *     target has bulk memory), and expf, computed in double precision and rounded once (the
 *     correctly rounded float but for inputs within about 2^-50 of a rounding boundary);
 *   - round, roundf, the compiler's 128-bit multiply (__multi3) and arc4random_buf (hash seeds);
 *   - errno and strerror, the clock, thread keys, and "no file system" answers;
 *   - NiNCPU's functions (Sources/NiNCPU's C files need a POSIX system): no x86 feature, no fork
 *     (generation 0), no binary path, no command line. */
#include "nin_platform_bare.h"

/* ---- The heap ---- */

#ifndef NIN_BARE_HEAP_BYTES
#define NIN_BARE_HEAP_BYTES (4u << 20)
#endif

typedef struct Block {
    size_t size;   /* bytes of the block, this header included: a multiple of 16 */
    size_t used;   /* 1 in use, 0 free */
    size_t unused[16 / sizeof(size_t) - 2 > 0 ? 16 / sizeof(size_t) - 2 : 1];
} Block;
_Static_assert(sizeof(Block) == 16, "a block header is 16 bytes, so payloads are 16-byte aligned");

static unsigned char *heap_start, *heap_end;
static size_t heap_used;

#if defined(__wasm__)
extern unsigned char __heap_base;
/* Makes [heap_end, heap_end + bytes) usable; 0 when memory cannot grow. */
static int heap_extend(size_t bytes) {
    size_t memory_end = __builtin_wasm_memory_size(0) * 65536u;
    size_t wanted = (size_t)heap_end + bytes;
    if (wanted < (size_t)heap_end) return 0;
    if (wanted > memory_end) {
        size_t pages = (wanted - memory_end + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
    }
    return 1;
}
static unsigned char *heap_first(void) { return &__heap_base; }
#else
static _Alignas(64) unsigned char heap_array[NIN_BARE_HEAP_BYTES];
static int heap_extend(size_t bytes) { return bytes <= (size_t)(heap_array + sizeof heap_array - heap_end); }
static unsigned char *heap_first(void) { return heap_array; }
#endif

static Block *block_at(unsigned char *address) { return (Block *)(void *)address; }

/* Grows the heap by a free block of at least `bytes` (64 KiB at least); 0 when it cannot. */
static int heap_grow(size_t bytes) {
    if (!heap_start) heap_start = heap_end = (unsigned char *)(((size_t)heap_first() + 15u) & ~(size_t)15u);
    size_t grow = bytes < 65536u ? 65536u : (bytes + 15u) & ~(size_t)15u;
    if (!heap_extend(grow) && (grow = (bytes + 15u) & ~(size_t)15u, !heap_extend(grow))) return 0;
    Block *block = block_at(heap_end);
    block->size = grow;
    block->used = 0;
    heap_end += grow;
    return 1;
}

/* The first free block that fits `size` bytes at a multiple of `alignment`, split and marked in
 * use; its payload, or NULL. */
static void *heap_take(size_t size, size_t alignment) {
    for (unsigned char *at = heap_start; at && at < heap_end; at += block_at(at)->size) {
        Block *block = block_at(at);
        if (block->used) continue;
        while (at + block->size < heap_end && !block_at(at + block->size)->used) block->size += block_at(at + block->size)->size;
        /* The payload: aligned, with either no gap before its header or room for a free block there. */
        size_t payload = ((size_t)at + sizeof(Block) + alignment - 1) & ~(alignment - 1);
        while (payload - sizeof(Block) - (size_t)at != 0 && payload - sizeof(Block) - (size_t)at < 2 * sizeof(Block)) payload += alignment;
        size_t lead = payload - sizeof(Block) - (size_t)at;
        if (lead + sizeof(Block) + size > block->size) continue;
        if (lead) {
            Block *rest = block_at(at + lead);
            rest->size = block->size - lead;
            block->size = lead;
            block = rest;
            at += lead;
        }
        size_t need = sizeof(Block) + size;
        if (block->size - need >= 2 * sizeof(Block)) {
            Block *after = block_at(at + need);
            after->size = block->size - need;
            after->used = 0;
            block->size = need;
        }
        block->used = 1;
        heap_used += block->size;
        return (void *)(at + sizeof(Block));
    }
    return NULL;
}

int posix_memalign(void **memory, size_t alignment, size_t size) {
    if (alignment < 16) alignment = 16;
    if (alignment & (alignment - 1)) return 22;  /* EINVAL: not a power of two */
    if (size > ((size_t)-1) / 2) return 12;       /* ENOMEM */
    size = (size + 15u) & ~(size_t)15u;
    void *found = heap_take(size, alignment);
    if (!found && heap_grow(size + alignment + 3 * sizeof(Block))) found = heap_take(size, alignment);
    if (!found) return 12;
    *memory = found;
    return 0;
}

#if !defined(NIN_BARE_NO_MALLOC)
/* NIN_BARE_NO_MALLOC (the Cortex-M firmware, tools/mcu/build.sh) leaves malloc, calloc and realloc
 * out, so that any call to them fails the link: nin itself allocates only with posix_memalign. */
void *malloc(size_t size) {
    void *memory = NULL;
    return posix_memalign(&memory, 16, size ? size : 1) == 0 ? memory : NULL;
}

void *calloc(size_t count, size_t size) {
    if (size && count > ((size_t)-1) / size) return NULL;
    void *memory = malloc(count * size);
    if (memory) memset(memory, 0, count * size);
    return memory;
}
#endif

void free(void *memory) {
    if (!memory) return;
    Block *block = block_at((unsigned char *)memory - sizeof(Block));
    heap_used -= block->size;
    block->used = 0;
}

#if !defined(NIN_BARE_NO_MALLOC)
void *realloc(void *memory, size_t size) {
    if (!memory) return malloc(size);
    size_t old = block_at((unsigned char *)memory - sizeof(Block))->size - sizeof(Block);
    void *moved = malloc(size);
    if (moved) {
        memcpy(moved, memory, old < size ? old : size);
        free(memory);
    }
    return moved;
}
#endif

size_t ninpriv_bare_heap_bytes(void) { return (size_t)(heap_end - heap_start); }
size_t ninpriv_bare_heap_used(void) { return heap_used; }

/* ---- Bytes ---- */

void *memcpy(void *destination, const void *source, size_t count) {
#if defined(__wasm_bulk_memory__)
    __builtin_memcpy(destination, source, count);  /* lowered to memory.copy */
#else
    unsigned char *d = destination;
    const unsigned char *s = source;
    while (count--) *d++ = *s++;
#endif
    return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
#if defined(__wasm_bulk_memory__)
    __builtin_memmove(destination, source, count);  /* memory.copy (overlap allowed) */
#else
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d < s) while (count--) *d++ = *s++;
    else while (count--) d[count] = s[count];
#endif
    return destination;
}

void *memset(void *destination, int value, size_t count) {
#if defined(__wasm_bulk_memory__)
    __builtin_memset(destination, value, count);  /* lowered to memory.fill */
#else
    unsigned char *d = destination;
    while (count--) *d++ = (unsigned char)value;
#endif
    return destination;
}

int memcmp(const void *a, const void *b, size_t count) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < count; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

void *memchr(const void *bytes, int value, size_t count) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < count; i++)
        if (p[i] == (unsigned char)value) return (void *)(p + i);
    return NULL;
}

size_t strlen(const char *text) {
    size_t n = 0;
    while (text[n]) n++;
    return n;
}

/* ---- expf ---- */

/* e^x: x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts, so r is exact to double precision),
 * e^r by its Taylor series to r^13 (relative error below 2^-56 there), times 2^n, in double; one
 * rounding to float at the end. */
float expf(float x) {
    if (x != x) return x;
    if (x > 88.8f) return __builtin_inff();
    if (x < -104.0f) return 0.0f;
    const double ln2_high = 0x1.62e42fefa3800p-1, ln2_low = 0x1.ef35793c76730p-45;
    double xd = x;
    double n = __builtin_nearbyint(xd * 0x1.71547652b82fep0);
    double r = (xd - n * ln2_high) - n * ln2_low;
    double term = 1.0, sum = 1.0;
    for (int k = 1; k <= 13; k++) {
        term *= r / k;
        sum += term;
    }
    union { double d; uint64_t u; } scale = { .u = (uint64_t)((int64_t)n + 1023) << 52 };  /* 2^n: -151 < n < 129 */
    return (float)(sum * scale.d);
}

/* round and roundf: halfway cases away from zero (the C library's rounding, which Swift's
 * .rounded() calls). x - trunc(x) is exact. */
double round(double x) {
    double t = __builtin_trunc(x);
    return __builtin_fabs(x - t) >= 0.5 ? t + __builtin_copysign(1.0, x) : t;
}
float roundf(float x) {
    float t = __builtin_truncf(x);
    return __builtin_fabsf(x - t) >= 0.5f ? t + __builtin_copysignf(1.0f, x) : t;
}

/* The low 128 bits of a * b: the compiler's helper for 128-bit multiplication (Swift's
 * multipliedFullWidth and overflow checks of 64-bit products), from 32-bit halves. */
#if defined(__SIZEOF_INT128__)
__int128 __multi3(__int128 a, __int128 b) {
    uint64_t al = (uint64_t)a, ah = (uint64_t)((unsigned __int128)a >> 64);
    uint64_t bl = (uint64_t)b, bh = (uint64_t)((unsigned __int128)b >> 64);
    uint64_t a0 = al & 0xffffffffu, a1 = al >> 32, b0 = bl & 0xffffffffu, b1 = bl >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t middle = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    uint64_t low = (p00 & 0xffffffffu) | (middle << 32);
    uint64_t high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32) + al * bh + ah * bl;
    return (__int128)(((unsigned __int128)high << 64) | low);
}
#endif

/* Bytes for the Swift standard library's hash seeds. There is no entropy source here, and none
 * is needed (nin hashes no untrusted keys): a fixed SplitMix64 stream. */
void arc4random_buf(void *buffer, size_t count) {
    static uint64_t state = 0x9e3779b97f4a7c15u;
    unsigned char *out = buffer;
    while (count) {
        uint64_t z = (state += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        for (int i = 0; i < 8 && count; i++, count--) *out++ = (unsigned char)(z >> (8 * i));
    }
}

/* ---- Errors ---- */

static int error_code;

int ninpriv_errno(void) { return error_code; }

char *strerror(int code) {
    return code == ENOSYS ? (char *)"no file system on this platform (load models and images from memory)"
         : code == EAGAIN ? (char *)"no threads on this platform"
                          : (char *)"error";
}

/* ---- Files ---- */

int ninpriv_open_read_only(const char *path) { (void)path; error_code = ENOSYS; return -1; }
int close(int fd) { (void)fd; return 0; }
int ninpriv_regular_file_size(int fd, long long *size) { (void)fd; *size = 0; error_code = ENOSYS; return -1; }
void *ninpriv_map_read_only(int fd, size_t size) { (void)fd; (void)size; error_code = ENOSYS; return NULL; }
int munmap(void *address, size_t size) { (void)address; (void)size; return 0; }
int madvise(void *address, size_t size, int advice) { (void)address; (void)size; (void)advice; return 0; }
long sysconf(int name) { return name == _SC_PAGESIZE ? 65536 : -1; }
int access(const char *path, int mode) { (void)path; (void)mode; error_code = ENOSYS; return -1; }

/* ---- Environment, clock, standard error ---- */

/* Weak: an embedder with settings to give (a firmware choosing NIN_ISA) defines its own. */
__attribute__((weak)) char *getenv(const char *name) { (void)name; return NULL; }

#if defined(__wasm__)
/* The embedder's monotonic clock in nanoseconds (nin.js: performance.now()). */
__attribute__((import_module("env"), import_name("ninjs_monotonic_ns"))) extern unsigned long long ninjs_monotonic_ns(void);
static unsigned long long monotonic_ns(void) { return ninjs_monotonic_ns(); }

int clock_gettime(clockid_t clock, struct timespec *time) {
    (void)clock;
    unsigned long long now = monotonic_ns();
    time->tv_sec = (time_t)(now / 1000000000u);
    time->tv_nsec = (long)(now % 1000000000u);
    return 0;
}
#else
/* No clock known: a counter of microseconds, so that time still moves forward (a microcontroller
 * port sets its own); kept as seconds and nanoseconds, with no 64-bit division (a library call
 * of 700 bytes on a 32-bit part). */
int clock_gettime(clockid_t clock, struct timespec *time) {
    static time_t seconds;
    static long nanoseconds;
    (void)clock;
    nanoseconds += 1000;
    if (nanoseconds >= 1000000000) { nanoseconds -= 1000000000; seconds += 1; }
    time->tv_sec = seconds;
    time->tv_nsec = nanoseconds;
    return 0;
}
#endif

FILE *ninpriv_stderr(void) { return NULL; }
FILE *ninpriv_stdout(void) { return NULL; }
int fputs(const char *text, FILE *stream) { (void)stream; return (int)strlen(text); }  /* discarded */

/* ---- Thread keys (one thread) ---- */

static const void *key_values[16];
static unsigned key_count;

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) {
    (void)destructor;  /* the one thread never ends */
    if (key_count == 16) return EAGAIN;
    *key = key_count++;
    return 0;
}
void *pthread_getspecific(pthread_key_t key) { return key < 16 ? (void *)key_values[key] : NULL; }
int pthread_setspecific(pthread_key_t key, const void *value) {
    if (key >= 16) return 22;  /* EINVAL */
    key_values[key] = value;
    return 0;
}

/* ---- NiNCPU (Sources/NiNCPU/include) on a platform without x86, fork or files ---- */

int ninpriv_cpu_has_avx2(void) { return 0; }
int ninpriv_cpu_has_avx512vnni(void) { return 0; }
int ninpriv_cpu_has_avxvnni(void) { return 0; }
int ninpriv_cpu_has_amx(void) { return 0; }
const char *ninpriv_cpu_amx_unavailable(void) { return "not an x86-64 Linux host"; }
const void *ninpriv_opaque_pointer(const void *pointer) { return pointer; }
unsigned long ninpriv_fork_generation(void) { return 0; }
size_t ninpriv_crc32_fold(uint32_t *state, const uint8_t *data, size_t length) {
    (void)state; (void)data; (void)length;
    return 0;  /* the table loop does it all */
}
long ninpriv_binary_path(char *buffer, size_t capacity) { (void)buffer; (void)capacity; return -1; }
int ninpriv_argument_count(void) { return 0; }
char **ninpriv_arguments(void) { return NULL; }
