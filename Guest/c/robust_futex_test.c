/*
 * robust_futex_test.c — robust mutexes (pthread_mutexattr_setrobust): a thread that exits
 * holding the mutex leaves it to the next locker with EOWNERDEAD, both for a locker that was
 * already waiting and for one that comes later; pthread_mutex_consistent makes it usable
 * again. Also get_robust_list(0) returns the head that libc registered, size 24.
 *
 * Layer: guest test program (runs natively and under egg, Tests/integration/run.sh). The
 * kernel side is the exit-time walk in Sources/KernelCore/Threads/Futex.swift.
 */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

const char *const test_name = "robust_futex_test";

static pthread_mutex_t mutex;
static volatile int holder_locked;

static void *hold_and_exit(void *arg)
{
    (void)arg;
    if (pthread_mutex_lock(&mutex) != 0) fail("holder could not lock");
    holder_locked = 1;
    struct timespec nap = { 0, 30000000L };
    nanosleep(&nap, NULL);  /* give the main thread time to block on the mutex */
    return NULL;            /* exits holding it */
}

static void *waiter(void *arg)
{
    int r = pthread_mutex_lock(&mutex);
    *(int *)arg = r;
    if (r == EOWNERDEAD) {
        pthread_mutex_consistent(&mutex);
        pthread_mutex_unlock(&mutex);
    } else if (r == 0) {
        pthread_mutex_unlock(&mutex);
    }
    return NULL;
}

static void init_mutex(int protocol, int pshared)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, pshared);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setprotocol(&attr, protocol);
    if (pthread_mutex_init(&mutex, &attr) != 0) fail("pthread_mutex_init");
    pthread_mutexattr_destroy(&attr);
}

static void round_trip(int protocol, int pshared, const char *kind)
{
    init_mutex(protocol, pshared);
    holder_locked = 0;
    pthread_t h, w;
    int waiter_result = -1;
    if (pthread_create(&h, NULL, hold_and_exit, NULL) != 0) fail("pthread_create");
    while (!holder_locked) sched_yield();
    /* A locker already waiting when the owner dies. */
    if (pthread_create(&w, NULL, waiter, &waiter_result) != 0) fail("pthread_create");
    pthread_join(h, NULL);
    pthread_join(w, NULL);
    if (waiter_result != EOWNERDEAD) fail("%s: the waiting locker got %d (%s), want EOWNERDEAD", kind, waiter_result, strerror(waiter_result));

    /* Consistent again: an ordinary lock and unlock. */
    if (pthread_mutex_lock(&mutex) != 0) fail("%s: lock after consistent failed", kind);
    pthread_mutex_unlock(&mutex);

    /* A locker that comes after the owner died. */
    holder_locked = 0;
    if (pthread_create(&h, NULL, hold_and_exit, NULL) != 0) fail("pthread_create");
    pthread_join(h, NULL);
    int r = pthread_mutex_lock(&mutex);
    if (r != EOWNERDEAD) fail("%s: a later locker got %d (%s), want EOWNERDEAD", kind, r, strerror(r));
    pthread_mutex_consistent(&mutex);
    pthread_mutex_unlock(&mutex);
    pthread_mutex_destroy(&mutex);
}

int main(void)
{
    /* glibc registers a robust list head for every thread at start-up; musl keeps private
     * robust mutexes on its own list and registers the kernel's for process-shared ones.
     * Either way, while a process-shared one is held the head is there. */
    init_mutex(PTHREAD_PRIO_NONE, PTHREAD_PROCESS_SHARED);
    pthread_mutex_lock(&mutex);
    void *head = NULL;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &len) != 0) fail("get_robust_list: %s", strerror(errno));
    if (head == NULL || len != 24) fail("get_robust_list: head %p len %zu", head, len);
    pthread_mutex_unlock(&mutex);
    pthread_mutex_destroy(&mutex);
    errno = 0;
    if (syscall(SYS_get_robust_list, 0x3fffffff, &head, &len) != -1 || errno != ESRCH) fail("get_robust_list(no such tid): want ESRCH, got %s", strerror(errno));

    round_trip(PTHREAD_PRIO_NONE, PTHREAD_PROCESS_PRIVATE, "robust");
    round_trip(PTHREAD_PRIO_NONE, PTHREAD_PROCESS_SHARED, "robust shared");
    round_trip(PTHREAD_PRIO_INHERIT, PTHREAD_PROCESS_PRIVATE, "robust PI");
    return pass("EOWNERDEAD for waiting and later lockers, plain and PI");
}
