/*
 * sendfile_socket_test.c — sendfile(2) from a regular file into sockets, self-checking (guest
 * test program).
 *
 * Layer: guest test programs (Guest/c, built by Guest/Makefile, run natively and under egg by
 * Tests/integration/run.sh). Under egg the call is FileSyscalls.sendfile handing chunks to
 * KernelSocket.send (Sources/KernelCore/Sockets/); natively it is Linux's splice path. Pins:
 * the whole file reaches an AF_UNIX stream peer and a TCP loopback peer byte for byte (nginx's
 * static files: the bug was EINVAL toward sockets), the offset pointer moves while the file
 * offset stays, a non-blocking socket takes part and then answers EAGAIN, and a socket as the
 * input is EINVAL. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

const char *const test_name = "sendfile_socket_test";

enum { FILE_SIZE = 60000 };
static unsigned char contents[FILE_SIZE];
static unsigned char received[4 * FILE_SIZE];

/* Read exactly n bytes (the sender already queued them all). */
static void read_all(int fd, unsigned char *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, out + done, n - done);
        CHECK(r > 0, "read after %zu of %zu: %zd %s", done, n, r, strerror(errno));
        done += (size_t)r;
    }
}

static int make_file(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/egg-sendfile-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    unlink(path);
    for (int i = 0; i < FILE_SIZE; i++) contents[i] = (unsigned char)(i * 7 + i / 251);
    CHECK(write(fd, contents, FILE_SIZE) == FILE_SIZE, "write file");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    return fd;
}

static void test_unix_stream(int file)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    /* From the file offset: it advances. */
    CHECK(sendfile(sv[0], file, NULL, FILE_SIZE) == FILE_SIZE, "sendfile to unix stream: %s", strerror(errno));
    CHECK(lseek(file, 0, SEEK_CUR) == FILE_SIZE, "file offset not advanced");
    read_all(sv[1], received, FILE_SIZE);
    CHECK(memcmp(received, contents, FILE_SIZE) == 0, "unix stream bytes differ");
    /* With an offset pointer: it advances, the file offset stays. */
    off_t off = 1000;
    CHECK(sendfile(sv[0], file, &off, 5000) == 5000 && off == 6000, "sendfile with offset: off %ld", (long)off);
    CHECK(lseek(file, 0, SEEK_CUR) == FILE_SIZE, "file offset moved by an offset-pointer sendfile");
    read_all(sv[1], received, 5000);
    CHECK(memcmp(received, contents + 1000, 5000) == 0, "offset bytes differ");
    /* At end of file: 0. */
    CHECK(sendfile(sv[0], file, NULL, 100) == 0, "sendfile at EOF");

    /* Non-blocking with a small buffer: a partial count, then EAGAIN; what went is intact. */
    int small = 4096;
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0 &&
          setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0, "small buffers");
    CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
    size_t total = 0;
    off = 0;
    /* Linux may take all of it (spliced pages are charged little to the send buffer);
     * egg's queue fills. Either way the count, the offset and the bytes must agree. */
    for (int rounds = 0; rounds < 1000 && off < FILE_SIZE; rounds++) {
        ssize_t n = sendfile(sv[0], file, &off, FILE_SIZE - off);
        if (n < 0) {
            CHECK(errno == EAGAIN, "non-blocking sendfile: %s", strerror(errno));
            break;
        }
        CHECK(n > 0, "sendfile returned 0 before the end");
        total += (size_t)n;
        CHECK(off == (off_t)total, "offset %ld after %zu bytes", (long)off, total);
    }
    CHECK(total > 0, "non-blocking sendfile moved nothing");
    read_all(sv[1], received, total);
    CHECK(memcmp(received, contents, total) == 0, "partial bytes differ");
    close(sv[0]);
    close(sv[1]);

    /* A socket is no source. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    CHECK_ERRNO(sendfile(sv[0], sv[1], NULL, 10), EINVAL);
    close(sv[0]);
    close(sv[1]);
}

static void test_tcp(int file)
{
    int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    CHECK(bind(server, (struct sockaddr *)&a, sizeof a) == 0 && listen(server, 1) == 0, "tcp listen");
    CHECK(getsockname(server, (struct sockaddr *)&a, &len) == 0, "getsockname");
    int client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
    int conn = accept(server, NULL, NULL);
    CHECK(conn >= 0, "accept");
    off_t off = 0;
    CHECK(sendfile(conn, file, &off, FILE_SIZE) == FILE_SIZE && off == FILE_SIZE, "sendfile to TCP: %s", strerror(errno));
    read_all(client, received, FILE_SIZE);
    CHECK(memcmp(received, contents, FILE_SIZE) == 0, "TCP bytes differ");
    close(conn);
    CHECK(read(client, received, 1) == 0, "EOF after close");
    close(client);
    close(server);
}

int main(void)
{
    int file = make_file();
    test_unix_stream(file);
    test_tcp(file);
    return pass(NULL);
}
