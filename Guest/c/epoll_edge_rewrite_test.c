/*
 * epoll_edge_rewrite_test — an edge-triggered epoll interest reports EPOLLIN again after
 * each write to a pipe or AF_UNIX stream socket that is already readable (guest test).
 *
 * Linux's ep_poll_callback (fs/eventpoll.c) queues the item on every wake-up of the
 * watched file, and pipe_write / unix_stream_sendmsg wake it on every write, so epoll(7)'s
 * "edge" is a new arrival, not only a rise from empty. Programs that drain lazily depend
 * on it. Checked here: one report per write, none without one, and none after a read that
 * leaves data behind. Runs natively and under egg (Tests/integration/run.sh);
 * neighbours: epoll_nested_test.c, sockets_test.c. Kernel side: Events/Epoll.swift
 * pollWakeup.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

const char *const test_name = "epoll_edge_rewrite_test";

/* epoll_wait with no timeout: how many interests it reports, and their events. */
static int ready(int ep, unsigned *events)
{
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, 0);
    CHECK(n >= 0, "epoll_wait: %s", strerror(errno));
    if (n > 0 && events)
        *events = ev[0].events;
    return n;
}

static void check_source(const char *what, int reader, int writer)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = 7 };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, reader, &ev) == 0, "%s: epoll_ctl ADD: %s", what, strerror(errno));
    unsigned got = 0;
    CHECK(ready(ep, NULL) == 0, "%s: ready before any write", what);
    CHECK(write(writer, "a", 1) == 1, "%s: write 1: %s", what, strerror(errno));
    CHECK(ready(ep, &got) == 1 && (got & EPOLLIN), "%s: no EPOLLIN after the first write", what);
    CHECK(ready(ep, NULL) == 0, "%s: reported twice for one write", what);
    /* Still readable; a second write is a new edge. */
    CHECK(write(writer, "b", 1) == 1, "%s: write 2: %s", what, strerror(errno));
    CHECK(ready(ep, &got) == 1 && (got & EPOLLIN), "%s: no new edge for a write to a readable %s", what, what);
    CHECK(ready(ep, NULL) == 0, "%s: reported twice for the second write", what);
    /* A read that leaves a byte is no edge. */
    char c;
    CHECK(read(reader, &c, 1) == 1 && c == 'a', "%s: read", what);
    CHECK(ready(ep, NULL) == 0, "%s: a partial read made an edge", what);
    /* Three writes before one wait: one report (the item is queued once). */
    for (int i = 0; i < 3; i++)
        CHECK(write(writer, "c", 1) == 1, "%s: write: %s", what, strerror(errno));
    CHECK(ready(ep, &got) == 1 && (got & EPOLLIN), "%s: no edge after three writes", what);
    CHECK(ready(ep, NULL) == 0, "%s: more than one report for three writes", what);
    close(ep);
}

int main(void)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2: %s", strerror(errno));
    check_source("pipe", p[0], p[1]);
    int s[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair: %s", strerror(errno));
    check_source("unix stream socket", s[0], s[1]);
    return pass(NULL);
}
