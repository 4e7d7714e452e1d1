/* binary.c - ninpriv_binary_path: dladdr on one of our own functions names the shared object
 * (or executable) it lives in; realpath resolves symbolic links such as .build/release. */
#define _GNU_SOURCE
#include "ninpriv_binary.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
