/* ninpriv_binary.h - the file the running nin code was loaded from (internal, not exported):
 * libnin.so for the C library, the executable for a static build. */
#ifndef NINPRIV_BINARY_H
#define NINPRIV_BINARY_H

#include <stddef.h>

/** Writes the resolved path of the binary holding this function into buffer (NUL-terminated);
 *  returns its length, or -1 if it is unknown or does not fit in capacity. */
long ninpriv_binary_path(char *buffer, size_t capacity);

/** The process's argc as main received it (0 when unknown). */
int ninpriv_argument_count(void);

/** The process's argv as main received it (NULL when unknown). */
char **ninpriv_arguments(void);

#endif
