/*
 * smp_fork_test.c — with two CPUs a fork'd CPU-bound child and its parent run at the same
 * time: they pass a token back and forth 20000 times through shared memory, each busy-waiting
 * (no system call) for its turn.
 *
 * Layer: guest test program (issue 16 item 6; kernel side Threads/Scheduler.swift, one run
 * queue for every CPU). Run under egg with --smp 2 (Tests/integration/run.sh), natively first.
 * No clock is read: on one CPU every handoff needs the spinning side to be preempted, so
 * each side counts its involuntary context switches (getrusage ru_nivcsw, every 4096 spins)
 * and the test fails as soon as either has been preempted more than 2000 times — a tenth of
 * the handoffs; running side by side the token moves without any preemption at all.
 * Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

const char *const test_name = "smp_fork_test";

#define ROUNDS 20000
#define PREEMPTION_LIMIT (ROUNDS / 10)

struct shared {
    volatile long turn;        /* even: the parent's turn, odd: the child's */
    volatile int gave_up;      /* a side saw too many preemptions */
    volatile long child_switches;
};

static long preemptions(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_nivcsw;
}

/* Take ROUNDS turns: wait until `turn` has our parity, pass it on. Returns the involuntary
 * switches counted meanwhile, or -1 after giving up. */
static long play(struct shared *s, int parity)
{
    long start = preemptions();
    for (long round = 0; round < ROUNDS; round++) {
        unsigned long spins = 0;
        while ((s->turn & 1) != parity) {
            if (s->gave_up) return -1;
            if (++spins % 4096 == 0 && preemptions() - start > PREEMPTION_LIMIT) {
                s->gave_up = 1;
                return -1;
            }
        }
        __atomic_fetch_add(&s->turn, 1, __ATOMIC_SEQ_CST);
    }
    return preemptions() - start;
}

int main(void)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) fail("needs two CPUs (egg: --smp 2), has %ld", sysconf(_SC_NPROCESSORS_ONLN));
    struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) fail("mmap: errno %d", errno);
    pid_t c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) {
        s->child_switches = play(s, 1);
        _exit(s->child_switches < 0 ? 1 : 0);
    }
    long mine = play(s, 0);
    int status;
    if (waitpid(c, &status, 0) != c) fail("waitpid: errno %d", errno);
    if (mine < 0 || s->gave_up || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("after %ld handoffs a side had been preempted over %d times: parent and child take turns on one CPU",
             s->turn, PREEMPTION_LIMIT);
    if (s->turn != 2 * ROUNDS) fail("turn %ld, expected %d", s->turn, 2 * ROUNDS);
    return pass("%d handoffs between a parent and its child spinning at once (preempted %ld and %ld times)",
                ROUNDS, mine, s->child_switches);
}
