/*
 * futex_stress.c — threads hammering a mutex, a condition-variable ping-pong, and raw futex
 * calls with their Linux error rules: FUTEX_WAIT with a wrong value is EAGAIN, a timed wait
 * times out with ETIMEDOUT, FUTEX_WAKE returns how many it woke. Layer: guest test programs.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include "check.h"

/* From linux/futex.h (musl-gcc has no kernel headers). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

const char *const test_name = "futex_stress";

enum { THREADS = 8, INCREMENTS = 20000, ROUNDS = 2000 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;

static void *increment(void *arg)
{
    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

static void *pong(void *arg)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        while (turn != 1)
            pthread_cond_wait(&cond, &lock);
        turn = 0;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static uint32_t word;

static void *waker(void *arg)
{
    (void)arg;
    /* Wait until main is (very likely) parked, then wake it. */
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) != 1)
        sched_yield();
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    __atomic_store_n(&word, 2, __ATOMIC_SEQ_CST);
    long woken = futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL);
    return (void *)woken;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, increment, NULL) == 0, "pthread_create");
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(counter == (long)THREADS * INCREMENTS, "counter %ld, expected %ld", counter, (long)THREADS * INCREMENTS);

    pthread_t p;
    CHECK(pthread_create(&p, NULL, pong, NULL) == 0, "pthread_create");
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        turn = 1;
        pthread_cond_signal(&cond);
        while (turn != 0)
            pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
    }
    pthread_join(p, NULL);

    word = 5;
    errno = 0;
    CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL) == -1 && errno == EAGAIN,
          "FUTEX_WAIT with a stale value: errno %d, expected EAGAIN", errno);
    struct timespec shortly = {0, 30 * 1000 * 1000};
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    errno = 0;
    CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 5, &shortly) == -1 && errno == ETIMEDOUT,
          "timed FUTEX_WAIT: errno %d, expected ETIMEDOUT", errno);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long waited = (after.tv_sec - before.tv_sec) * 1000000000L + after.tv_nsec - before.tv_nsec;
    CHECK(waited >= 29 * 1000 * 1000, "timed FUTEX_WAIT returned after %ld ns", waited);
    CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL) == 0, "FUTEX_WAKE with no waiters");

    word = 1;
    pthread_t w;
    CHECK(pthread_create(&w, NULL, waker, NULL) == 0, "pthread_create");
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 1) {
        long r = futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL);
        CHECK(r == 0 || errno == EAGAIN || errno == EINTR, "FUTEX_WAIT: %s", strerror(errno));
    }
    void *woken;
    pthread_join(w, &woken);
    CHECK((long)woken <= 1, "FUTEX_WAKE(1) woke %ld", (long)woken);
    return pass("%d threads x %d increments, %d ping-pongs", THREADS, INCREMENTS, ROUNDS);
}
