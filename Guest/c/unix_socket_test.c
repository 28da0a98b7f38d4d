/*
 * unix_socket_test.c — AF_UNIX sockets, self-checking (guest test program).
 *
 * Layer: guest test programs (Guest/c, built by Guest/Makefile, run natively and under egg by
 * Tests/integration/run.sh). Under egg these calls land in Sources/KernelCore/Sockets/
 * (UnixSocketCalls.swift, UnixSocketEnd.swift, UnixSocketNames.swift); natively they exercise
 * Linux, so every expectation is Linux's own behaviour (unix(7), cmsg(3), socket(7)).
 * Covers: binding to a path (a socket inode, EADDRINUSE, unlink, ENXIO on open, ECONNREFUSED
 * for a non-socket), abstract names and autobind, the listen backlog, a blocking accept in a
 * peer thread, datagram addressing, seqpacket boundaries, SCM_RIGHTS passing a pipe end
 * (with MSG_CTRUNC), SCM_CREDENTIALS, SO_PEERCRED, shutdown and poll, MSG_PEEK, MSG_WAITALL.
 * Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

const char *const test_name = "unix_socket_test";

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

/* A path address and its length as bind wants it. */
static socklen_t path_address(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* An abstract address: a NUL then `name` (no terminating NUL counted). */
static socklen_t abstract_address(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void test_path_bind(void)
{
    char path[64], file[64];
    snprintf(path, sizeof path, "/tmp/egg-unix-%d.sock", (int)getpid());
    snprintf(file, sizeof file, "/tmp/egg-unix-%d.file", (int)getpid());
    unlink(path);
    struct sockaddr_un a;
    socklen_t len = path_address(&a, path);
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(server >= 0, "socket: %s", strerror(errno));
    CHECK(bind(server, (struct sockaddr *)&a, len) == 0, "bind path: %s", strerror(errno));
    /* Already bound: the path in use answers first (EADDRINUSE), a new path EINVAL. */
    CHECK_ERRNO(bind(server, (struct sockaddr *)&a, len), EADDRINUSE);
    struct sockaddr_un a2;
    char path2[80];
    snprintf(path2, sizeof path2, "%s2", path);
    socklen_t len2 = path_address(&a2, path2);
    CHECK_ERRNO(bind(server, (struct sockaddr *)&a2, len2), EINVAL);
    CHECK_ERRNO(access(path2, F_OK), ENOENT);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "bound path is not a socket inode");
    CHECK_ERRNO(open(path, O_RDONLY), ENXIO);
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERRNO(bind(other, (struct sockaddr *)&a, len), EADDRINUSE);

    struct sockaddr_un got;
    socklen_t gl = sizeof got;
    CHECK(getsockname(server, (struct sockaddr *)&got, &gl) == 0, "getsockname");
    CHECK(gl == len && strcmp(got.sun_path, path) == 0, "getsockname length %u, want %u", gl, len);

    /* Not listening yet: refused. */
    CHECK_ERRNO(connect(other, (struct sockaddr *)&a, len), ECONNREFUSED);
    CHECK(listen(server, 4) == 0, "listen: %s", strerror(errno));
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr *)&a, len) == 0, "connect: %s", strerror(errno));
    CHECK_ERRNO(connect(client, (struct sockaddr *)&a, len), EISCONN);
    struct pollfd p = { .fd = server, .events = POLLIN };
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN), "listener not readable with a connection queued");
    struct sockaddr_un peer;
    socklen_t pl = sizeof peer;
    int conn = accept(server, (struct sockaddr *)&peer, &pl);
    CHECK(conn >= 0, "accept: %s", strerror(errno));
    CHECK(pl == offsetof(struct sockaddr_un, sun_path), "accept address length %u for an unbound client", pl);
    pl = sizeof peer;
    CHECK(getpeername(client, (struct sockaddr *)&peer, &pl) == 0 && pl == len && strcmp(peer.sun_path, path) == 0,
          "client's getpeername");
    pl = sizeof peer;
    CHECK(getsockname(conn, (struct sockaddr *)&peer, &pl) == 0 && pl == len, "accepted socket's getsockname");
    CHECK(write(client, "ping", 4) == 4, "write");
    char buf[64];
    CHECK(read(conn, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "read");

    /* SO_PEERCRED on both sides. */
    struct ucred cred;
    socklen_t cl = sizeof cred;
    CHECK(getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cl == sizeof cred, "SO_PEERCRED");
    CHECK(cred.pid == getpid() && cred.uid == getuid() && cred.gid == getgid(),
          "SO_PEERCRED %d/%u/%u", (int)cred.pid, cred.uid, cred.gid);
    int v = 0;
    socklen_t vl = sizeof v;
    CHECK(getsockopt(server, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1, "SO_ACCEPTCONN");
    CHECK(getsockopt(conn, SOL_SOCKET, SO_DOMAIN, &v, &vl) == 0 && v == AF_UNIX, "SO_DOMAIN");
    CHECK(getsockopt(conn, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM, "SO_TYPE");

    /* A name that is not a socket refuses; a missing one is ENOENT; unlink removes the name. */
    int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0, "create %s", file);
    close(fd);
    struct sockaddr_un fa;
    socklen_t fal = path_address(&fa, file);
    CHECK_ERRNO(connect(other, (struct sockaddr *)&fa, fal), ECONNREFUSED);
    unlink(file);
    CHECK_ERRNO(connect(other, (struct sockaddr *)&fa, fal), ENOENT);
    CHECK(unlink(path) == 0, "unlink socket");
    CHECK_ERRNO(connect(other, (struct sockaddr *)&a, len), ENOENT);
    gl = sizeof got;
    CHECK(getsockname(server, (struct sockaddr *)&got, &gl) == 0 && gl == len, "name kept after unlink");
    /* The path is free again. */
    CHECK(bind(other, (struct sockaddr *)&a, len) == 0, "rebind after unlink: %s", strerror(errno));
    close(other);
    /* The socket is gone but its name stays: connect is refused. */
    int late = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERRNO(connect(late, (struct sockaddr *)&a, len), ECONNREFUSED);
    close(late);
    unlink(path);
    close(client);
    close(conn);
    close(server);
}

static void test_abstract_and_backlog(void)
{
    char name[64];
    snprintf(name, sizeof name, "egg-abstract-%d", (int)getpid());
    struct sockaddr_un a;
    socklen_t len = abstract_address(&a, name);
    int server = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(bind(server, (struct sockaddr *)&a, len) == 0, "bind abstract: %s", strerror(errno));
    int dup_name = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERRNO(bind(dup_name, (struct sockaddr *)&a, len), EADDRINUSE);
    struct sockaddr_un got;
    socklen_t gl = sizeof got;
    CHECK(getsockname(server, (struct sockaddr *)&got, &gl) == 0 && gl == len && got.sun_path[0] == 0 &&
          memcmp(got.sun_path + 1, name, strlen(name)) == 0, "abstract getsockname length %u want %u", gl, len);
    CHECK(listen(server, 1) == 0, "listen");
    CHECK_ERRNO(accept(server, NULL, NULL), EAGAIN);
    /* Backlog 1 holds two waiting connections (unix_recvq_full is "more than backlog"). */
    int c[3];
    for (int i = 0; i < 3; i++) c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(connect(c[0], (struct sockaddr *)&a, len) == 0, "connect 0: %s", strerror(errno));
    CHECK(connect(c[1], (struct sockaddr *)&a, len) == 0, "connect 1: %s", strerror(errno));
    CHECK_ERRNO(connect(c[2], (struct sockaddr *)&a, len), EAGAIN);
    int s0 = accept4(server, NULL, NULL, SOCK_CLOEXEC);
    CHECK(s0 >= 0 && (fcntl(s0, F_GETFD) & FD_CLOEXEC), "accept4 CLOEXEC");
    CHECK(connect(c[2], (struct sockaddr *)&a, len) == 0, "connect after accept: %s", strerror(errno));
    /* Closing the listener resets the connections it had not accepted. */
    close(server);
    char buf[8];
    CHECK_ERRNO(read(c[1], buf, sizeof buf), ECONNRESET);
    CHECK(read(c[1], buf, sizeof buf) == 0, "EOF after the reset");
    int fresh = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERRNO(connect(fresh, (struct sockaddr *)&a, len), ECONNREFUSED);
    /* The accepted one still works. */
    CHECK(write(c[0], "x", 1) == 1 && read(s0, buf, 1) == 1 && buf[0] == 'x', "accepted connection");
    for (int i = 0; i < 3; i++) close(c[i]);
    close(s0);
    close(fresh);

    /* Autobind: a bare family gives a NUL and five hex digits. */
    int auto_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un bare = { .sun_family = AF_UNIX };
    CHECK(bind(auto_fd, (struct sockaddr *)&bare, sizeof(sa_family_t)) == 0, "autobind: %s", strerror(errno));
    gl = sizeof got;
    CHECK(getsockname(auto_fd, (struct sockaddr *)&got, &gl) == 0 && gl == offsetof(struct sockaddr_un, sun_path) + 6 &&
          got.sun_path[0] == 0, "autobind name length %u", gl);
    for (int i = 1; i < 6; i++) {
        char ch = got.sun_path[i];
        CHECK((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'), "autobind name not hex");
    }
    close(auto_fd);
    close(dup_name);
}

static void test_datagram(void)
{
    char na[64], nb[64], nc[64];
    snprintf(na, sizeof na, "egg-dgram-a-%d", (int)getpid());
    snprintf(nb, sizeof nb, "egg-dgram-b-%d", (int)getpid());
    snprintf(nc, sizeof nc, "egg-dgram-c-%d", (int)getpid());
    struct sockaddr_un aa, ab, ac;
    socklen_t la = abstract_address(&aa, na), lb = abstract_address(&ab, nb), lc = abstract_address(&ac, nc);
    int a = socket(AF_UNIX, SOCK_DGRAM, 0), b = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(a, (struct sockaddr *)&aa, la) == 0 && bind(b, (struct sockaddr *)&ab, lb) == 0 &&
          bind(c, (struct sockaddr *)&ac, lc) == 0, "dgram binds: %s", strerror(errno));
    CHECK_ERRNO(send(a, "x", 1, 0), ENOTCONN);
    CHECK(sendto(a, "hello", 5, 0, (struct sockaddr *)&ab, lb) == 5, "sendto: %s", strerror(errno));
    CHECK(sendto(c, "from-c", 6, 0, (struct sockaddr *)&ab, lb) == 6, "sendto from c");
    char buf[64];
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    CHECK(recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 5 && memcmp(buf, "hello", 5) == 0,
          "recvfrom");
    CHECK(fl == la && memcmp(from.sun_path + 1, na, strlen(na)) == 0, "sender address length %u want %u", fl, la);
    fl = sizeof from;
    CHECK(recvfrom(b, buf, 2, 0, (struct sockaddr *)&from, &fl) == 2 && fl == lc, "second datagram cut");
    CHECK_ERRNO(recv(b, buf, sizeof buf, 0), EAGAIN);   /* the cut tail is gone */
    /* b connected to a takes datagrams from a only. */
    CHECK(connect(b, (struct sockaddr *)&aa, la) == 0, "dgram connect");
    CHECK_ERRNO(sendto(c, "no", 2, 0, (struct sockaddr *)&ab, lb), EPERM);
    CHECK(send(b, "reply", 5, 0) == 5, "send on connected dgram");
    CHECK(recv(a, buf, sizeof buf, 0) == 5 && memcmp(buf, "reply", 5) == 0, "reply");
    /* The destination closed: ECONNREFUSED. */
    close(a);
    CHECK_ERRNO(send(b, "gone", 4, 0), ECONNREFUSED);
    close(b);
    close(c);
}

static void test_seqpacket(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair seqpacket: %s", strerror(errno));
    CHECK(send(sv[0], "abc", 3, 0) == 3 && send(sv[0], "defgh", 5, 0) == 5, "seqpacket sends");
    char buf[16];
    struct iovec iov = { buf, 2 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    CHECK(recvmsg(sv[1], &m, 0) == 2 && (m.msg_flags & MSG_TRUNC), "seqpacket record cut, MSG_TRUNC");
    CHECK(recv(sv[1], buf, sizeof buf, MSG_PEEK) == 5, "peek keeps the record");
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 5 && memcmp(buf, "defgh", 5) == 0, "seqpacket boundary");
    int v;
    socklen_t vl = sizeof v;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_SEQPACKET, "SO_TYPE seqpacket");
    close(sv[0]);
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 0, "seqpacket EOF after peer close");
    close(sv[1]);
}

static void send_fds(int sock, const int *fds, int n, const char *byte)
{
    char control[CMSG_SPACE(4 * sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { (void *)byte, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    CHECK(sendmsg(sock, &m, 0) == 1, "sendmsg SCM_RIGHTS: %s", strerror(errno));
}

static void test_rights(void)
{
    int sv[2], p[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0, "socketpair/pipe");
    send_fds(sv[0], &p[0], 1, "A");
    close(p[0]);   /* the one in flight keeps the read end open */
    char buf[8];
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { buf, sizeof buf };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    CHECK(recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) == 1 && buf[0] == 'A', "recvmsg with rights: %s", strerror(errno));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)),
          "SCM_RIGHTS header");
    CHECK(!(m.msg_flags & MSG_CTRUNC), "unexpected MSG_CTRUNC");
    int got;
    memcpy(&got, CMSG_DATA(c), sizeof got);
    CHECK(fcntl(got, F_GETFD) & FD_CLOEXEC, "MSG_CMSG_CLOEXEC not applied");
    CHECK(write(p[1], "through", 7) == 7, "pipe write");
    CHECK(read(got, buf, sizeof buf) == 7 && memcmp(buf, "through", 7) == 0, "read through the passed pipe end");
    close(got);

    /* Two descriptors, room for one: MSG_CTRUNC, and the other is closed. */
    int two[2];
    CHECK(pipe(two) == 0, "pipe");
    int pair[2] = { two[0], two[1] };
    send_fds(sv[0], pair, 2, "B");
    char small[CMSG_LEN(sizeof(int))];
    m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = small, .msg_controllen = sizeof small };
    CHECK(recvmsg(sv[1], &m, 0) == 1 && buf[0] == 'B', "recvmsg B");
    CHECK(m.msg_flags & MSG_CTRUNC, "no MSG_CTRUNC with room for one of two descriptors");
    c = CMSG_FIRSTHDR(&m);
    CHECK(c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)), "truncated SCM_RIGHTS header");
    memcpy(&got, CMSG_DATA(c), sizeof got);
    CHECK(fcntl(got, F_GETFD) >= 0, "the descriptor that fit is open");
    close(got);
    close(two[0]);
    close(two[1]);

    /* Bytes before a message with descriptors are read with it, and the read stops after
     * it (unix_stream_read_generic). */
    CHECK(write(sv[0], "ab", 2) == 2, "write ab");
    send_fds(sv[0], &p[1], 1, "C");
    CHECK(write(sv[0], "de", 2) == 2, "write de");
    m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    CHECK(recvmsg(sv[1], &m, 0) == 3 && memcmp(buf, "abC", 3) == 0, "glued read");
    CHECK((c = CMSG_FIRSTHDR(&m)) && c->cmsg_type == SCM_RIGHTS, "rights with the glued read");
    memcpy(&got, CMSG_DATA(c), sizeof got);
    close(got);
    CHECK(read(sv[1], buf, sizeof buf) == 2 && memcmp(buf, "de", 2) == 0, "read after the stretch");

    /* No control buffer at all: MSG_CTRUNC. */
    send_fds(sv[0], &p[1], 1, "C");
    m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
    CHECK(recvmsg(sv[1], &m, 0) == 1 && (m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0, "MSG_CTRUNC without control");
    /* Bad descriptor in SCM_RIGHTS: EBADF. */
    int bad = 999;
    char cb[CMSG_SPACE(sizeof(int))];
    memset(cb, 0, sizeof cb);
    struct iovec one = { "D", 1 };
    struct msghdr bm = { .msg_iov = &one, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb };
    c = CMSG_FIRSTHDR(&bm);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &bad, sizeof bad);
    CHECK_ERRNO(sendmsg(sv[0], &bm, 0), EBADF);
    close(p[1]);

    /* SO_PASSCRED: the sender's credentials arrive as SCM_CREDENTIALS. */
    int on = 1;
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "SO_PASSCRED");
    CHECK(write(sv[0], "E", 1) == 1, "write E");
    char cc[CMSG_SPACE(sizeof(struct ucred))];
    m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cc, .msg_controllen = sizeof cc };
    CHECK(recvmsg(sv[1], &m, 0) == 1 && buf[0] == 'E', "recvmsg E");
    c = CMSG_FIRSTHDR(&m);
    CHECK(c && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred)), "SCM_CREDENTIALS header");
    struct ucred u;
    memcpy(&u, CMSG_DATA(c), sizeof u);
    CHECK(u.pid == getpid() && u.uid == getuid() && u.gid == getgid(), "SCM_CREDENTIALS %d/%u/%u", (int)u.pid, u.uid, u.gid);
    close(sv[0]);
    close(sv[1]);

    /* Rights over a datagram pair. */
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && pipe(p) == 0, "dgram pair");
    send_fds(sv[0], &p[1], 1, "F");
    close(p[1]);
    m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    CHECK(recvmsg(sv[1], &m, 0) == 1 && (c = CMSG_FIRSTHDR(&m)) && c->cmsg_type == SCM_RIGHTS, "dgram rights");
    memcpy(&got, CMSG_DATA(c), sizeof got);
    CHECK(write(got, "w", 1) == 1 && read(p[0], buf, 1) == 1 && buf[0] == 'w', "write through passed write end");
    close(got);
    CHECK(read(p[0], buf, 1) == 0, "pipe EOF once the passed end is closed");
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
}

static void test_shutdown_and_flags(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    char buf[16];
    CHECK(write(sv[0], "0123456789", 10) == 10, "write");
    CHECK(recv(sv[1], buf, 4, MSG_PEEK) == 4 && memcmp(buf, "0123", 4) == 0, "MSG_PEEK");
    CHECK(recv(sv[1], buf, 10, MSG_WAITALL) == 10 && memcmp(buf, "0123456789", 10) == 0, "MSG_WAITALL");
    CHECK_ERRNO(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK(shutdown(sv[0], SHUT_WR) == 0, "SHUT_WR");
    struct pollfd p = { .fd = sv[1], .events = POLLIN | POLLRDHUP };
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLRDHUP) && (p.revents & POLLIN) && !(p.revents & POLLHUP),
          "poll after peer SHUT_WR: %#x", p.revents);
    CHECK(read(sv[1], buf, sizeof buf) == 0, "EOF after SHUT_WR");
    CHECK_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK(sigpipes == 0, "SIGPIPE despite MSG_NOSIGNAL");
    CHECK_ERRNO(write(sv[0], "x", 1), EPIPE);
    CHECK(sigpipes == 1, "no SIGPIPE");
    CHECK(shutdown(sv[1], SHUT_WR) == 0, "SHUT_WR other way");
    p = (struct pollfd){ .fd = sv[1], .events = POLLIN | POLLRDHUP };
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP), "POLLHUP after both directions shut: %#x", p.revents);
    close(sv[0]);
    close(sv[1]);
    /* An unconnected stream socket polls as hung up and writable. */
    int lone = socket(AF_UNIX, SOCK_STREAM, 0);
    p = (struct pollfd){ .fd = lone, .events = POLLIN | POLLOUT };
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP), "unconnected stream poll %#x", p.revents);
    close(lone);
}

/* A peer thread: accept one connection (blocking), read a request, answer. */
static void *server_thread(void *arg)
{
    int server = *(int *)arg;
    int conn = accept(server, NULL, NULL);
    if (conn < 0) return (void *)"accept";
    char buf[16];
    ssize_t n = recv(conn, buf, 5, MSG_WAITALL);
    if (n != 5 || memcmp(buf, "hello", 5) != 0) return (void *)"request";
    if (write(conn, "world", 5) != 5) return (void *)"reply";
    close(conn);
    return NULL;
}

static void test_threads(void)
{
    char name[64];
    snprintf(name, sizeof name, "egg-thread-%d", (int)getpid());
    struct sockaddr_un a;
    socklen_t len = abstract_address(&a, name);
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(server, (struct sockaddr *)&a, len) == 0 && listen(server, 8) == 0, "server");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, server_thread, &server) == 0, "pthread_create");
    usleep(20000);   /* let the thread block in accept */
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr *)&a, len) == 0, "connect: %s", strerror(errno));
    CHECK(write(client, "hel", 3) == 3, "write 1");
    usleep(20000);   /* the server's MSG_WAITALL must wait for the rest */
    CHECK(write(client, "lo", 2) == 2, "write 2");
    char buf[16];
    CHECK(recv(client, buf, 5, MSG_WAITALL) == 5 && memcmp(buf, "world", 5) == 0, "reply");
    CHECK(read(client, buf, sizeof buf) == 0, "EOF after the server closed");
    void *r;
    CHECK(pthread_join(t, &r) == 0 && r == NULL, "server thread: %s", r ? (char *)r : "join");
    close(client);
    close(server);
}

int main(void)
{
    signal(SIGPIPE, on_sigpipe);
    test_path_bind();
    test_abstract_and_backlog();
    test_datagram();
    test_seqpacket();
    test_rights();
    test_shutdown_and_flags();
    test_threads();
    return pass(NULL);
}
