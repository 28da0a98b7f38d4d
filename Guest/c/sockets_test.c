/*
 * sockets_test.c — the socket system calls on loopback, self-checking (guest test program).
 *
 * Layer: guest test programs (Guest/c, built by Guest/Makefile, run natively and under egg by
 * Tests/integration/run.sh). Under egg these calls land in Sources/KernelCore/Sockets/ over
 * the TCP/IP stack in Sources/Net/; natively they exercise Linux, so every expectation here is
 * Linux's own behaviour (socket(2), accept(2), connect(2), send(2), recv(2), socket(7),
 * tcp(7), epoll(7)). One thread: a TCP server and client in one process driven by
 * non-blocking sockets and edge-triggered epoll. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

const char *const test_name = "sockets_test";

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0, "getsockname: %s", strerror(errno));
    CHECK(len == sizeof a && a.sin_family == AF_INET, "getsockname: len %u family %d", len, a.sin_family);
    return ntohs(a.sin_port);
}

/* A TCP listener on 127.0.0.1 (port 0: any), with SO_REUSEADDR when asked. */
static int listener(uint16_t port, int reuse)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0, "socket: %s", strerror(errno));
    if (reuse)
        CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)) == 0, "SO_REUSEADDR: %s", strerror(errno));
    struct sockaddr_in a = loopback(port);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind port %u: %s", port, strerror(errno));
    CHECK(listen(fd, 16) == 0, "listen: %s", strerror(errno));
    return fd;
}

/* Wait (poll) until fd shows one of `events`; returns revents. */
static short wait_for(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    int n = poll(&p, 1, 5000);
    CHECK(n == 1, "poll for 0x%x on %d: %d (%s)", events, fd, n, strerror(errno));
    return p.revents;
}

/* A connected TCP pair through `lfd`: non-blocking connect, EINPROGRESS, SO_ERROR 0. */
static void connect_pair(int lfd, int *client, int *server)
{
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(c >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = loopback(local_port(lfd));
    int rc = connect(c, (struct sockaddr *)&a, sizeof a);
    CHECK(rc == 0 || errno == EINPROGRESS, "non-blocking connect: %s", strerror(errno));
    CHECK(wait_for(c, POLLOUT) & POLLOUT, "connect: not writable");
    int err = -1;
    socklen_t len = sizeof err;
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 && len == sizeof err,
          "SO_ERROR after connect: %d (%s)", err, strerror(err));
    CHECK(wait_for(lfd, POLLIN) & POLLIN, "listener not readable");
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int s = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(s >= 0, "accept4: %s", strerror(errno));
    CHECK(plen == sizeof peer && ntohs(peer.sin_port) == local_port(c), "accept4 peer port %u, client %u",
          ntohs(peer.sin_port), local_port(c));
    CHECK(fcntl(s, F_GETFL) & O_NONBLOCK, "accept4: SOCK_NONBLOCK lost");
    CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC, "accept4: SOCK_CLOEXEC lost");
    *client = c;
    *server = s;
}

static void test_socketpair(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
    CHECK(write(sv[0], "ping", 4) == 4, "socketpair write: %s", strerror(errno));
    char buf[16];
    CHECK(read(sv[1], buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "socketpair read");
    CHECK(shutdown(sv[0], SHUT_WR) == 0, "shutdown: %s", strerror(errno));
    CHECK(read(sv[1], buf, sizeof buf) == 0, "read after peer SHUT_WR is not EOF");
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK(sigpipes == 0, "SIGPIPE despite MSG_NOSIGNAL");
    CHECK_ERRNO(write(sv[0], "x", 1), EPIPE);
    CHECK(sigpipes == 1, "SIGPIPE count %d after write on a shut-down socket", (int)sigpipes);
    close(sv[0]);
    close(sv[1]);

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0, "socketpair dgram: %s", strerror(errno));
    CHECK(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "three", 5, 0) == 5, "dgram send");
    CHECK(recv(sv[1], buf, 2, 0) == 2 && memcmp(buf, "on", 2) == 0, "dgram cut");
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 5 && memcmp(buf, "three", 5) == 0, "dgram boundary");
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, 0), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

static void test_errors(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = loopback(0);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)&a, 8), EINVAL);
    CHECK_ERRNO(bind(fd, (struct sockaddr *)8, sizeof a), EFAULT);
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK_ERRNO(bind(p[0], (struct sockaddr *)&a, sizeof a), ENOTSOCK);
    CHECK_ERRNO(listen(p[0], 1), ENOTSOCK);
    close(p[0]);
    close(p[1]);
    CHECK_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    CHECK_ERRNO(socket(AF_INET, SOCK_STREAM | 0x100, 0), EINVAL);
    CHECK_ERRNO(getsockopt(fd, SOL_SOCKET, 9999, &(int){0}, &(socklen_t){4}), ENOPROTOOPT);
    CHECK_ERRNO(getpeername(fd, (struct sockaddr *)&a, &(socklen_t){sizeof a}), ENOTCONN);
    /* SO_RCVBUF: Linux doubles what it is given. */
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){10000}, sizeof(int)) == 0, "SO_RCVBUF");
    int v = 0;
    socklen_t len = sizeof v;
    CHECK(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v == 20000, "SO_RCVBUF reads %d", v);
    CHECK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "SO_TYPE %d", v);
    CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)) == 0, "TCP_NODELAY");
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v != 0, "TCP_NODELAY reads %d", v);
    close(fd);

    /* Two listeners on one port: EADDRINUSE. */
    int l1 = listener(0, 0);
    int l2 = socket(AF_INET, SOCK_STREAM, 0);
    a = loopback(local_port(l1));
    CHECK_ERRNO(bind(l2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
    close(l2);

    /* Connecting to a port nobody listens on: ECONNREFUSED, blocking and non-blocking. */
    uint16_t closed = local_port(l1);
    close(l1);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    a = loopback(closed);
    CHECK_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(c, (struct sockaddr *)&a, sizeof a);
    CHECK(rc == -1 && (errno == EINPROGRESS || errno == ECONNREFUSED), "non-blocking connect to closed port: %s",
          strerror(errno));
    if (errno == EINPROGRESS) {
        wait_for(c, POLLOUT);
        int err = 0;
        len = sizeof err;
        CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ECONNREFUSED,
              "SO_ERROR after refused connect: %d", err);
    }
    close(c);
}

static void test_udp(void)
{
    int server = socket(AF_INET, SOCK_DGRAM, 0), client = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(server >= 0 && client >= 0, "udp socket: %s", strerror(errno));
    struct sockaddr_in a = loopback(0);
    CHECK(bind(server, (struct sockaddr *)&a, sizeof a) == 0, "udp bind: %s", strerror(errno));
    a = loopback(local_port(server));
    CHECK(sendto(client, "datagram!", 9, 0, (struct sockaddr *)&a, sizeof a) == 9, "sendto: %s", strerror(errno));
    CHECK(sendto(client, "tail", 4, 0, (struct sockaddr *)&a, sizeof a) == 4, "sendto 2: %s", strerror(errno));
    CHECK(wait_for(server, POLLIN) & POLLIN, "udp not readable");
    int n = 0;
    CHECK(ioctl(server, FIONREAD, &n) == 0 && n == 9, "FIONREAD on udp: %d", n);
    char buf[32];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    CHECK(recvfrom(server, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &flen) == 9, "MSG_TRUNC length");
    CHECK(memcmp(buf, "data", 4) == 0, "udp payload");
    CHECK(flen == sizeof from && ntohs(from.sin_port) == local_port(client) &&
          from.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "udp sender");
    struct iovec iov = { buf, sizeof buf };
    struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
    CHECK(recvmsg(server, &m, 0) == 4 && memcmp(buf, "tail", 4) == 0, "recvmsg: %s", strerror(errno));
    CHECK(m.msg_namelen == sizeof from && m.msg_flags == 0, "recvmsg namelen %u flags %x", m.msg_namelen, m.msg_flags);
    CHECK_ERRNO(recv(server, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(server);
    close(client);
}

#define TOTAL (1 << 20)

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* 1 MiB from client to server through edge-triggered epoll; EPOLLRDHUP on the shutdown. */
static void test_tcp_transfer(void)
{
    int lfd = listener(0, 1), client, server;
    connect_pair(lfd, &client, &server);

    struct sockaddr_in x, y;
    socklen_t xl = sizeof x, yl = sizeof y;
    CHECK(getpeername(server, (struct sockaddr *)&x, &xl) == 0 && getsockname(client, (struct sockaddr *)&y, &yl) == 0,
          "names: %s", strerror(errno));
    CHECK(xl == yl && memcmp(&x, &y, sizeof x) == 0, "server's peer is not the client's name");

    /* FIONREAD sees what was sent. */
    CHECK(send(client, "0123456789", 10, 0) == 10, "send: %s", strerror(errno));
    CHECK(wait_for(server, POLLIN) & POLLIN, "server not readable");
    int n = 0;
    CHECK(ioctl(server, FIONREAD, &n) == 0 && n == 10, "FIONREAD: %d", n);
    char small[16];
    CHECK(recv(server, small, sizeof small, MSG_PEEK) == 10, "MSG_PEEK");
    CHECK(read(server, small, sizeof small) == 10 && memcmp(small, "0123456789", 10) == 0, "read after peek");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = server };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev) == 0, "epoll_ctl server: %s", strerror(errno));
    ev = (struct epoll_event){ .events = EPOLLOUT | EPOLLET, .data.fd = client };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev) == 0, "epoll_ctl client: %s", strerror(errno));

    static unsigned char out[65536], in[65536];
    size_t sent = 0, received = 0;
    uint32_t hs = 2166136261u, hr = 2166136261u;
    int rdhup = 0, eof = 0, shut = 0, waits = 0;
    while (!eof) {
        struct epoll_event events[4];
        int k = epoll_wait(ep, events, 4, 5000);
        CHECK(k > 0, "epoll_wait: %d (%s) after %zu sent, %zu received", k, strerror(errno), sent, received);
        CHECK(++waits < 100000, "too many epoll_wait rounds");
        for (int i = 0; i < k; i++) {
            if (events[i].data.fd == client && (events[i].events & EPOLLOUT)) {
                while (sent < TOTAL) {
                    size_t chunk = TOTAL - sent < sizeof out ? TOTAL - sent : sizeof out;
                    for (size_t j = 0; j < chunk; j++)
                        out[j] = (unsigned char)((sent + j) * 131 + ((sent + j) >> 9));
                    ssize_t w = write(client, out, chunk);
                    if (w < 0) {
                        CHECK(errno == EAGAIN, "write: %s", strerror(errno));
                        break;
                    }
                    hs = fnv(hs, out, (size_t)w);
                    sent += (size_t)w;
                }
                if (sent == TOTAL && !shut) {
                    CHECK(shutdown(client, SHUT_WR) == 0, "shutdown: %s", strerror(errno));
                    shut = 1;
                }
            }
            if (events[i].data.fd == server) {
                if (events[i].events & EPOLLRDHUP)
                    rdhup = 1;
                for (;;) {
                    ssize_t r = read(server, in, sizeof in);
                    if (r < 0) {
                        CHECK(errno == EAGAIN, "read: %s", strerror(errno));
                        break;
                    }
                    if (r == 0) {
                        eof = 1;
                        break;
                    }
                    hr = fnv(hr, in, (size_t)r);
                    received += (size_t)r;
                }
            }
        }
    }
    CHECK(received == TOTAL && hr == hs, "received %zu bytes (checksum %08x, sent %08x)", received, hr, hs);
    /* The FIN may have come in while the loop was reading: its edge is reported next. */
    for (int tries = 0; !rdhup && tries < 4; tries++) {
        struct epoll_event events[4];
        int k = epoll_wait(ep, events, 4, 1000);
        for (int i = 0; i < k; i++)
            if (events[i].data.fd == server && (events[i].events & EPOLLRDHUP))
                rdhup = 1;
    }
    CHECK(rdhup, "no EPOLLRDHUP after the peer's shutdown");
    close(ep);
    close(client);
    close(server);
    close(lfd);
}

/* EPOLLONESHOT disarms after one report until EPOLL_CTL_MOD. */
static void test_oneshot(void)
{
    int lfd = listener(0, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = 7 };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == 0, "epoll_ctl: %s", strerror(errno));
    struct sockaddr_in a = loopback(local_port(lfd));
    int c1 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(c1, (struct sockaddr *)&a, sizeof a);
    struct epoll_event got;
    CHECK(epoll_wait(ep, &got, 1, 5000) == 1 && got.data.u32 == 7, "oneshot: first report");
    CHECK(epoll_wait(ep, &got, 1, 50) == 0, "oneshot: reported twice");
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, lfd, &ev) == 0, "EPOLL_CTL_MOD: %s", strerror(errno));
    CHECK(epoll_wait(ep, &got, 1, 5000) == 1, "oneshot: not re-armed");
    int s = accept(lfd, NULL, NULL);
    CHECK(s >= 0, "accept: %s", strerror(errno));
    close(s);
    close(c1);
    close(ep);
    close(lfd);
}

/* SO_REUSEADDR: a port still held by a closing connection can be bound again. */
static void test_reuseaddr(void)
{
    int lfd = listener(0, 1), client, server;
    uint16_t port = local_port(lfd);
    connect_pair(lfd, &client, &server);
    CHECK(write(server, "bye", 3) == 3, "write: %s", strerror(errno));
    close(server);  /* the active close: the server side ends in TIME_WAIT */
    close(lfd);
    wait_for(client, POLLIN);
    char buf[8];
    CHECK(read(client, buf, sizeof buf) == 3, "read bye");
    close(client);
    int again = listener(port, 1);
    CHECK(local_port(again) == port, "rebound to another port");
    close(again);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    CHECK(sigaction(SIGPIPE, &sa, NULL) == 0, "sigaction");
    test_socketpair();
    test_errors();
    test_udp();
    test_tcp_transfer();
    test_oneshot();
    test_reuseaddr();
    return pass("socketpair, errors, udp, 1 MiB over tcp with epoll, oneshot, reuseaddr");
}
