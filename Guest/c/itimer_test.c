/*
 * itimer_test.c — setitimer(2), getitimer(2) and alarm(2): ITIMER_REAL delivers SIGALRM
 * (one-shot and periodic), ITIMER_VIRTUAL SIGVTALRM and ITIMER_PROF SIGPROF after CPU time
 * in a busy loop; alarm returns the seconds left; invalid arguments give EINVAL.
 *
 * Layer: guest test program (runs natively and under egg, Tests/integration/run.sh). No
 * timing is asserted beyond Linux's guarantee that a timer never fires early; a 10 s
 * wall-clock guard turns a missing signal into a FAIL instead of a hang.
 */
#define _GNU_SOURCE
#include "check.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

const char *const test_name = "itimer_test";

static volatile sig_atomic_t alarms, vtalarms, profs;

static void on_signal(int s)
{
    if (s == SIGALRM) alarms++;
    if (s == SIGVTALRM) vtalarms++;
    if (s == SIGPROF) profs++;
}

static long long now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin in user mode until *counter reaches want; FAIL after 10 s of wall time. */
static void spin_until(volatile sig_atomic_t *counter, int want, const char *what)
{
    long long start = now_ns(CLOCK_MONOTONIC);
    volatile unsigned long sink = 0;
    while (*counter < want) {
        for (int i = 0; i < 10000; i++) sink += (unsigned long)i;
        if (now_ns(CLOCK_MONOTONIC) - start > 10000000000LL)
            fail("%s: signal %d of %d never came", what, *counter + 1, want);
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);

    /* Disarmed: zeros. */
    struct itimerval cur;
    if (getitimer(ITIMER_REAL, &cur) != 0) fail("getitimer: %s", strerror(errno));
    if (cur.it_value.tv_sec || cur.it_value.tv_usec || cur.it_interval.tv_sec || cur.it_interval.tv_usec)
        fail("a disarmed ITIMER_REAL reads %ld.%06ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

    /* Invalid arguments. */
    struct itimerval bad = { .it_value = { 0, 1000000 } };
    errno = 0;
    if (setitimer(ITIMER_REAL, &bad, NULL) != -1 || errno != EINVAL) fail("tv_usec 1000000: want EINVAL, got %s", strerror(errno));
    errno = 0;
    if (getitimer(7, &cur) != -1 || errno != EINVAL) fail("getitimer(7): want EINVAL, got %s", strerror(errno));

    /* alarm: 0 while none is armed; the seconds left (rounded) afterwards. */
    if (alarm(10) != 0) fail("first alarm() returned non-zero");
    unsigned left = alarm(0);
    if (left != 10) fail("alarm(0) after alarm(10) returned %u, want 10", left);

    /* One-shot ITIMER_REAL of 50 ms: getitimer shows it armed, SIGALRM comes, never early. */
    struct itimerval one = { .it_value = { 0, 50000 } };
    long long t0 = now_ns(CLOCK_MONOTONIC);
    if (setitimer(ITIMER_REAL, &one, NULL) != 0) fail("setitimer: %s", strerror(errno));
    if (getitimer(ITIMER_REAL, &cur) != 0) fail("getitimer: %s", strerror(errno));
    if (cur.it_value.tv_sec != 0 || cur.it_value.tv_usec <= 0 || cur.it_value.tv_usec > 50000)
        fail("armed ITIMER_REAL reads %ld.%06ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
    spin_until(&alarms, 1, "ITIMER_REAL one-shot");
    long long took = now_ns(CLOCK_MONOTONIC) - t0;
    if (took < 50000000LL) fail("SIGALRM after %lld ns, before the 50 ms asked", took);
    if (getitimer(ITIMER_REAL, &cur) != 0 || cur.it_value.tv_sec || cur.it_value.tv_usec)
        fail("a fired one-shot timer still reads armed");

    /* Periodic: 10 ms, three signals while blocked in pause(); old value returned. */
    struct itimerval periodic = { .it_interval = { 0, 10000 }, .it_value = { 0, 10000 } };
    if (setitimer(ITIMER_REAL, &periodic, NULL) != 0) fail("setitimer periodic: %s", strerror(errno));
    while (alarms < 4) pause();
    struct itimerval old;
    struct itimerval off = { 0 };
    if (setitimer(ITIMER_REAL, &off, &old) != 0) fail("setitimer off: %s", strerror(errno));
    if (old.it_interval.tv_usec != 10000 || old.it_interval.tv_sec != 0)
        fail("old interval reads %ld.%06ld, want 0.010000", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);

    /* ITIMER_VIRTUAL: 20 ms of user CPU time in a busy loop. */
    struct itimerval cpu = { .it_value = { 0, 20000 } };
    if (setitimer(ITIMER_VIRTUAL, &cpu, NULL) != 0) fail("setitimer virtual: %s", strerror(errno));
    if (getitimer(ITIMER_VIRTUAL, &cur) != 0 || (cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0))
        fail("armed ITIMER_VIRTUAL reads disarmed");
    spin_until(&vtalarms, 1, "ITIMER_VIRTUAL");

    /* ITIMER_PROF: 20 ms of user+system CPU time. */
    if (setitimer(ITIMER_PROF, &cpu, NULL) != 0) fail("setitimer prof: %s", strerror(errno));
    spin_until(&profs, 1, "ITIMER_PROF");

    long long cputime = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    if (cputime <= 0) fail("CLOCK_PROCESS_CPUTIME_ID reads %lld after busy loops", cputime);
    return pass("alarm, ITIMER_REAL one-shot and periodic, VIRTUAL, PROF");
}
