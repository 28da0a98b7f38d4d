/*
 * bounded_io.c — huge counts and end of input (issue 12): a write of a count far larger
 * than the buffer behind it must not make the kernel allocate that count (egg panicked
 * asking its heap for it); end of file must stay end of file.
 *  - a datagram socketpair: a count beyond the socket's buffer is EMSGSIZE (unix(7));
 *  - a stream socketpair and a pipe, non-blocking: a count of 2^40 from a one-page buffer
 *    queues what fits or reaches the end of the buffer (EFAULT or a partial count), never
 *    more than was readable;
 *  - read(2) at end of input returns 0 every time: a pipe whose writer closed, and stdin
 *    when it is not a terminal (run.sh gives /dev/null natively; under egg the console in
 *    pipe mode, Sources/KernelCore/Devices/Terminal.swift).
 * Guest test program; Guest/c/check.h gives the verdict helpers.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "check.h"

const char *const test_name = "bounded_io";

/* volatile: the compiler must not see (and refuse) a huge read of a small object. 16 MiB
 * from an mmap'd page stays below the top of user space, so Linux's access_ok in write(2)
 * passes and the socket's own rule decides; 2^40 goes past it (EFAULT at once on Linux). */
static volatile size_t big_count = (size_t)1 << 24;
static volatile size_t huge_count = (size_t)1 << 40;
#define big (size_t)big_count
#define huge (size_t)huge_count

/* One page readable, the next one unmapped: a copy past the page must fault. */
static char *one_page(void)
{
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
    CHECK(munmap(p + 4096, 4096) == 0, "munmap: %s", strerror(errno));
    memset(p, 'a', 4096);
    return p;
}

/* A huge non-blocking write: EFAULT, or a count no larger than the readable page. */
static void check_bounded_write(const char *what, int fd, const char *page, size_t count)
{
    errno = 0;
    ssize_t n = write(fd, page, count);
    int err = errno;
    CHECK((n == -1 && err == EFAULT) || (n > 0 && n <= 4096),
          "%s: write of %zu bytes gave %zd/errno %d (%s)", what, count, n, err, strerror(err));
}

int main(void)
{
    char *page = one_page();
    int sv[2];

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair(DGRAM): %s", strerror(errno));
    CHECK_ERRNO(write(sv[0], page, big), EMSGSIZE);
    CHECK_ERRNO(send(sv[0], page, big, 0), EMSGSIZE);
    CHECK_ERRNO(write(sv[0], page, 212961), EMSGSIZE);   /* one past SO_SNDBUF - 32 */
    errno = 0;
    ssize_t r = write(sv[0], page, huge);
    CHECK(r == -1 && (errno == EFAULT || errno == EMSGSIZE), "datagram of 2^40 bytes: %zd/%s", r, strerror(errno));
    CHECK(write(sv[0], page, 100) == 100, "a small datagram: %s", strerror(errno));
    close(sv[0]);
    close(sv[1]);

    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair(SEQPACKET): %s", strerror(errno));
    CHECK_ERRNO(write(sv[0], page, big), EMSGSIZE);
    close(sv[0]);
    close(sv[1]);

    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0, "socketpair(STREAM): %s", strerror(errno));
    check_bounded_write("stream socketpair", sv[0], page, big);
    check_bounded_write("stream socketpair", sv[0], page, huge);
    close(sv[0]);
    close(sv[1]);

    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2: %s", strerror(errno));
    check_bounded_write("pipe", p[1], page, big);
    check_bounded_write("pipe", p[1], page, huge);
    close(p[1]);
    char buf[8192];
    ssize_t total = 0, n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) total += n;
    CHECK(n == 0, "pipe drained to end of file: %zd/%s", n, strerror(errno));
    CHECK(read(p[0], buf, sizeof buf) == 0, "second read at a pipe's end of file");
    CHECK(read(p[0], buf, sizeof buf) == 0, "third read at a pipe's end of file");
    close(p[0]);

    if (!isatty(0)) {
        while ((n = read(0, buf, sizeof buf)) > 0) {}
        CHECK(n == 0, "stdin to its end: %zd/%s", n, strerror(errno));
        for (int i = 0; i < 3; i++)
            CHECK(read(0, buf, sizeof buf) == 0, "read %d after stdin's end of file", i + 2);
    }
    return pass("huge counts bounded, end of file stays");
}
