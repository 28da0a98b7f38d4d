/*
 * clone_pidfd_test.c — CLONE_PIDFD in clone(2) and clone3(2), and membarrier(2).
 *
 * clone with CLONE_PIDFD stores a close-on-exec pidfd for the child in the parent_tid slot;
 * the pidfd turns readable when the child exits and waitid(P_PIDFD) reaps it with its
 * status. CLONE_PIDFD with CLONE_PARENT_SETTID is EINVAL (the same slot), and a bad slot
 * is EFAULT with no child left behind. clone3 stores it at cl_args.pidfd.
 * membarrier: QUERY lists GLOBAL, PRIVATE_EXPEDITED and its REGISTER; a non-zero flags
 * word and an unknown command are EINVAL; PRIVATE_EXPEDITED is EPERM until the process
 * registers, then 0; GLOBAL is 0. Every wait has a timeout.
 *
 * Layer: guest test program (runs natively and under egg, Tests/integration/run.sh).
 * See clone(2), clone3(2), membarrier(2), kernel/fork.c, kernel/sched/membarrier.c.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/wait.h>

const char *const test_name = "clone_pidfd_test";

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define MEMBARRIER_CMD_QUERY 0
#define MEMBARRIER_CMD_GLOBAL 1
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED 8
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* fork-like clone: no new stack, the child continues here. */
static long raw_clone(unsigned long flags, int *parent_tid)
{
    return syscall(SYS_clone, flags, 0, parent_tid, 0, 0);
}

static void reap_by_pidfd(int pidfd, pid_t pid, int status, const char *what)
{
    int fdflags = fcntl(pidfd, F_GETFD);
    if (fdflags < 0 || !(fdflags & FD_CLOEXEC)) fail("%s: pidfd %d is not close-on-exec", what, pidfd);
    struct pollfd p = { pidfd, POLLIN, 0 };
    int r = poll(&p, 1, 10000);
    if (r != 1 || !(p.revents & POLLIN)) fail("%s: pidfd not readable after the child exited (poll %d)", what, r);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) != 0) fail("%s: waitid(P_PIDFD): errno %d", what, errno);
    if (info.si_pid != pid || info.si_code != CLD_EXITED || info.si_status != status)
        fail("%s: waitid said pid %d code %d status %d, want %d exited %d", what, info.si_pid, info.si_code, info.si_status, pid, status);
    close(pidfd);
}

static void test_clone_pidfd(void)
{
    int pidfd = -1;
    long pid = raw_clone(CLONE_PIDFD | SIGCHLD, &pidfd);
    if (pid < 0) fail("clone(CLONE_PIDFD): errno %d", errno);
    if (pid == 0) _exit(7);
    if (pidfd < 0) fail("clone(CLONE_PIDFD) stored no pidfd");
    reap_by_pidfd(pidfd, (pid_t)pid, 7, "clone");

    if (raw_clone(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, &pidfd) != -1 || errno != EINVAL)
        fail("clone(CLONE_PIDFD|CLONE_PARENT_SETTID) was not EINVAL");
    if (raw_clone(CLONE_PIDFD | SIGCHLD, (int *)8) != -1 || errno != EFAULT)
        fail("clone(CLONE_PIDFD) with a bad slot was not EFAULT");
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        fail("a failed clone(CLONE_PIDFD) left a child behind");
}

static void test_clone3_pidfd(void)
{
    int pidfd = -1;
    struct clone_args_v0 args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) fail("clone3(CLONE_PIDFD): errno %d", errno);
    if (pid == 0) _exit(9);
    if (pidfd < 0) fail("clone3(CLONE_PIDFD) stored no pidfd");
    reap_by_pidfd(pidfd, (pid_t)pid, 9, "clone3");
}

static void test_membarrier(void)
{
    long mask = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    long want = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    if (mask < 0 || (mask & want) != want) fail("membarrier QUERY said %#lx, want at least %#lx", mask, want);
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 1, 0) != -1 || errno != EINVAL) fail("membarrier flags 1 was not EINVAL");
    if (syscall(SYS_membarrier, 1 << 20, 0, 0) != -1 || errno != EINVAL) fail("an unknown membarrier command was not EINVAL");
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != -1 || errno != EPERM)
        fail("PRIVATE_EXPEDITED before registering was not EPERM");
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) fail("REGISTER_PRIVATE_EXPEDITED: errno %d", errno);
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) fail("PRIVATE_EXPEDITED: errno %d", errno);
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) fail("GLOBAL: errno %d", errno);
}

int main(void)
{
    test_clone_pidfd();
    test_clone3_pidfd();
    test_membarrier();
    return pass(NULL);
}
