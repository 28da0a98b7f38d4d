/*
 * requeue_pi_test.c — FUTEX_WAIT_REQUEUE_PI / FUTEX_CMP_REQUEUE_PI (the kernel half of a
 * PI condition variable) and the futex2 calls futex_wake / futex_wait / futex_requeue
 * (Linux 6.7, numbers 454-456).
 *
 * Requeue-PI: the EINVAL rules (same futex twice, nr_wake other than 1, a waiter waiting
 * for another PI futex, FUTEX_WAKE or FUTEX_CMP_REQUEUE on a requeue-PI waiter), EAGAIN on
 * a changed word, ETIMEDOUT; the kernel taking a free PI futex for the first waiter on its
 * behalf; and three waiters moved onto a held PI futex, each later returning 0 as its
 * owner when FUTEX_UNLOCK_PI hands it over. futex2: size and flag checks (only 32-bit,
 * FUTEX2_NUMA on a word not 8-aligned is EINVAL), bitset masks, absolute timeouts on the
 * chosen clock, and a requeue described by two struct futex_waitv.
 * Every wait has a timeout and every loop a bound, so nothing can hang.
 *
 * Layer: guest test program (runs natively and under egg, Tests/integration/run.sh).
 * See futex(2) and kernel/futex/requeue.c, kernel/futex/syscalls.c.
 */
#define _GNU_SOURCE
#include "check.h"
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

const char *const test_name = "requeue_pi_test";

/* include/uapi/linux/futex.h (musl's headers do not ship it). */
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_UNLOCK_PI 7
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_TID_MASK 0x3fffffffu
#define FUTEX2_SIZE_U8 0
#define FUTEX2_SIZE_U32 2
#define FUTEX2_SIZE_U64 3
#define FUTEX2_NUMA 4
#define FUTEX2_PRIVATE 128
#define NR_futex_wake 454
#define NR_futex_wait 455
#define NR_futex_requeue 456

struct waitv { uint64_t val, uaddr; uint32_t flags, reserved; };

static long futex(uint32_t *w, int op, uint32_t val, uintptr_t val2, uint32_t *w2, uint32_t val3)
{
    return syscall(SYS_futex, w, op, val, val2, w2, val3);
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static struct timespec abs_after(clockid_t c, uint64_t ns)
{
    uint64_t t = now_ns(c) + ns;
    struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
    return ts;
}

static void pause_ms(int ms) { struct timespec t = { 0, ms * 1000000L }; nanosleep(&t, NULL); }

static void expect_err(long r, int e, const char *what)
{
    if (r != -1 || errno != e) fail("%s: got %ld errno %d, want errno %d", what, r, r == -1 ? errno : 0, e);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Unlock a PI futex word as glibc does: user space when nobody waits, else the kernel. */
static void pi_unlock(uint32_t *w)
{
    uint32_t tid = (uint32_t)gettid_();
    if (__sync_bool_compare_and_swap(w, tid, 0)) return;
    if (futex(w, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, NULL, 0) != 0) fail("FUTEX_UNLOCK_PI: errno %d", errno);
}

static uint32_t cond, mutex, other_mutex;
static int owned_count;
static volatile int waiting[4];

static void *requeue_waiter(void *arg)
{
    int i = (int)(intptr_t)arg;
    uint32_t seen = __atomic_load_n(&cond, __ATOMIC_SEQ_CST);
    struct timespec deadline = abs_after(CLOCK_MONOTONIC, 20000000000ull);
    waiting[i] = 1;
    long r = futex(&cond, FUTEX_WAIT_REQUEUE_PI | FUTEX_PRIVATE_FLAG, seen, (uintptr_t)&deadline, &mutex, 0);
    if (r != 0) fail("waiter %d: FUTEX_WAIT_REQUEUE_PI returned %ld errno %d", i, r, errno);
    uint32_t w = __atomic_load_n(&mutex, __ATOMIC_SEQ_CST);
    if ((w & FUTEX_TID_MASK) != (uint32_t)gettid_()) fail("waiter %d returned without owning the PI futex (word %#x)", i, w);
    owned_count++;  /* under the PI futex */
    pi_unlock(&mutex);
    return NULL;
}

/* Call until `want` waiters have been requeued or woken, or five seconds pass. */
static long requeue_until(uint32_t *target, long want)
{
    long total = 0;
    for (int tries = 0; tries < 500 && total < want; tries++) {
        long r = futex(&cond, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, INT_MAX, target, cond);
        if (r < 0) fail("FUTEX_CMP_REQUEUE_PI: errno %d", errno);
        total += r;
        if (total < want) pause_ms(10);
    }
    return total;
}

static void test_requeue_pi_errors(void)
{
    uint32_t a = 5, b = 0;
    struct timespec soon = abs_after(CLOCK_MONOTONIC, 50000000);
    expect_err(futex(&a, FUTEX_WAIT_REQUEUE_PI, 5, (uintptr_t)&soon, &a, 0), EINVAL, "WAIT_REQUEUE_PI with uaddr == uaddr2");
    expect_err(futex(&a, FUTEX_WAIT_REQUEUE_PI, 6, (uintptr_t)&soon, &b, 0), EAGAIN, "WAIT_REQUEUE_PI on a changed word");
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    soon = abs_after(CLOCK_MONOTONIC, 50000000);
    expect_err(futex(&a, FUTEX_WAIT_REQUEUE_PI, 5, (uintptr_t)&soon, &b, 0), ETIMEDOUT, "WAIT_REQUEUE_PI timeout");
    if (now_ns(CLOCK_MONOTONIC) - t0 < 40000000) fail("WAIT_REQUEUE_PI timed out early");
    expect_err(futex(&a, FUTEX_CMP_REQUEUE_PI, 2, 1, &b, 5), EINVAL, "CMP_REQUEUE_PI with nr_wake 2");
    expect_err(futex(&a, FUTEX_CMP_REQUEUE_PI, 1, 1, &a, 5), EINVAL, "CMP_REQUEUE_PI with uaddr == uaddr2");
    expect_err(futex(&a, FUTEX_CMP_REQUEUE_PI, 1, 1, &b, 4), EAGAIN, "CMP_REQUEUE_PI on a changed word");
    if (futex(&a, FUTEX_CMP_REQUEUE_PI, 1, 1, &b, 5) != 0) fail("CMP_REQUEUE_PI without waiters: errno %d", errno);
    if (b != 0) fail("CMP_REQUEUE_PI without waiters changed the PI word to %#x", b);
}

/* The PI futex is free: the kernel takes it for the waiter and wakes it owning it. */
static void test_proxy_lock(void)
{
    pthread_t t;
    cond = 1; mutex = 0; owned_count = 0; waiting[0] = 0;
    if (pthread_create(&t, NULL, requeue_waiter, (void *)0) != 0) fail("pthread_create");
    while (!waiting[0]) sched_yield();
    if (requeue_until(&mutex, 1) != 1) fail("the waiter was never given the free PI futex");
    pthread_join(t, NULL);
    if (owned_count != 1) fail("proxy-locked waiter did not run");
    if (mutex != 0) fail("PI word after the last unlock is %#x, want 0", mutex);
}

/* The PI futex is held: three waiters move onto it and get it one after another. */
static void test_requeue_onto_held_mutex(void)
{
    pthread_t t[3];
    cond = 7; mutex = (uint32_t)gettid_(); owned_count = 0;
    for (int i = 0; i < 3; i++) {
        waiting[i] = 0;
        if (pthread_create(&t[i], NULL, requeue_waiter, (void *)(intptr_t)i) != 0) fail("pthread_create");
    }
    for (int i = 0; i < 3; i++) while (!waiting[i]) sched_yield();
    /* A plain wake must refuse the requeue-PI waiter (EINVAL), never wake it. */
    int refused = 0;
    for (int tries = 0; tries < 500 && !refused; tries++) {
        long r = futex(&cond, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, NULL, 0);
        if (r > 0) fail("FUTEX_WAKE woke a FUTEX_WAIT_REQUEUE_PI waiter");
        if (r < 0 && errno != EINVAL) fail("FUTEX_WAKE: errno %d", errno);
        if (r < 0) refused = 1; else pause_ms(10);
    }
    if (!refused) fail("FUTEX_WAKE on a requeue-PI waiter never said EINVAL");
    expect_err(futex(&cond, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0, 1, &other_mutex, cond), EINVAL,
               "plain FUTEX_CMP_REQUEUE of a requeue-PI waiter");
    expect_err(futex(&cond, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, 1, &other_mutex, cond), EINVAL,
               "CMP_REQUEUE_PI to another PI futex than the waiter's");
    long moved = requeue_until(&mutex, 3);
    if (moved != 3) fail("requeued %ld waiters, want 3", moved);
    uint32_t w = mutex;
    if ((w & FUTEX_TID_MASK) != (uint32_t)gettid_() || !(w & FUTEX_WAITERS))
        fail("held PI word after the requeue is %#x, want our TID with FUTEX_WAITERS", w);
    if (owned_count != 0) fail("a waiter ran while the PI futex was held");
    pi_unlock(&mutex);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    if (owned_count != 3) fail("%d of 3 waiters got the PI futex", owned_count);
    if (mutex != 0) fail("PI word after the last unlock is %#x, want 0", mutex);
}

static uint32_t f2word, f2other;
static volatile int f2waiting;

static void *futex2_waiter(void *arg)
{
    (void)arg;
    struct timespec deadline = abs_after(CLOCK_MONOTONIC, 20000000000ull);
    f2waiting = 1;
    long r = syscall(NR_futex_wait, &f2word, 0ul, 1ul, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, &deadline, CLOCK_MONOTONIC);
    if (r != 0) fail("futex_wait woken with %ld errno %d", r, errno);
    return NULL;
}

static long wake_until(uint32_t *w, unsigned long mask, int want)
{
    long total = 0;
    for (int tries = 0; tries < 500 && total < want; tries++) {
        long r = syscall(NR_futex_wake, w, mask, want - (int)total, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
        if (r < 0) fail("futex_wake: errno %d", errno);
        total += r;
        if (total < want) pause_ms(10);
    }
    return total;
}

static void test_futex2(void)
{
    uint32_t w = 3;
    uint64_t pair[2] __attribute__((aligned(8))) = { 0, 0 };
    uint32_t *odd = (uint32_t *)pair + 1;  /* 4- but not 8-aligned */
    expect_err(syscall(NR_futex_wake, &w, 0xfffffffful, 1, FUTEX2_SIZE_U8), EINVAL, "futex_wake with FUTEX2_SIZE_U8");
    expect_err(syscall(NR_futex_wake, &w, 0xfffffffful, 1, FUTEX2_SIZE_U64), EINVAL, "futex_wake with FUTEX2_SIZE_U64");
    expect_err(syscall(NR_futex_wake, &w, 0xfffffffful, 1, FUTEX2_SIZE_U32 | 0x10), EINVAL, "futex_wake with an unknown flag");
    expect_err(syscall(NR_futex_wake, odd, 0xfffffffful, 1, FUTEX2_SIZE_U32 | FUTEX2_NUMA), EINVAL, "futex_wake NUMA on a word not 8-aligned");
    expect_err(syscall(NR_futex_wake, &w, 0ul, 1, FUTEX2_SIZE_U32), EINVAL, "futex_wake with mask 0");
    expect_err(syscall(NR_futex_wake, &w, 1ul << 32, 1, FUTEX2_SIZE_U32), EINVAL, "futex_wake with a 33-bit mask");
    expect_err(syscall(NR_futex_wake, (char *)&w + 1, 0xfffffffful, 1, FUTEX2_SIZE_U32), EINVAL, "futex_wake misaligned");
    if (syscall(NR_futex_wake, &w, 0xfffffffful, 1, FUTEX2_SIZE_U32) != 0) fail("futex_wake with no waiter: errno %d", errno);

    struct timespec soon = abs_after(CLOCK_MONOTONIC, 50000000);
    expect_err(syscall(NR_futex_wait, &w, 4ul, 0xfffffffful, FUTEX2_SIZE_U32, &soon, CLOCK_MONOTONIC), EAGAIN, "futex_wait on a changed word");
    expect_err(syscall(NR_futex_wait, &w, 3ul | 1ul << 32, 0xfffffffful, FUTEX2_SIZE_U32, &soon, CLOCK_MONOTONIC), EINVAL, "futex_wait with a 33-bit value");
    expect_err(syscall(NR_futex_wait, &w, 3ul, 0ul, FUTEX2_SIZE_U32, &soon, CLOCK_MONOTONIC), EINVAL, "futex_wait with mask 0");
    expect_err(syscall(NR_futex_wait, &w, 3ul, 0xfffffffful, FUTEX2_SIZE_U32, &soon, CLOCK_BOOTTIME), EINVAL, "futex_wait on CLOCK_BOOTTIME");
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    soon = abs_after(CLOCK_MONOTONIC, 50000000);
    expect_err(syscall(NR_futex_wait, &w, 3ul, 0xfffffffful, FUTEX2_SIZE_U32, &soon, CLOCK_MONOTONIC), ETIMEDOUT, "futex_wait monotonic timeout");
    if (now_ns(CLOCK_MONOTONIC) - t0 < 40000000) fail("futex_wait timed out early");
    struct timespec rsoon = abs_after(CLOCK_REALTIME, 30000000);
    expect_err(syscall(NR_futex_wait, &w, 3ul, 0xfffffffful, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, &rsoon, CLOCK_REALTIME), ETIMEDOUT, "futex_wait realtime timeout");

    /* Bitsets: the waiter waits with mask 1; a wake with mask 2 misses it. */
    pthread_t t;
    f2word = 0; f2waiting = 0;
    if (pthread_create(&t, NULL, futex2_waiter, NULL) != 0) fail("pthread_create");
    while (!f2waiting) sched_yield();
    pause_ms(50);
    if (syscall(NR_futex_wake, &f2word, 2ul, 1, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE) != 0) fail("futex_wake with a disjoint mask woke someone");
    if (syscall(NR_futex_wake, &f2word, 1ul, 0, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE) != 0) fail("futex_wake with nr 0 woke someone");
    if (wake_until(&f2word, 1ul, 1) != 1) fail("futex_wake never woke the futex_wait waiter");
    pthread_join(t, NULL);

    /* futex_requeue: the waiter moves from f2word to f2other and is woken there. */
    struct waitv v[2] = {
        { 0, (uint64_t)(uintptr_t)&f2word, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, 0 },
        { 0, (uint64_t)(uintptr_t)&f2other, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, 0 },
    };
    expect_err(syscall(NR_futex_requeue, v, 1, 0, 1), EINVAL, "futex_requeue with flags 1");
    v[1].reserved = 1;
    expect_err(syscall(NR_futex_requeue, v, 0, 0, 1), EINVAL, "futex_requeue with __reserved set");
    v[1].reserved = 0;
    v[1].flags = FUTEX2_SIZE_U64;
    expect_err(syscall(NR_futex_requeue, v, 0, 0, 1), EINVAL, "futex_requeue with a 64-bit futex");
    v[1].flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
    v[0].val = 9;
    expect_err(syscall(NR_futex_requeue, v, 0, 0, 1), EAGAIN, "futex_requeue on a changed word");
    v[0].val = 0;
    f2waiting = 0;
    if (pthread_create(&t, NULL, futex2_waiter, NULL) != 0) fail("pthread_create");
    while (!f2waiting) sched_yield();
    long moved = 0;
    for (int tries = 0; tries < 500 && moved == 0; tries++) {
        moved = syscall(NR_futex_requeue, v, 0, 0, 1);
        if (moved < 0) fail("futex_requeue: errno %d", errno);
        if (moved == 0) pause_ms(10);
    }
    if (moved != 1) fail("futex_requeue moved %ld waiters, want 1", moved);
    if (syscall(NR_futex_wake, &f2word, 0xfffffffful, 1, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE) != 0) fail("a requeued waiter was still on the first futex");
    /* Its mask (1) travels with it (requeue_futex moves the whole futex_q): a mask-2 wake
     * on the target misses it. Regression: egg's requeue reset the bitset to all ones. */
    if (syscall(NR_futex_wake, &f2other, 2ul, 1, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE) != 0)
        fail("futex_requeue lost the waiter's bitset");
    if (wake_until(&f2other, 1ul, 1) != 1) fail("the requeued waiter was not on the second futex");
    pthread_join(t, NULL);
}

int main(void)
{
    test_requeue_pi_errors();
    test_proxy_lock();
    test_requeue_onto_held_mutex();
    test_futex2();
    return pass(NULL);
}
