/* nin_platform.h - the C library for the platform layer (Sources/NiNPlatform) and the few other
 * files that call the system (the worker pool's threads, the C API's lock and thread-local error,
 * the AMX thread keys). Hosted Swift could import Glibc for these; Embedded Swift has no Glibc
 * module, so both builds import this one. The helpers are the parts Swift cannot import: a macro
 * (errno, MAP_FAILED, S_ISREG) or a variadic function (open). Internal: ninpriv_ names.
 * Two backends: POSIX (below) and, with NIN_PLATFORM_BARE, nin_platform_bare.h (one thread, no
 * files: WebAssembly and microcontrollers), which declares the same names. */
#ifndef NIN_PLATFORM_H
#define NIN_PLATFORM_H

#if defined(NIN_PLATFORM_BARE)
/* No operating system (WebAssembly, a microcontroller): the single-threaded, file-less backend. */
#include "nin_platform_bare.h"
#else
/* POSIX (Linux): the C library, threads, files, mmap. */

/** Most threads a worker pool starts (the calling thread included): NIN_MAX_THREADS of nin.h. */
#define NINPRIV_MAX_THREADS 256

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** The calling thread's errno. */
static inline int ninpriv_errno(void) { return errno; }

/** open(path, O_RDONLY | O_CLOEXEC): a file descriptor, or -1 with errno set. */
static inline int ninpriv_open_read_only(const char *path) { return open(path, O_RDONLY | O_CLOEXEC); }

/** 1 when `fd` is a regular file, writing its size to *size; 0 when it is something else;
 * -1 (errno set) when fstat failed. */
static inline int ninpriv_regular_file_size(int fd, long long *size) {
    struct stat info;
    if (fstat(fd, &info) != 0) return -1;
    *size = (long long)info.st_size;
    return S_ISREG(info.st_mode) ? 1 : 0;
}

/** mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0), or NULL (errno set) where mmap gives MAP_FAILED. */
static inline void *ninpriv_map_read_only(int fd, size_t size) {
    void *mapping = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    return mapping == MAP_FAILED ? NULL : mapping;
}

/** 1 when the open `file` is a directory (fstat succeeded and says so), else 0. */
static inline int ninpriv_file_is_directory(FILE *file) {
    struct stat info;
    return fstat(fileno(file), &info) == 0 && S_ISDIR(info.st_mode);
}

/** 1 when `path` names a directory (through symbolic links when `follow_links`), else 0. */
static inline int ninpriv_is_directory_path(const char *path, int follow_links) {
    struct stat info;
    return (follow_links ? stat(path, &info) : lstat(path, &info)) == 0 && S_ISDIR(info.st_mode);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older C headers lack the name */
#endif

/** Maps the whole pages inside [memory, memory + size) now, writable, with one madvise
 * (MADV_POPULATE_WRITE): their first writes then take no page fault. Best effort: a kernel
 * older than 5.14 (or qemu-user) answers EINVAL or ignores it, and the pages fault as before. */
static inline void ninpriv_commit_pages(void *memory, size_t size) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), address = (uintptr_t)memory;
    uintptr_t start = (address + page - 1) / page * page, end = (address + size) / page * page;
    if (end > start) (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

/** The standard error stream (a macro in some C libraries). */
static inline FILE *ninpriv_stderr(void) { return stderr; }

/** The standard output stream (a macro in some C libraries). */
static inline FILE *ninpriv_stdout(void) { return stdout; }

#endif /* POSIX */

#endif
