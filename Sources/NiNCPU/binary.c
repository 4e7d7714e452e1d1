/* binary.c - ninpriv_binary_path: dladdr on one of our own functions names the shared object
 * (or executable) it lives in; realpath resolves symbolic links such as .build/release.
 * ninpriv_argument_count / ninpriv_arguments: the process's command line, kept by a constructor
 * (glibc passes argc and argv to each ELF constructor), for a program without the Swift runtime's
 * CommandLine (Embedded Swift). */
#define _GNU_SOURCE
#include "ninpriv_binary.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int saved_count;
static char **saved_arguments;

__attribute__((constructor)) static void ninpriv_save_arguments(int argc, char **argv) {
    saved_count = argc;
    saved_arguments = argv;
}

int ninpriv_argument_count(void) { return saved_arguments ? saved_count : 0; }

char **ninpriv_arguments(void) { return saved_arguments; }

long ninpriv_binary_path(char *buffer, size_t capacity) {
    Dl_info info;
    if (!dladdr((void *)&ninpriv_binary_path, &info) || !info.dli_fname || !info.dli_fname[0]) return -1;
    char resolved[PATH_MAX];
    const char *path = realpath(info.dli_fname, resolved) ? resolved : info.dli_fname;
    size_t length = strlen(path);
    if (length + 1 > capacity) return -1;
    memcpy(buffer, path, length + 1);
    return (long)length;
}
