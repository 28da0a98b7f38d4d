/*
 * httpd.c — a small static HTTP/1.1 server: one thread, non-blocking sockets, epoll
 * (level-triggered by default, edge-triggered with --edge), keep-alive. Layer: guest
 * programs; Tests/integration/net.sh drives it with curl and a 200-connection client, and
 * scripts/bench/bench.py with wrk, natively, under `egg run -p`, and in a Linux VM.
 *
 * Usage: httpd PORT [--edge]
 *   GET /      200 with a fixed body ("hello from httpd\n")
 *   GET /exit  200 "bye\n", then the server exits 0 (lets tests end it cleanly)
 *   else       404 (405 for a method other than GET/HEAD)
 * Prints "httpd: listening on port N (level|edge)" once it accepts connections, and
 * "PASS httpd: N requests" when it exits through /exit.
 * HTTP/1.1 connections stay open unless the client sends "Connection: close"; HTTP/1.0
 * ones close unless it sends "Connection: keep-alive" (RFC 9112 §9.3). Pipelined requests
 * are answered in order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST 8192
#define MAX_EVENTS 256

static const char body_ok[] = "hello from httpd\n";

struct connection {
    int fd;
    size_t in_len;
    char in[MAX_REQUEST];
    char *out;          /* bytes not yet written */
    size_t out_len, out_off, out_cap;
    int close_after;    /* close once `out` drains */
};

static int edge;
static int epfd;
static long requests;
static int exit_requested;

static void die(const char *what)
{
    fprintf(stderr, "FAIL httpd: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void append_out(struct connection *c, const char *bytes, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n) cap *= 2;
        char *grown = realloc(c->out, cap);
        if (!grown) die("realloc");
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, bytes, n);
    c->out_len += n;
}

static void respond(struct connection *c, int status, const char *reason, const char *body,
                    int head_only, int keep_alive)
{
    char header[256];
    size_t body_len = strlen(body);
    int n = snprintf(header, sizeof header,
                     "HTTP/1.1 %d %s\r\nServer: egg-httpd\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                     status, reason, body_len, keep_alive ? "keep-alive" : "close");
    append_out(c, header, (size_t)n);
    if (!head_only) append_out(c, body, body_len);
    if (!keep_alive) c->close_after = 1;
}

/* Case-insensitive search for a header line "Name: value" inside [start, end). */
static int header_has(const char *start, const char *end, const char *name, const char *value)
{
    size_t name_len = strlen(name), value_len = strlen(value);
    for (const char *line = start; line < end;) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol) eol = end;
        if ((size_t)(eol - line) > name_len && strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            for (; v + value_len <= eol; v++)
                if (strncasecmp(v, value, value_len) == 0) return 1;
        }
        line = eol + 2;
    }
    return 0;
}

/* Answers every complete request in c->in; returns 0, or -1 for a malformed request. */
static int handle_requests(struct connection *c)
{
    for (;;) {
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end) {
            if (c->in_len == MAX_REQUEST) {
                respond(c, 431, "Request Header Fields Too Large", "too large\n", 0, 0);
                c->in_len = 0;
            }
            return 0;
        }
        size_t request_len = (size_t)(end - c->in) + 4;
        char *line_end = memmem(c->in, request_len, "\r\n", 2);
        char method[16], path[1024], version[16];
        char line[1100];
        size_t line_len = (size_t)(line_end - c->in);
        if (line_len >= sizeof line) return -1;
        memcpy(line, c->in, line_len);
        line[line_len] = 0;
        if (sscanf(line, "%15s %1023s %15s", method, path, version) != 3) return -1;
        int http10 = strcmp(version, "HTTP/1.0") == 0;
        int keep_alive = http10 ? header_has(line_end + 2, end + 2, "Connection", "keep-alive")
                                : !header_has(line_end + 2, end + 2, "Connection", "close");
        int head = strcmp(method, "HEAD") == 0;
        requests++;
        if (strcmp(method, "GET") != 0 && !head)
            respond(c, 405, "Method Not Allowed", "method not allowed\n", 0, keep_alive);
        else if (strcmp(path, "/") == 0)
            respond(c, 200, "OK", body_ok, head, keep_alive);
        else if (strcmp(path, "/exit") == 0) {
            respond(c, 200, "OK", "bye\n", head, 0);
            exit_requested = 1;
        } else
            respond(c, 404, "Not Found", "not found\n", head, keep_alive);
        memmove(c->in, c->in + request_len, c->in_len - request_len);
        c->in_len -= request_len;
        if (c->close_after) {
            c->in_len = 0;
            return 0;
        }
    }
}

static void close_connection(struct connection *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
    free(c);
}

static void set_interest(struct connection *c, int want_write)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0) | (edge ? EPOLLET : 0),
                              .data.ptr = c };
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl MOD");
}

/* Writes what it can; returns 1 when everything went out, 0 if the socket is full, -1 on error. */
static int flush_out(struct connection *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return 0;
        } else {
            return -1;
        }
    }
    c->out_off = c->out_len = 0;
    return 1;
}

/* Read everything available (all of it: edge-triggered needs that), answer, write. */
static void service(struct connection *c, unsigned events)
{
    int peer_closed = (events & (EPOLLHUP | EPOLLERR)) != 0;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        for (;;) {
            if (c->in_len == MAX_REQUEST) {
                if (handle_requests(c) < 0) { close_connection(c); return; }
                if (c->in_len == MAX_REQUEST) break;
            }
            ssize_t n = read(c->fd, c->in + c->in_len, MAX_REQUEST - c->in_len);
            if (n > 0) {
                c->in_len += (size_t)n;
                if (!edge) break;  /* level-triggered: epoll says again if more is there */
            } else if (n == 0) {
                peer_closed = 1;
                break;
            } else if (errno == EINTR) {
                continue;
            } else if (errno == EAGAIN) {
                break;
            } else {
                close_connection(c);
                return;
            }
        }
        if (handle_requests(c) < 0) { close_connection(c); return; }
    }
    int flushed = flush_out(c);
    if (flushed < 0 || (flushed == 1 && (c->close_after || peer_closed))) {
        close_connection(c);
        return;
    }
    if (peer_closed && flushed == 0) {
        /* Half-closed peer still reading: finish writing, then close. */
        c->close_after = 1;
    }
    set_interest(c, flushed == 0);
}

static void accept_all(int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EMFILE || errno == ENFILE) return;
            die("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct connection *c = calloc(1, sizeof *c);
        if (!c) die("calloc");
        c->fd = fd;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (edge ? EPOLLET : 0), .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl ADD");
        if (!edge) return;  /* level-triggered: the next epoll_wait reports the rest */
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: httpd PORT [--edge]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    edge = argc > 2 && strcmp(argv[2], "--edge") == 0;
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0) die("socket");
    int one = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("setsockopt SO_REUSEADDR");
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                                   .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    if (listen(listener, 1024) != 0) die("listen");

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    static int listener_tag;
    struct epoll_event ev = { .events = EPOLLIN | (edge ? EPOLLET : 0), .data.ptr = &listener_tag };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev) != 0) die("epoll_ctl ADD listener");

    printf("httpd: listening on port %d (%s)\n", port, edge ? "edge" : "level");
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    while (!exit_requested) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &listener_tag)
                accept_all(listener);
            else
                service(events[i].data.ptr, events[i].events);
        }
    }
    printf("PASS httpd: %ld requests\n", requests);
    fflush(stdout);
    return 0;
}
