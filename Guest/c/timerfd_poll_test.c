/*
 * timerfd_poll_test.c — a timerfd's expiry wakes poll(-1), select(NULL) and epoll_wait(-1)
 * (they used to sleep on until something else happened), and never before the expiry.
 *
 * Layer: guest test program (runs natively and under egg, Tests/integration/run.sh). A 10 s
 * alarm turns a missed wake-up into a death by SIGALRM instead of a hang.
 */
#define _GNU_SOURCE
#include "check.h"
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>

const char *const test_name = "timerfd_poll_test";

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long arm(int fd, long ns)
{
    struct itimerspec its = { .it_value = { 0, ns } };
    long long t0 = now_ns();
    if (timerfd_settime(fd, 0, &its, NULL) != 0) fail("timerfd_settime: %s", strerror(errno));
    return t0;
}

static void drain(int fd, const char *what)
{
    uint64_t n = 0;
    if (read(fd, &n, sizeof n) != sizeof n || n != 1) fail("%s: read %llu expirations, want 1", what, (unsigned long long)n);
}

int main(void)
{
    alarm(10);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    if (fd < 0) fail("timerfd_create: %s", strerror(errno));

    /* poll with no timeout. */
    long long t0 = arm(fd, 30000000L);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = poll(&p, 1, -1);
    if (r != 1 || !(p.revents & POLLIN)) fail("poll(-1) returned %d revents %#x", r, p.revents);
    if (now_ns() - t0 < 30000000LL) fail("poll returned before the timer's 30 ms");
    drain(fd, "poll");

    /* select with no timeout. */
    t0 = arm(fd, 30000000L);
    fd_set in;
    FD_ZERO(&in);
    FD_SET(fd, &in);
    r = select(fd + 1, &in, NULL, NULL, NULL);
    if (r != 1 || !FD_ISSET(fd, &in)) fail("select(NULL) returned %d", r);
    if (now_ns() - t0 < 30000000LL) fail("select returned before the timer's 30 ms");
    drain(fd, "select");

    /* select with a long timeout returns at the expiry, not at its own timeout. */
    t0 = arm(fd, 30000000L);
    FD_ZERO(&in);
    FD_SET(fd, &in);
    struct timeval tv = { 8, 0 };
    r = select(fd + 1, &in, NULL, NULL, &tv);
    if (r != 1 || !FD_ISSET(fd, &in)) fail("select(8 s) returned %d", r);
    if (tv.tv_sec == 0 && tv.tv_usec == 0) fail("select ran to its own timeout");
    drain(fd, "select with timeout");

    /* epoll_wait with no timeout. */
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl: %s", strerror(errno));
    t0 = arm(fd, 30000000L);
    struct epoll_event out;
    r = epoll_wait(ep, &out, 1, -1);
    if (r != 1 || out.data.u32 != 7) fail("epoll_wait(-1) returned %d", r);
    if (now_ns() - t0 < 30000000LL) fail("epoll_wait returned before the timer's 30 ms");
    drain(fd, "epoll");

    alarm(0);
    return pass("poll, select and epoll_wait wake at the timerfd's expiry");
}
