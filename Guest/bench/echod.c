/*
 * echod — the TCP echo server of the bulk-throughput row of `make bench` (benchmark guest).
 *
 * Listens on the port given as argv[1] (default 9000), serves one connection at a time and
 * writes back every byte it reads until the client shuts its side down; then it closes and
 * takes the next connection. A connection whose first byte is 'Q' ends the server (so the
 * Linux VM, where it runs as /init, powers off and egg's run ends). scripts/bench/bench.py
 * runs it natively, under `egg run -p` and in the Linux VM with the same QEMU net flags, and
 * pushes 256 MiB through it from the host, timing the stream each way. Plain blocking
 * read/write with a 256 KiB buffer: what a simple proxy does. Neighbours: bench.c (the other
 * benchmark guest), Guest/c/httpd.c (the HTTP row's server).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buffer[256 * 1024];

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 9000;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        perror("echod: socket");
        return 1;
    }
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 4) != 0) {
        perror("echod: bind/listen");
        return 1;
    }
    printf("echod: listening on %d\n", port);
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        int first = 1;
        for (;;) {
            ssize_t n = read(c, buffer, sizeof buffer);
            if (n <= 0)
                break;
            if (first && buffer[0] == 'Q') {
                close(c);
                close(s);
                return 0;
            }
            first = 0;
            if (write_all(c, buffer, (size_t)n) != 0)
                break;
        }
        close(c);
    }
}
