/*
 * futex_waitv_test.c — futex_waitv(2) (syscall 449): a thread waits on three futexes and
 * another wakes the third, so the call returns index 2; a word that already differs gives
 * EAGAIN; an absolute timeout already past gives ETIMEDOUT; bad flags give EINVAL.
 *
 * Layer: guest test program (runs natively — Linux 5.16 or later — and under egg,
 * Tests/integration/run.sh). A 10 s alarm turns a lost wake-up into a failure, not a hang.
 */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

const char *const test_name = "futex_waitv_test";

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE 128
#define FUTEX_WAKE_PRIVATE (1 | 128)

struct waitv { uint64_t val, uaddr; uint32_t flags, reserved; };

static uint32_t words[3];
static volatile int waiting;

static void *waker(void *arg)
{
    (void)arg;
    while (!waiting) sched_yield();
    struct timespec nap = { 0, 20000000L };
    nanosleep(&nap, NULL);  /* let the main thread reach the kernel */
    __atomic_store_n(&words[2], 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &words[2], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return NULL;
}

static long waitv(struct waitv *w, unsigned n, unsigned flags, struct timespec *timeout, int clock)
{
    return syscall(SYS_futex_waitv, w, n, flags, timeout, clock);
}

int main(void)
{
    alarm(10);
    struct waitv w[3];
    for (int i = 0; i < 3; i++)
        w[i] = (struct waitv){ .val = 0, .uaddr = (uintptr_t)&words[i], .flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE };

    /* A word that differs from its expected value: EAGAIN at once. */
    words[1] = 5;
    errno = 0;
    if (waitv(w, 3, 0, NULL, 0) != -1 || errno != EAGAIN) fail("mismatched word: want EAGAIN, got %s", strerror(errno));
    words[1] = 0;

    /* An absolute CLOCK_MONOTONIC timeout already past: ETIMEDOUT. */
    struct timespec past = { 0, 1 };
    errno = 0;
    if (waitv(w, 3, 0, &past, CLOCK_MONOTONIC) != -1 || errno != ETIMEDOUT) fail("past timeout: want ETIMEDOUT, got %s", strerror(errno));

    /* Argument checks. */
    errno = 0;
    if (waitv(w, 3, 1, NULL, 0) != -1 || errno != EINVAL) fail("flags 1: want EINVAL, got %s", strerror(errno));
    errno = 0;
    if (waitv(w, 0, 0, NULL, 0) != -1 || errno != EINVAL) fail("no futexes: want EINVAL, got %s", strerror(errno));
    w[0].flags = 0;  /* no size */
    errno = 0;
    if (waitv(w, 3, 0, NULL, 0) != -1 || errno != EINVAL) fail("size 0: want EINVAL, got %s", strerror(errno));
    w[0].flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;

    /* Woken through the third futex. */
    pthread_t t;
    if (pthread_create(&t, NULL, waker, NULL) != 0) fail("pthread_create");
    waiting = 1;
    long r;
    do {
        r = waitv(w, 3, 0, NULL, 0);
    } while (r == -1 && errno == EAGAIN && __atomic_load_n(&words[2], __ATOMIC_SEQ_CST) == 0);
    /* EAGAIN after the store is a correct answer too (the word changed before the sleep). */
    if (!(r == 2 || (r == -1 && errno == EAGAIN))) fail("futex_waitv returned %ld (%s), want 2", r, strerror(errno));
    pthread_join(t, NULL);
    alarm(0);
    return pass("woken on index 2; EAGAIN, ETIMEDOUT, EINVAL");
}
