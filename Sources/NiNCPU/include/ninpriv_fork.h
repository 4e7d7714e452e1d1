/* ninpriv_fork.h - which process this is, as a count of fork()s (internal, not exported).
 * A worker pool made before a fork has no threads in the child; comparing the generation it
 * was made in with the current one tells it so, without a system call. */
#ifndef NINPRIV_FORK_H
#define NINPRIV_FORK_H

/** The number of fork()s between the first call of this function in the original process and
 *  this process: 0 there, 1 in a child, 2 in a grandchild, ... The first call registers the
 *  pthread_atfork handler that counts; call it before any state that must notice a fork exists. */
unsigned long ninpriv_fork_generation(void);

#endif
