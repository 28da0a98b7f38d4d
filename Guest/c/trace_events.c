/*
 * trace_events.c — epoll, poll, ppoll, statx and the event-fd calls in a fixed order, for
 * the trace-events case of Tests/integration/observability.sh, which compares the
 * `egg run --trace` lines with what strace 6.1 prints on Linux (decoder:
 * Sources/KernelCore/Trace/EventTraceText.swift). The calls go through syscall(2) so that
 * no libc adds or renames one. Layer: guest test programs (Guest/).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* AT_EMPTY_PATH in glibc */
#endif
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>

const char *const test_name = "trace_events";

int main(void)
{
    int fds[2];
    if (syscall(SYS_write, 1, "events\n", 7) != 7)
        fail("write returned something other than 7");
    if (syscall(SYS_pipe2, fds, 0) != 0 || syscall(SYS_write, fds[1], "x", 1) != 1)
        fail("pipe2 or write: %s", strerror(errno));
    long ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = (uint64_t)fds[0] };
    CHECK(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fds[0], &ev) == 0, "epoll_ctl: %s", strerror(errno));
    ev.events = EPOLLOUT;
    ev.data.u64 = 0x100000000ull | (uint64_t)fds[1];
    CHECK(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fds[1], &ev) == 0, "epoll_ctl: %s", strerror(errno));
    CHECK(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, fds[1], NULL) == 0, "epoll_ctl DEL: %s", strerror(errno));
    struct epoll_event out[4];
    CHECK(syscall(SYS_epoll_pwait, ep, out, 4, -1, NULL, 8) == 1, "epoll_pwait: not 1 ready");
    CHECK(syscall(SYS_epoll_pwait, ep, out, 4, 0, NULL, 8) == 0, "edge-triggered: reported twice");
    struct pollfd p[3] = { { .fd = fds[0], .events = POLLIN }, { .fd = fds[1], .events = POLLIN | POLLOUT },
                           { .fd = -1, .events = POLLIN } };
    CHECK(syscall(SYS_poll, p, 3, 1000) == 2, "poll: not 2 ready");
    p[0].events = POLLOUT;
    CHECK(syscall(SYS_poll, p, 1, 0) == 0, "poll: a read end is writable");
    struct timespec ts = { 0, 0 };
    CHECK(syscall(SYS_ppoll, p + 1, 1, &ts, NULL, 8) == 1, "ppoll: not 1 ready");
    char stx[256];
    CHECK(syscall(SYS_statx, fds[0], "", AT_EMPTY_PATH, 0x201 /* STATX_TYPE|STATX_SIZE */, stx) == 0,
          "statx: %s", strerror(errno));
    CHECK(syscall(SYS_statx, AT_FDCWD, "/nonexistent", 0, 0x7ff, NULL) == -1 && errno == ENOENT,
          "statx of a missing file did not fail with ENOENT");
    return pass("%d event calls traced", 12);
}
