/*
 * echo_server.c — a TCP echo server for data-integrity tests: every byte a client sends
 * comes back, in order, until the client shuts down its side. Layer: guest programs;
 * Tests/integration/net.sh moves 256 MiB both ways through it (natively and under `egg run
 * -p`) and compares checksums on the host (Tests/integration/net_client.py).
 *
 * Usage: echo_server PORT [CONNECTIONS]
 * Blocking sockets, one connection at a time; with CONNECTIONS it exits after serving that
 * many, printing "PASS echo_server: N connections, M bytes" (M counts one direction).
 * Prints "echo_server: listening on port N" when ready.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buffer[256 * 1024];

static void die(const char *what)
{
    fprintf(stderr, "FAIL echo_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Echo until EOF; returns the bytes echoed, or -1 on an error (the connection is dropped). */
static long long echo(int fd)
{
    long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n == 0) return total;
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buffer + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            off += w;
        }
        total += n;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: echo_server PORT [CONNECTIONS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long limit = argc > 2 ? atol(argv[2]) : 0;
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) die("socket");
    int one = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("setsockopt");
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                                   .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    if (listen(listener, 16) != 0) die("listen");
    printf("echo_server: listening on port %d\n", port);
    fflush(stdout);

    long served = 0;
    long long bytes = 0;
    int failures = 0;
    while (limit == 0 || served < limit) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            die("accept");
        }
        long long n = echo(fd);
        close(fd);
        served++;
        if (n < 0) failures++; else bytes += n;
    }
    if (failures) {
        printf("FAIL echo_server: %d of %ld connections failed\n", failures, served);
        return 1;
    }
    printf("PASS echo_server: %ld connections, %lld bytes\n", served, bytes);
    return 0;
}
