/*
 * timeouts_test.c — huge and malformed timeouts in every call that sleeps (issue 12).
 *
 * A timeout of {LLONG_MAX, 0} (or an absolute deadline that far away) is valid: Linux
 * saturates it at KTIME_MAX and sleeps until the event or a signal (timespec64_to_ktime,
 * ktime_add_safe). A negative tv_sec or a tv_nsec outside [0, 999999999] is EINVAL
 * (timespec64_valid). egg used to trap in the handler (futex, clock_nanosleep) or return at
 * once (nanosleep, select). Each huge wait here is ended by a helper thread that sends
 * SIGUSR1 (a handler without SA_RESTART) every 50 ms until the call has returned, so the
 * test never sleeps for real and cannot hang on a lost signal; the call must fail with
 * EINTR after having waited. Guest test program; Guest/c/check.h gives the verdict helpers.
 * The kernel side: Sources/KernelCore/Threads/Deadline.swift and its callers.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include "check.h"

/* include/uapi/linux/futex.h (musl has no linux/ headers). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_CLOCK_REALTIME 256

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

const char *const test_name = "timeouts_test";

static pthread_t main_thread;
static volatile int call_returned;
static volatile sig_atomic_t signals_seen;

static void on_signal(int s) { (void)s; signals_seen++; }

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

/* Interrupts the main thread every 50 ms until the call under test has returned. */
static void *interrupter(void *arg)
{
    (void)arg;
    while (!call_returned) {
        pause_ms(50);
        if (!call_returned) pthread_kill(main_thread, SIGUSR1);
    }
    return NULL;
}

static pthread_t helper;
static long long started;

static void begin(void)
{
    call_returned = 0;
    if (pthread_create(&helper, NULL, interrupter, NULL) != 0) fail("pthread_create failed");
    started = now_ms();
}

/* The call returned `rc` with `err`: it must be an interrupted wait of at least 40 ms. */
static void end_interrupted(const char *what, long rc, int err, int returns_error)
{
    call_returned = 1;
    long long waited = now_ms() - started;
    pthread_join(helper, NULL);
    if (returns_error) {
        CHECK(rc == EINTR, "%s: expected EINTR, got %ld", what, rc);
    } else {
        CHECK(rc == -1 && err == EINTR, "%s: expected -1/EINTR, got %ld/errno %d (%s)", what, rc, err, strerror(err));
    }
    CHECK(waited >= 40, "%s returned after %lld ms: it did not wait", what, waited);
}

static long futex(volatile int *word, int op, int value, const struct timespec *timeout, int value3)
{
    return syscall(SYS_futex, word, op, value, timeout, NULL, value3);
}

static const struct timespec forever = { LLONG_MAX, 0 };
static const struct timespec forever_nsec = { LLONG_MAX, 999999999 };
static const struct timespec negative = { -1, 0 };
static const struct timespec bad_nsec = { 0, 1000000000 };
static const struct timespec negative_nsec = { 0, -1 };

static void test_nanosleep(void)
{
    struct timespec rem = { 0, 0 };
    begin();
    long rc = nanosleep(&forever, &rem);
    end_interrupted("nanosleep({LLONG_MAX, 0})", rc, errno, 0);
    CHECK(rem.tv_sec > 1000000000LL, "nanosleep left %lld s, expected about KTIME_MAX", (long long)rem.tv_sec);
    CHECK(rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000L, "nanosleep rem.tv_nsec %ld", rem.tv_nsec);
    CHECK_ERRNO(nanosleep(&negative, NULL), EINVAL);
    CHECK_ERRNO(nanosleep(&bad_nsec, NULL), EINVAL);
    CHECK_ERRNO(nanosleep(&negative_nsec, NULL), EINVAL);
}

static void test_clock_nanosleep(void)
{
    begin();
    long rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &forever, NULL);
    end_interrupted("clock_nanosleep(REALTIME, ABSTIME, LLONG_MAX)", rc, 0, 1);
    begin();
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &forever_nsec, NULL);
    end_interrupted("clock_nanosleep(MONOTONIC, ABSTIME, LLONG_MAX.999999999)", rc, 0, 1);
    struct timespec rem = { 0, 0 };
    begin();
    rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &forever, &rem);
    end_interrupted("clock_nanosleep(MONOTONIC, relative LLONG_MAX)", rc, 0, 1);
    CHECK(rem.tv_sec > 1000000000LL, "clock_nanosleep left %lld s", (long long)rem.tv_sec);
    struct timespec past = { 1, 0 };
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL);
    CHECK(rc == 0, "clock_nanosleep to a past time: %ld", rc);
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &negative, NULL);
    CHECK(rc == EINVAL, "clock_nanosleep(negative): expected EINVAL, got %ld", rc);
    rc = clock_nanosleep(CLOCK_REALTIME, 0, &bad_nsec, NULL);
    CHECK(rc == EINVAL, "clock_nanosleep(tv_nsec 1e9): expected EINVAL, got %ld", rc);
}

static volatile int futex_word = 7;
static volatile int waker_stop;

/* FUTEX_WAKE every 30 ms until told to stop: the waiter must wake despite a huge timeout. */
static void *waker(void *arg)
{
    (void)arg;
    while (!waker_stop) {
        pause_ms(30);
        futex(&futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
    }
    return NULL;
}

static void test_futex(void)
{
    begin();
    long rc = futex(&futex_word, FUTEX_WAIT_PRIVATE, 7, &forever, 0);
    end_interrupted("FUTEX_WAIT({LLONG_MAX, 0})", rc, errno, 0);
    begin();
    rc = futex(&futex_word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &forever, -1);
    end_interrupted("FUTEX_WAIT_BITSET|CLOCK_REALTIME(abs LLONG_MAX)", rc, errno, 0);
    begin();
    rc = futex(&futex_word, FUTEX_WAIT_BITSET_PRIVATE, 7, &forever_nsec, -1);
    end_interrupted("FUTEX_WAIT_BITSET(abs LLONG_MAX.999999999)", rc, errno, 0);

    pthread_t w;
    waker_stop = 0;
    if (pthread_create(&w, NULL, waker, NULL) != 0) fail("pthread_create failed");
    rc = futex(&futex_word, FUTEX_WAIT_PRIVATE, 7, &forever, 0);
    int err = errno;
    waker_stop = 1;
    pthread_join(w, NULL);
    CHECK(rc == 0, "FUTEX_WAIT with a huge timeout, then FUTEX_WAKE: %ld/errno %d", rc, err);

    /* The timeout is checked before the futex word (kernel/futex/syscalls.c). */
    CHECK_ERRNO(futex(&futex_word, FUTEX_WAIT_PRIVATE, 8, &negative, 0), EINVAL);
    CHECK_ERRNO(futex(&futex_word, FUTEX_WAIT_PRIVATE, 7, &bad_nsec, 0), EINVAL);
    CHECK_ERRNO(futex(&futex_word, FUTEX_WAIT_BITSET_PRIVATE, 7, &negative_nsec, -1), EINVAL);
    struct timespec short_wait = { 0, 1000000 };
    CHECK_ERRNO(futex(&futex_word, FUTEX_WAIT_PRIVATE, 7, &short_wait, 0), ETIMEDOUT);
}

static void test_select_and_poll(void)
{
    struct timeval tv = { LLONG_MAX, 999999 };
    begin();
    long rc = select(0, NULL, NULL, NULL, &tv);
    end_interrupted("select({LLONG_MAX, 999999})", rc, errno, 0);
    struct timeval bad = { 0, -1 };
    CHECK_ERRNO(select(0, NULL, NULL, NULL, &bad), EINVAL);
    struct timeval negative_tv = { -1, 0 };
    CHECK_ERRNO(select(0, NULL, NULL, NULL, &negative_tv), EINVAL);

    begin();
    rc = pselect(0, NULL, NULL, NULL, &forever, NULL);
    end_interrupted("pselect({LLONG_MAX, 0})", rc, errno, 0);
    CHECK_ERRNO(pselect(0, NULL, NULL, NULL, &bad_nsec, NULL), EINVAL);

    begin();
    rc = ppoll(NULL, 0, &forever, NULL);
    end_interrupted("ppoll({LLONG_MAX, 0})", rc, errno, 0);
    CHECK_ERRNO(ppoll(NULL, 0, &negative, NULL), EINVAL);
    CHECK_ERRNO(ppoll(NULL, 0, &bad_nsec, NULL), EINVAL);

    int ep = epoll_create1(0);
    CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    struct epoll_event ev;
    begin();
    rc = syscall(SYS_epoll_pwait2, ep, &ev, 1, &forever, NULL, 8);
    end_interrupted("epoll_pwait2({LLONG_MAX, 0})", rc, errno, 0);
    CHECK_ERRNO(syscall(SYS_epoll_pwait2, ep, &ev, 1, &negative, NULL, 8), EINVAL);
    CHECK_ERRNO(syscall(SYS_epoll_pwait2, ep, &ev, 1, &negative_nsec, NULL, 8), EINVAL);
    close(ep);
}

static void test_timerfd(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK(fd >= 0, "timerfd_create: %s", strerror(errno));
    struct itimerspec huge = { forever_nsec, forever };
    CHECK(timerfd_settime(fd, 0, &huge, NULL) == 0, "timerfd_settime(huge): %s", strerror(errno));
    struct itimerspec now;
    CHECK(timerfd_gettime(fd, &now) == 0, "timerfd_gettime: %s", strerror(errno));
    CHECK(now.it_value.tv_sec > 1000000000LL, "timerfd armed for %lld s only", (long long)now.it_value.tv_sec);
    CHECK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &huge, NULL) == 0, "timerfd_settime(abs huge): %s", strerror(errno));
    struct itimerspec bad = { { 0, 0 }, bad_nsec };
    CHECK_ERRNO(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
    struct itimerspec bad_interval = { negative, { 1, 0 } };
    CHECK_ERRNO(timerfd_settime(fd, 0, &bad_interval, NULL), EINVAL);
    /* Fires once after 1 ms; the next expiry, LLONG_MAX seconds later, never comes. */
    struct itimerspec once = { forever, { 0, 1000000 } };
    CHECK(timerfd_settime(fd, 0, &once, NULL) == 0, "timerfd_settime(once): %s", strerror(errno));
    uint64_t count = 0;
    CHECK(read(fd, &count, 8) == 8 && count == 1, "timerfd read: count %llu", (unsigned long long)count);
    close(fd);
}

static void test_socket_timeout(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
    struct timeval tv = { LLONG_MAX, 0 };
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO: %s", strerror(errno));
    char c;
    begin();
    long rc = read(sv[0], &c, 1);
    end_interrupted("read with SO_RCVTIMEO {LLONG_MAX, 0}", rc, errno, 0);
    struct timeval bad = { 0, 1000000 };
    CHECK_ERRNO(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &bad, sizeof bad), EDOM);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;   /* no SA_RESTART: an interrupted wait fails with EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0) fail("sigaction: %s", strerror(errno));

    test_nanosleep();
    test_clock_nanosleep();
    test_futex();
    test_select_and_poll();
    test_timerfd();
    test_socket_timeout();
    CHECK(signals_seen >= 12, "only %d signals handled", (int)signals_seen);
    return pass("huge timeouts wait, invalid ones are EINVAL");
}
