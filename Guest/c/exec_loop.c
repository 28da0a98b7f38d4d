/*
 * exec_loop.c — execve of /proc/self/exe N times in a row, timed (default N = 100).
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * Kernel side: Sources/KernelCore/Syscalls/ExecSyscalls.swift. Each image passes the count
 * left and the start time to the next in argv, and checks that it arrived intact; the last
 * one prints the mean cost of one exec (the figure issue 16 asks beside Linux). A leak of
 * frames per exec would show as running out of memory well before 100 rounds at -m 64M
 * with a 1 MiB image, and the host test ExecSyscallTests counts frames exactly.
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <time.h>

const char *const test_name = "exec_loop";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Touched by every image, so each one's data and .bss pages are really populated. */
static char ballast[1 << 20];

int main(int argc, char **argv)
{
    long total = 100, left;
    uint64_t start;
    if (argc >= 2 && strcmp(argv[1], "round") == 0) {
        CHECK(argc == 5, "argv lost an argument: argc %d", argc);
        total = strtol(argv[2], NULL, 10);
        left = strtol(argv[3], NULL, 10);
        start = strtoull(argv[4], NULL, 10);
    } else {
        if (argc >= 2)
            total = strtol(argv[1], NULL, 10);
        CHECK(total > 0 && total <= 100000, "bad count");
        left = total;
        start = now_ns();
    }
    memset(ballast, (int)left, sizeof ballast);
    if (left == 0) {
        uint64_t each = (now_ns() - start) / (uint64_t)total;
        return pass("%ld execs, %llu us each", total, (unsigned long long)(each / 1000));
    }
    char t[32], l[32], s[32];
    snprintf(t, sizeof t, "%ld", total);
    snprintf(l, sizeof l, "%ld", left - 1);
    snprintf(s, sizeof s, "%llu", (unsigned long long)start);
    char *args[] = {"exec_loop", "round", t, l, s, NULL};
    execve("/proc/self/exe", args, environ);
    fail("execve with %ld left: %s", left, strerror(errno));
}
