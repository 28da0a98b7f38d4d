/*
 * trace_target.c — a fixed sequence of system calls whose `egg run --trace` output
 * Tests/integration/run.sh compares line by line with what strace prints for it on Linux:
 * write(1, "hi\n", 3) = 3, openat of a missing file (ENOENT), close(-1) (EBADF), getpid(),
 * a read from an empty pipe end... The calls go through syscall(2) so that no libc
 * (musl or glibc) adds or renames one.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh (trace case).
 */
#include "check.h"

#include <fcntl.h>
#include <sys/syscall.h>

const char *const test_name = "trace_target";

int main(void)
{
    if (syscall(SYS_write, 1, "hi\n", 3) != 3)
        fail("write returned something other than 3");
    long fd = syscall(SYS_openat, AT_FDCWD, "/nonexistent", O_RDONLY);
    if (fd != -1 || errno != ENOENT)
        fail("openat(/nonexistent) = %ld errno %d, expected -1 ENOENT", fd, errno);
    if (syscall(SYS_close, -1) != -1 || errno != EBADF)
        fail("close(-1) did not fail with EBADF");
    long pid = syscall(SYS_getpid);
    if (pid <= 0)
        fail("getpid returned %ld", pid);
    /* A long string, truncated at 32 characters by the tracer as by strace. */
    static const char longer[] = "0123456789abcdefghijklmnopqrstuvwxyz\tend\n";
    if (syscall(SYS_write, 1, longer, sizeof longer - 1) != (long)(sizeof longer - 1))
        fail("second write was short");
    return pass("%ld calls traced", 6L);
}
