/*
 * events.c — pipes, eventfd, timerfd and epoll as Linux defines them: a pipe between two
 * threads, EAGAIN on an empty non-blocking pipe, EOF after the writer closes, EPIPE when the
 * reader is gone (SIGPIPE ignored), eventfd counting, a periodic timerfd seen through
 * epoll_wait, edge-triggered and one-shot epoll semantics. Layer: guest test programs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include "check.h"

const char *const test_name = "events";

static int pipe_fds[2];

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "message %d\n", i);
        if (write(pipe_fds[1], line, (size_t)n) != n)
            return (void *)1;
    }
    close(pipe_fds[1]);
    return NULL;
}

int main(void)
{
    /* Pipe between threads: everything arrives, then EOF. */
    CHECK(pipe(pipe_fds) == 0, "pipe: %s", strerror(errno));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer, NULL) == 0, "pthread_create");
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
        total += (size_t)n;
    void *result;
    pthread_join(t, &result);
    CHECK(result == NULL, "writer failed");
    CHECK(n == 0 && total == 1090, "pipe carried %zu bytes (then %zd), expected 1090 then EOF", total, n);
    close(pipe_fds[0]);

    /* Non-blocking empty pipe: EAGAIN; reader gone: EPIPE. */
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2");
    errno = 0;
    CHECK(read(p[0], buf, 1) == -1 && errno == EAGAIN, "empty non-blocking read: errno %d", errno);
    signal(SIGPIPE, SIG_IGN);
    close(p[0]);
    errno = 0;
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE, "write with no reader: errno %d", errno);
    close(p[1]);

    /* eventfd: writes add up, a read takes all; semaphore mode takes one. */
    int efd = eventfd(0, EFD_NONBLOCK);
    CHECK(efd >= 0, "eventfd: %s", strerror(errno));
    uint64_t v = 3;
    CHECK(write(efd, &v, 8) == 8 && write(efd, &v, 8) == 8, "eventfd write");
    CHECK(read(efd, &v, 8) == 8 && v == 6, "eventfd read %llu, expected 6", (unsigned long long)v);
    errno = 0;
    CHECK(read(efd, &v, 8) == -1 && errno == EAGAIN, "empty eventfd: errno %d", errno);

    /* epoll: the eventfd (edge-triggered) and a 10 ms periodic timerfd. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0xE17};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "epoll_ctl eventfd");
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == -1 && errno == EEXIST, "second ADD: errno %d", errno);
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 0) == 0, "nothing should be ready yet");
    v = 1;
    CHECK(write(efd, &v, 8) == 8, "eventfd write");
    CHECK(epoll_wait(ep, out, 4, 1000) == 1 && out[0].data.u64 == 0xE17 && (out[0].events & EPOLLIN),
          "eventfd not reported readable");
    CHECK(epoll_wait(ep, out, 4, 0) == 0, "edge-triggered event reported twice");

    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    CHECK(tfd >= 0, "timerfd_create: %s", strerror(errno));
    struct itimerspec its = {.it_interval = {0, 10000000}, .it_value = {0, 10000000}};
    /* The clock starts before the timer is armed: the third expiry is 30 ms after arming,
     * and the calls in between may take milliseconds on a slow (emulated) machine. */
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK(timerfd_settime(tfd, 0, &its, NULL) == 0, "timerfd_settime");
    ev.events = EPOLLIN;
    ev.data.u64 = 0x71;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) == 0, "epoll_ctl timerfd");
    int ticks = 0;
    while (ticks < 3) {
        int r = epoll_wait(ep, out, 4, 2000);
        CHECK(r == 1 && out[0].data.u64 == 0x71, "timer wait returned %d", r);
        uint64_t expirations;
        CHECK(read(tfd, &expirations, 8) == 8 && expirations >= 1, "timerfd read");
        ticks += (int)expirations;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    long ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    CHECK(ms >= 25, "3 ticks of 10 ms took only %ld ms", ms);

    /* One-shot: reported once until re-armed with MOD. */
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, tfd, NULL) == 0, "EPOLL_CTL_DEL");
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 0x1;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) == 0, "EPOLL_CTL_MOD");
    v = 1;
    CHECK(write(efd, &v, 8) == 8, "eventfd write");
    CHECK(epoll_wait(ep, out, 4, 1000) == 1, "one-shot event not reported");
    CHECK(epoll_wait(ep, out, 4, 0) == 0, "one-shot event reported twice");
    close(tfd);
    close(efd);
    close(ep);
    return pass("pipe, eventfd, timerfd, epoll (ET, ONESHOT)");
}
