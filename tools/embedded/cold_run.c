/* tools/embedded/cold_run.c: `cold_run PROGRAM ARGS...` runs PROGRAM once with its stdout on
 * /dev/null and prints "SECONDS CPU_SECONDS MAXRSS_BYTES": the wall time from fork to its exit,
 * the CPU time it used (user + system: what a busy machine's waits do not inflate), and its
 * peak resident set (ru_maxrss of wait4). A small C parent, because a child's ru_maxrss also counts
 * the memory of the process it was forked from before its exec (a Python parent's 15 MB would
 * hide the few MB measured here). tools/embedded/goals.py builds and runs it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: cold_run PROGRAM ARGS...\n");
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("cold_run: fork");
        return 2;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, 1) < 0) _exit(127);
        execv(argv[1], argv + 1);
        perror("cold_run: exec");
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) != pid) {
        perror("cold_run: wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "cold_run: %s failed (status %d)\n", argv[1], status);
        return 1;
    }
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) * 1e-9;
    double cpu = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
    printf("%.6f %.6f %ld\n", seconds, cpu, usage.ru_maxrss * 1024L);
    return 0;
}
