/*
 * sched_test.c — the scheduling calls: sched_{get,set}scheduler, sched_{get,set}param,
 * sched_get_priority_{max,min}, sched_rr_get_interval, sched_{get,set}attr,
 * {get,set}priority, sched_{get,set}affinity, getcpu, ioprio_{get,set}.
 *
 * Layer: guest test program (issue 16 item 5; kernel side
 * Sources/KernelCore/Syscalls/SchedulingSyscalls.swift). Runs natively as root first, then
 * under egg (Tests/integration/run.sh). Checks what is set reads back, Linux's EINVAL /
 * ESRCH / E2BIG / EPERM / EACCES rules (an unprivileged child for the permission ones), and
 * SCHED_RESET_ON_FORK across fork. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

const char *const test_name = "sched_test";

#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

struct attr { /* struct sched_attr, SCHED_ATTR_SIZE_VER1 */
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

static long sc(long n, long a, long b, long c, long d) { return syscall(n, a, b, c, d); }

#define EXPECT_ERR(call, err) do { errno = 0; long r_ = (call); \
    if (r_ != -1 || errno != (err)) fail("%s: %ld errno %d, expected errno %d", #call, r_, errno, (err)); } while (0)
#define EXPECT_OK(call) do { long r_ = (call); if (r_ < 0) fail("%s: errno %d", #call, errno); } while (0)

static int policy_now(void) { return (int)sc(SYS_sched_getscheduler, 0, 0, 0, 0); }

static void set_policy(int policy, int priority)
{
    struct sched_param p = { .sched_priority = priority };
    if (sc(SYS_sched_setscheduler, 0, policy, (long)&p, 0) != 0)
        fail("sched_setscheduler(%#x, %d): errno %d", policy, priority, errno);
}

static void priorities(void)
{
    int rt[] = { SCHED_FIFO, SCHED_RR }, fair[] = { SCHED_OTHER, SCHED_BATCH, SCHED_IDLE };
    for (int i = 0; i < 2; i++)
        if (sc(SYS_sched_get_priority_max, rt[i], 0, 0, 0) != 99 || sc(SYS_sched_get_priority_min, rt[i], 0, 0, 0) != 1)
            fail("real-time priority range of policy %d", rt[i]);
    for (int i = 0; i < 3; i++)
        if (sc(SYS_sched_get_priority_max, fair[i], 0, 0, 0) != 0 || sc(SYS_sched_get_priority_min, fair[i], 0, 0, 0) != 0)
            fail("priority range of policy %d is not 0..0", fair[i]);
    EXPECT_ERR(sc(SYS_sched_get_priority_max, 42, 0, 0, 0), EINVAL);
    EXPECT_ERR(sc(SYS_sched_get_priority_min, -1, 0, 0, 0), EINVAL);
}

static void policies(void)
{
    struct sched_param p = { .sched_priority = 0 };
    if (policy_now() != SCHED_OTHER) fail("starting policy %d", policy_now());
    EXPECT_OK(sc(SYS_sched_getparam, 0, (long)&p, 0, 0));
    if (p.sched_priority != 0) fail("SCHED_OTHER priority %d", p.sched_priority);
    set_policy(SCHED_BATCH, 0);
    if (policy_now() != SCHED_BATCH) fail("policy %d after SCHED_BATCH", policy_now());
    p.sched_priority = 5;
    EXPECT_ERR(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, (long)&p, 0), EINVAL);   /* priority must be 0 */
    p.sched_priority = 0;
    EXPECT_ERR(sc(SYS_sched_setscheduler, 0, SCHED_FIFO, (long)&p, 0), EINVAL);    /* 1..99 */
    p.sched_priority = 100;
    EXPECT_ERR(sc(SYS_sched_setscheduler, 0, SCHED_RR, (long)&p, 0), EINVAL);
    EXPECT_ERR(sc(SYS_sched_setscheduler, 0, 4, (long)&p, 0), EINVAL);             /* no policy 4 */
    EXPECT_ERR(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, 0, 0), EINVAL);          /* NULL param */
    EXPECT_ERR(sc(SYS_sched_setscheduler, -1, SCHED_OTHER, (long)&p, 0), EINVAL);
    EXPECT_ERR(sc(SYS_sched_getscheduler, 0x7ffffff0, 0, 0, 0), ESRCH);
    EXPECT_ERR(sc(SYS_sched_getscheduler, -3, 0, 0, 0), EINVAL);
    EXPECT_ERR(sc(SYS_sched_getparam, 0, 0, 0, 0), EINVAL);

    /* Root holds CAP_SYS_NICE: SCHED_FIFO and SCHED_RR are accepted and read back. */
    struct timespec ts;
    set_policy(SCHED_FIFO, 10);
    EXPECT_OK(sc(SYS_sched_getparam, 0, (long)&p, 0, 0));
    if (policy_now() != SCHED_FIFO || p.sched_priority != 10) fail("FIFO 10 read back as %d %d", policy_now(), p.sched_priority);
    p.sched_priority = 20;
    EXPECT_OK(sc(SYS_sched_setparam, 0, (long)&p, 0, 0));
    EXPECT_OK(sc(SYS_sched_getparam, getpid(), (long)&p, 0, 0));
    if (p.sched_priority != 20) fail("sched_setparam 20 read back as %d", p.sched_priority);
    EXPECT_OK(sc(SYS_sched_rr_get_interval, 0, (long)&ts, 0, 0));
    if (ts.tv_sec != 0 || ts.tv_nsec != 0) fail("SCHED_FIFO has a quantum %ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
    set_policy(SCHED_RR, 1);
    EXPECT_OK(sc(SYS_sched_rr_get_interval, 0, (long)&ts, 0, 0));
    if (ts.tv_sec == 0 && ts.tv_nsec == 0) fail("SCHED_RR has no quantum");
    set_policy(SCHED_OTHER, 0);
    EXPECT_OK(sc(SYS_sched_rr_get_interval, 0, (long)&ts, 0, 0));
    EXPECT_ERR(sc(SYS_sched_rr_get_interval, -1, (long)&ts, 0, 0), EINVAL);
}

static void reset_on_fork(void)
{
    set_policy(SCHED_RR | SCHED_RESET_ON_FORK, 3);
    if (policy_now() != (SCHED_RR | SCHED_RESET_ON_FORK)) fail("policy %#x with SCHED_RESET_ON_FORK", policy_now());
    pid_t c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) {
        struct sched_param p = { .sched_priority = 7 };
        sc(SYS_sched_getparam, 0, (long)&p, 0, 0);
        _exit(policy_now() == SCHED_OTHER && p.sched_priority == 0 ? 0 : 1);
    }
    int status;
    if (waitpid(c, &status, 0) != c || status != 0) fail("the child of a SCHED_RESET_ON_FORK RR parent did not start as SCHED_OTHER 0");
    set_policy(SCHED_BATCH | SCHED_RESET_ON_FORK, 0);
    c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) _exit(policy_now() == SCHED_BATCH ? 0 : 1);  /* a fair policy is kept; the flag is not */
    if (waitpid(c, &status, 0) != c || status != 0) fail("SCHED_BATCH with SCHED_RESET_ON_FORK not kept as plain SCHED_BATCH by the child");
    set_policy(SCHED_OTHER, 0);
    if (policy_now() != SCHED_OTHER) fail("could not clear SCHED_RESET_ON_FORK as root");
}

static void nice_values(void)
{
    int base = (int)sc(SYS_getpriority, PRIO_PROCESS, 0, 0, 0);
    if (base < 1 || base > 40) fail("getpriority raw value %d", base);
    EXPECT_OK(sc(SYS_setpriority, PRIO_PROCESS, 0, 5, 0));
    if (sc(SYS_getpriority, PRIO_PROCESS, 0, 0, 0) != 20 - 5) fail("nice 5 reads back as raw %ld", sc(SYS_getpriority, PRIO_PROCESS, 0, 0, 0));
    errno = 0;
    if (getpriority(PRIO_PROCESS, getpid()) != 5 || errno != 0) fail("libc getpriority: %d", getpriority(PRIO_PROCESS, 0));
    EXPECT_OK(sc(SYS_setpriority, PRIO_PROCESS, 0, 99, 0));     /* clamped to 19 */
    if (getpriority(PRIO_PROCESS, 0) != 19) fail("nice 99 not clamped to 19: %d", getpriority(PRIO_PROCESS, 0));
    EXPECT_OK(sc(SYS_setpriority, PRIO_PROCESS, 0, 0, 0));      /* root may lower it again */
    EXPECT_ERR(sc(SYS_getpriority, 7, 0, 0, 0), EINVAL);
    EXPECT_ERR(sc(SYS_setpriority, PRIO_PROCESS, 0x7ffffff0, 1, 0), ESRCH);
    EXPECT_ERR(sc(SYS_getpriority, PRIO_PROCESS, 0x7ffffff0, 0, 0), ESRCH);
    if (getpriority(PRIO_PGRP, 0) != 0) fail("PRIO_PGRP nice %d", getpriority(PRIO_PGRP, 0));

    /* sched_setattr/getattr carry the nice value too. */
    struct attr a = { .size = sizeof a, .policy = SCHED_OTHER, .nice = 3 };
    EXPECT_OK(sc(SYS_sched_setattr, 0, (long)&a, 0, 0));
    if (getpriority(PRIO_PROCESS, 0) != 3) fail("sched_setattr nice 3 reads back as %d", getpriority(PRIO_PROCESS, 0));
    memset(&a, 0xAA, sizeof a);
    EXPECT_OK(sc(SYS_sched_getattr, 0, (long)&a, sizeof a, 0));
    if (a.size != sizeof a || a.policy != SCHED_OTHER || a.nice != 3 || a.priority != 0 || a.flags != 0)
        fail("sched_getattr: size %u policy %u nice %d priority %u flags %#llx", a.size, a.policy, a.nice, a.priority,
             (unsigned long long)a.flags);
    EXPECT_ERR(sc(SYS_sched_getattr, 0, (long)&a, 47, 0), EINVAL);
    EXPECT_ERR(sc(SYS_sched_getattr, 0, (long)&a, sizeof a, 1), EINVAL);
    struct { struct attr a; uint64_t extra; } big = { { .size = sizeof big, .policy = SCHED_OTHER }, 1 };
    EXPECT_ERR(sc(SYS_sched_setattr, 0, (long)&big, 0, 0), E2BIG);
    if (big.a.size != sizeof(struct attr)) fail("E2BIG wrote size %u back, expected %zu", big.a.size, sizeof(struct attr));
    big.a.size = sizeof big;
    big.extra = 0;            /* unknown trailing bytes that are zero are fine */
    big.a.nice = 1;
    EXPECT_OK(sc(SYS_sched_setattr, 0, (long)&big, 0, 0));
    a = (struct attr){ .size = 8, .policy = SCHED_OTHER };
    EXPECT_ERR(sc(SYS_sched_setattr, 0, (long)&a, 0, 0), E2BIG);
    a = (struct attr){ .size = sizeof a, .policy = SCHED_OTHER, .flags = 0x100 };
    EXPECT_ERR(sc(SYS_sched_setattr, 0, (long)&a, 0, 0), EINVAL);
    a = (struct attr){ .size = sizeof a, .policy = SCHED_OTHER };
    EXPECT_OK(sc(SYS_sched_setattr, 0, (long)&a, 0, 0));
    if (getpriority(PRIO_PROCESS, 0) != 0) fail("nice not back to 0");
}

static void affinity(void)
{
    cpu_set_t all, one, got;
    CPU_ZERO(&all);
    long n = sc(SYS_sched_getaffinity, 0, sizeof all, (long)&all, 0);
    if (n < 8 || n % 8 != 0) fail("sched_getaffinity returned %ld", n);
    int cpus = CPU_COUNT(&all);
    if (cpus < 1) fail("no CPU in the affinity mask");
    EXPECT_ERR(sc(SYS_sched_getaffinity, 0, 3, (long)&got, 0), EINVAL);
    int first = 0;
    while (!CPU_ISSET(first, &all)) first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    EXPECT_OK(sc(SYS_sched_setaffinity, 0, sizeof one, (long)&one, 0));
    CPU_ZERO(&got);
    EXPECT_OK(sc(SYS_sched_getaffinity, 0, sizeof got, (long)&got, 0));
    if (CPU_COUNT(&got) != 1 || !CPU_ISSET(first, &got)) fail("affinity set to CPU %d reads back %d CPUs", first, CPU_COUNT(&got));
    unsigned cpu = 999, node = 999;
    EXPECT_OK(sc(SYS_getcpu, (long)&cpu, (long)&node, 0, 0));
    if (cpu >= (unsigned)CPU_SETSIZE || node == 999) fail("getcpu: cpu %u node %u", cpu, node);
    EXPECT_OK(sc(SYS_getcpu, 0, 0, 0, 0));
    CPU_ZERO(&got);
    CPU_SET(CPU_SETSIZE - 1, &got);   /* no such CPU online */
    EXPECT_ERR(sc(SYS_sched_setaffinity, 0, sizeof got, (long)&got, 0), EINVAL);
    EXPECT_ERR(sc(SYS_sched_setaffinity, 0x7ffffff0, sizeof all, (long)&all, 0), ESRCH);
    EXPECT_OK(sc(SYS_sched_setaffinity, 0, sizeof all, (long)&all, 0));
    CPU_ZERO(&got);
    EXPECT_OK(sc(SYS_sched_getaffinity, 0, sizeof got, (long)&got, 0));
    if (CPU_COUNT(&got) != cpus) fail("affinity restored to %d CPUs, had %d", CPU_COUNT(&got), cpus);
}

#define IOPRIO(c, l) ((c) << 13 | (l))
static void io_priorities(void)
{
    EXPECT_OK(sc(SYS_ioprio_set, 1, 0, IOPRIO(2, 3), 0));
    if (sc(SYS_ioprio_get, 1, 0, 0, 0) != IOPRIO(2, 3)) fail("ioprio BE 3 reads back as %#lx", sc(SYS_ioprio_get, 1, 0, 0, 0));
    EXPECT_OK(sc(SYS_ioprio_set, 1, getpid(), IOPRIO(3, 0), 0));
    if (sc(SYS_ioprio_get, 1, getpid(), 0, 0) != IOPRIO(3, 0)) fail("ioprio IDLE reads back as %#lx", sc(SYS_ioprio_get, 1, 0, 0, 0));
    EXPECT_OK(sc(SYS_ioprio_set, 1, 0, IOPRIO(1, 0), 0));     /* root may use the real-time class */
    EXPECT_ERR(sc(SYS_ioprio_set, 1, 0, IOPRIO(5, 0), 0), EINVAL);
    EXPECT_ERR(sc(SYS_ioprio_set, 1, 0, IOPRIO(7, 0), 0), EINVAL);
    EXPECT_ERR(sc(SYS_ioprio_set, 1, 0, IOPRIO(0, 1), 0), EINVAL);
    EXPECT_ERR(sc(SYS_ioprio_set, 9, 0, IOPRIO(2, 0), 0), EINVAL);
    EXPECT_ERR(sc(SYS_ioprio_get, 1, 0x7ffffff0, 0, 0), ESRCH);
    EXPECT_OK(sc(SYS_ioprio_set, 1, 0, IOPRIO(2, 4), 0));
}

/* An unprivileged child: no real-time policy, no lower nice, no real-time I/O class. */
static void unprivileged(void)
{
    pid_t c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) {
        if (setuid(65534) != 0) _exit(10);
        struct sched_param p = { .sched_priority = 10 };
        errno = 0;
        if (sc(SYS_sched_setscheduler, 0, SCHED_FIFO, (long)&p, 0) != -1 || errno != EPERM) _exit(11);
        if (sc(SYS_setpriority, PRIO_PROCESS, 0, 4, 0) != 0) _exit(12);
        errno = 0;
        if (sc(SYS_setpriority, PRIO_PROCESS, 0, 2, 0) != -1 || errno != EACCES) _exit(13);
        errno = 0;
        if (sc(SYS_ioprio_set, 1, 0, IOPRIO(1, 0), 0) != -1 || errno != EPERM) _exit(14);
        errno = 0;
        if (sc(SYS_sched_setscheduler, 1, SCHED_BATCH, (long)&(struct sched_param){ .sched_priority = 0 }, 0) != -1 || errno != EPERM) _exit(15);
        p.sched_priority = 0;
        if (sc(SYS_sched_setscheduler, 0, SCHED_IDLE, (long)&p, 0) != 0) _exit(16);
        _exit(0);
    }
    int status;
    if (waitpid(c, &status, 0) != c) fail("waitpid: errno %d", errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("unprivileged child failed check %d", WEXITSTATUS(status));
}

int main(void)
{
    if (geteuid() != 0) fail("run as root (natively too)");
    priorities();
    policies();
    reset_on_fork();
    nice_values();
    affinity();
    io_priorities();
    unprivileged();
    return pass(NULL);
}
