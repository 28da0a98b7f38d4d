/*
 * pi_mutex_test.c — PTHREAD_PRIO_INHERIT mutexes (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI /
 * FUTEX_TRYLOCK_PI) under contention: four threads increment a shared counter 20000 times
 * each under the mutex, so no increment is lost; trylock on a held mutex is EBUSY;
 * an error-checking PI mutex relocked by its owner is EDEADLK; unlock by a non-owner of an
 * error-checking PI mutex is EPERM. Raw futex calls check the kernel's word protocol:
 * FUTEX_UNLOCK_PI by a non-owner is EPERM, FUTEX_LOCK_PI by the owner EDEADLK,
 * FUTEX_TRYLOCK_PI on a word naming a TID with no thread ESRCH.
 *
 * Layer: guest test program (runs natively and under egg, Tests/integration/run.sh).
 */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>

const char *const test_name = "pi_mutex_test";

/* include/uapi/linux/futex.h (musl's headers do not ship it). */
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8

#define THREADS 4
#define ROUNDS 20000

static pthread_mutex_t mutex;
static long counter;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (pthread_mutex_lock(&mutex) != 0) fail("lock failed");
        long c = counter;
        if ((i & 255) == 0) sched_yield();  /* hold it across a switch now and then */
        counter = c + 1;
        pthread_mutex_unlock(&mutex);
    }
    return NULL;
}

static volatile int held;
static volatile int release_it;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mutex);
    held = 1;
    while (!release_it) sched_yield();
    pthread_mutex_unlock(&mutex);
    return NULL;
}

static long futex(uint32_t *word, int op)
{
    return syscall(SYS_futex, word, op, 0, NULL, NULL, 0);
}

int main(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    if (pthread_mutex_init(&mutex, &attr) != 0) fail("pthread_mutex_init");

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0) fail("pthread_create");
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    if (counter != (long)THREADS * ROUNDS) fail("counter %ld, want %ld: the mutex let increments race", counter, (long)THREADS * ROUNDS);

    /* Held by another thread: trylock is EBUSY, unlock by us EPERM. */
    pthread_t h;
    pthread_create(&h, NULL, holder, NULL);
    while (!held) sched_yield();
    int r = pthread_mutex_trylock(&mutex);
    if (r != EBUSY) fail("trylock of a held PI mutex: %d (%s), want EBUSY", r, strerror(r));
    r = pthread_mutex_unlock(&mutex);
    if (r != EPERM) fail("unlock by a non-owner: %d (%s), want EPERM", r, strerror(r));
    release_it = 1;
    pthread_join(h, NULL);

    /* Relock by the owner of an error-checking mutex. */
    if (pthread_mutex_lock(&mutex) != 0) fail("lock");
    r = pthread_mutex_lock(&mutex);
    if (r != EDEADLK) fail("relock: %d (%s), want EDEADLK", r, strerror(r));
    pthread_mutex_unlock(&mutex);

    /* The kernel's answers on raw words. */
    uint32_t me = (uint32_t)syscall(SYS_gettid);
    uint32_t word = me;
    errno = 0;
    if (futex(&word, FUTEX_LOCK_PI) != -1 || errno != EDEADLK) fail("FUTEX_LOCK_PI by the owner: want EDEADLK, got %s", strerror(errno));
    if (futex(&word, FUTEX_UNLOCK_PI) != 0 || word != 0) fail("FUTEX_UNLOCK_PI by the owner: %s, word %#x", strerror(errno), word);
    if (futex(&word, FUTEX_TRYLOCK_PI) != 0 || word != me) fail("FUTEX_TRYLOCK_PI on 0: %s, word %#x", strerror(errno), word);
    word = me + 1000000;  /* a TID with no thread */
    errno = 0;
    if (futex(&word, FUTEX_UNLOCK_PI) != -1 || errno != EPERM) fail("FUTEX_UNLOCK_PI by a non-owner: want EPERM, got %s", strerror(errno));
    errno = 0;
    if (futex(&word, FUTEX_TRYLOCK_PI) != -1 || errno != ESRCH) fail("FUTEX_TRYLOCK_PI with a dead owner: want ESRCH, got %s", strerror(errno));
    return pass("%d threads x %d locks, EBUSY, EPERM, EDEADLK, ESRCH", THREADS, ROUNDS);
}
