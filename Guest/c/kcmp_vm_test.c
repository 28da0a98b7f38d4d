/*
 * kcmp_vm_test.c — kcmp over real kernel objects and process_vm_readv/process_vm_writev
 * between a parent and its child.
 *
 * Layer: guest test program (issue 16 item 5; kernel side
 * Sources/KernelCore/Syscalls/ProcessMemorySyscalls.swift). kcmp: a description shared by
 * fork or dup compares equal, two opens of one file do not, the order is antisymmetric,
 * address spaces and descriptor tables differ between processes; EBADF, EINVAL, ESRCH.
 * process_vm_*: the child's copy-on-write page read and written from the parent, a
 * partial transfer stopping at a bad remote element, EFAULT when nothing moved, EINVAL
 * for flags, EPERM for an unprivileged caller. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

const char *const test_name = "kcmp_vm_test";

enum { KCMP_FILE, KCMP_VM, KCMP_FILES };

static char data[64] = "parent data";
static char inbox[64];

static long kcmp(pid_t a, pid_t b, int type, long x, long y) { return syscall(SYS_kcmp, a, b, type, x, y); }

static ssize_t vm(int write_, pid_t pid, void *lbase, size_t llen, struct iovec *remote, int rcount, long flags)
{
    struct iovec l = { lbase, llen };
    return syscall(write_ ? SYS_process_vm_writev : SYS_process_vm_readv, pid, &l, 1L, remote, (long)rcount, flags);
}

int main(void)
{
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent)) fail("pipe: errno %d", errno);
    pid_t c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) {
        strcpy(data, "child data");      /* its own copy of the page now */
        char b;
        if (write(to_parent[1], "r", 1) != 1) _exit(20);
        if (read(to_child[0], &b, 1) != 1) _exit(21);       /* the parent wrote into inbox */
        _exit(strcmp(inbox, "from the parent") == 0 ? 0 : 22);
    }
    char b;
    if (read(to_parent[0], &b, 1) != 1) fail("the child did not start");
    pid_t me = getpid();

    /* kcmp */
    int n1 = open("/dev/null", O_RDONLY), n2 = open("/dev/null", O_RDONLY), d = dup(n1);
    if (n1 < 0 || n2 < 0 || d < 0) fail("open/dup: errno %d", errno);
    if (kcmp(me, c, KCMP_FILE, to_child[1], to_child[1]) != 0) fail("a description shared by fork compares unequal");
    if (kcmp(me, me, KCMP_FILE, n1, d) != 0) fail("dup'd descriptors compare unequal");
    long ab = kcmp(me, me, KCMP_FILE, n1, n2), ba = kcmp(me, me, KCMP_FILE, n2, n1);
    if (!((ab == 1 && ba == 2) || (ab == 2 && ba == 1))) fail("two opens compare %ld and %ld", ab, ba);
    if (kcmp(me, me, KCMP_VM, 0, 0) != 0 || kcmp(me, c, KCMP_VM, 0, 0) <= 0) fail("KCMP_VM");
    if (kcmp(me, c, KCMP_FILES, 0, 0) <= 0) fail("KCMP_FILES of parent and child compare equal");
    errno = 0;
    if (kcmp(me, c, KCMP_FILE, 999, 0) != -1 || errno != EBADF) fail("KCMP_FILE bad fd: errno %d", errno);
    errno = 0;
    if (kcmp(me, c, 99, 0, 0) != -1 || errno != EINVAL) fail("kcmp type 99: errno %d", errno);
    errno = 0;
    if (kcmp(me, 0x7ffffff0, KCMP_VM, 0, 0) != -1 || errno != ESRCH) fail("kcmp of no process: errno %d", errno);

    /* process_vm_readv: the child's copy of `data`, not ours */
    char got[64] = { 0 };
    struct iovec r = { data, 11 };
    if (vm(0, c, got, sizeof got, &r, 1, 0) != 11 || strcmp(got, "child data") != 0) fail("read back '%s'", got);
    if (strcmp(data, "parent data") != 0) fail("our own copy changed");
    struct iovec two[2] = { { data, 6 }, { (void *)16, 8 } };   /* the second is unmapped */
    memset(got, 0, sizeof got);
    ssize_t partial = vm(0, c, got, sizeof got, two, 2, 0);
    if (partial != 6 || memcmp(got, "child ", 6) != 0) fail("partial read: %zd '%s'", partial, got);
    struct iovec bad = { (void *)16, 8 };
    errno = 0;
    if (vm(0, c, got, sizeof got, &bad, 1, 0) != -1 || errno != EFAULT) fail("read from an unmapped page: errno %d", errno);
    errno = 0;
    if (vm(0, c, got, sizeof got, &r, 1, 1) != -1 || errno != EINVAL) fail("flags 1: errno %d", errno);

    /* An unprivileged process may not look into root's. */
    pid_t u = fork();
    if (u == 0) {
        if (setuid(65534) != 0) _exit(30);
        char x[8];
        struct iovec rr = { data, 4 };
        struct iovec l = { x, 4 };
        errno = 0;
        if (syscall(SYS_process_vm_readv, c, &l, 1L, &rr, 1L, 0L) != -1 || errno != EPERM) _exit(31);
        errno = 0;
        if (kcmp(getppid(), c, KCMP_VM, 0, 0) != -1 || errno != EPERM) _exit(32);
        _exit(0);
    }
    int status;
    if (waitpid(u, &status, 0) != u || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("the unprivileged process was let in (check %d)", WEXITSTATUS(status));

    /* process_vm_writev into the child's inbox */
    char message[] = "from the parent";
    struct iovec w = { inbox, sizeof message };
    if (vm(1, c, message, sizeof message, &w, 1, 0) != (ssize_t)sizeof message) fail("process_vm_writev: errno %d", errno);
    if (inbox[0] != 0) fail("our own inbox changed");
    if (write(to_child[1], "w", 1) != 1) fail("write: errno %d", errno);
    if (waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("the child did not find the message (status %#x)", status);
    return pass("kcmp on files, address spaces, tables; process_vm_readv/writev across fork");
}
