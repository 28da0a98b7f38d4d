/*
 * fifo_test.c — named pipes, O_TMPFILE and sendfile into a pipe, checked against Linux's
 * documented behaviour: fifo(7), open(2) (FIFO open rules, O_TMPFILE), mkfifo(3),
 * linkat(2) AT_EMPTY_PATH, sendfile(2).
 *
 * Layer: guest test programs (Guest/). Runs natively and under egg (Tests/integration/run.sh,
 * the fifo_test-* cases); prints one verdict line. Under egg the FIFO is a VFS inode
 * (Sources/KernelCore/VFS/Fifo.swift), O_TMPFILE and linkat are PathSyscalls.swift, sendfile
 * is FileSyscalls.swift.
 *
 * Checks: mkfifo makes an S_IFIFO node; O_WRONLY|O_NONBLOCK with no reader is ENXIO;
 * O_RDONLY|O_NONBLOCK opens at once and reads EOF with no writer, EAGAIN with an idle one;
 * a blocking O_RDONLY open waits in one thread until another opens for writing (and the
 * reverse), then 200 KB cross the FIFO intact; O_RDWR never blocks; O_TMPFILE makes an
 * unnamed regular file (nlink 0) that is written and read back, refuses O_RDONLY (EINVAL),
 * and gets a name through linkat(AT_EMPTY_PATH); sendfile moves bytes from it into a pipe
 * and advances *offset.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include "check.h"

const char *const test_name = "fifo_test";

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

static char fifo_path[64];
#define BIG (200 * 1024)

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static uint32_t pattern(size_t i) { return (uint32_t)((i * 2654435761u) >> 24) & 0xff; }

/* Opens the FIFO for reading (blocking) and reads to EOF; returns the byte count, or -1
 * if a byte differs from the pattern. */
static void *reader_thread(void *arg)
{
    (void)arg;
    int fd = open(fifo_path, O_RDONLY);
    if (fd < 0)
        return (void *)(intptr_t)-2;
    static unsigned char buf[8192];
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return (void *)(intptr_t)-3;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern((size_t)total + (size_t)i)) {
                close(fd);
                return (void *)(intptr_t)-1;
            }
        total += n;
    }
    close(fd);
    return (void *)(intptr_t)total;
}

/* Opens the FIFO for writing (blocking) and writes "from the writer thread". */
static void *writer_thread(void *arg)
{
    (void)arg;
    int fd = open(fifo_path, O_WRONLY);
    if (fd < 0)
        return (void *)(intptr_t)-errno;
    const char text[] = "from the writer thread";
    ssize_t n = write(fd, text, sizeof text - 1);
    close(fd);
    return (void *)(intptr_t)n;
}

static void write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n > 0, "write to the FIFO: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static void check_fifo(void)
{
    snprintf(fifo_path, sizeof fifo_path, "/tmp/egg-fifo-test.%d", (int)getpid());
    unlink(fifo_path);
    CHECK(mkfifo(fifo_path, 0600) == 0, "mkfifo %s: %s", fifo_path, strerror(errno));
    struct stat st;
    CHECK(stat(fifo_path, &st) == 0, "stat: %s", strerror(errno));
    CHECK(S_ISFIFO(st.st_mode), "st_mode %o is not S_IFIFO", st.st_mode);
    CHECK((st.st_mode & 07777) == 0600, "permissions %o, expected 600", st.st_mode & 07777);
    CHECK(mkfifo(fifo_path, 0600) == -1 && errno == EEXIST, "mkfifo twice: %s", strerror(errno));

    /* fifo(7): no reader, non-blocking writer: ENXIO. */
    errno = 0;
    CHECK(open(fifo_path, O_WRONLY | O_NONBLOCK) == -1 && errno == ENXIO,
          "O_WRONLY|O_NONBLOCK with no reader: expected ENXIO, got %s", strerror(errno));

    /* A non-blocking reader opens at once; EOF with no writer, EAGAIN with an idle one. */
    int r = open(fifo_path, O_RDONLY | O_NONBLOCK);
    CHECK(r >= 0, "O_RDONLY|O_NONBLOCK: %s", strerror(errno));
    char buf[64];
    CHECK(read(r, buf, sizeof buf) == 0, "read with no writer should be EOF (%s)", strerror(errno));
    int w = open(fifo_path, O_WRONLY | O_NONBLOCK);
    CHECK(w >= 0, "O_WRONLY|O_NONBLOCK with a reader: %s", strerror(errno));
    errno = 0;
    CHECK(read(r, buf, sizeof buf) == -1 && errno == EAGAIN, "empty FIFO, non-blocking read: %s", strerror(errno));
    CHECK(write(w, "ping", 4) == 4, "write ping: %s", strerror(errno));
    CHECK(read(r, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "read ping back");
    CHECK(fstat(r, &st) == 0 && S_ISFIFO(st.st_mode), "fstat of the FIFO descriptor: mode %o", st.st_mode);
    CHECK((fcntl(w, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_WRONLY | O_NONBLOCK), "F_GETFL %#x", fcntl(w, F_GETFL));
    errno = 0;
    CHECK(lseek(r, 0, SEEK_SET) == -1 && errno == ESPIPE, "lseek on a FIFO: %s", strerror(errno));
    close(w);
    CHECK(read(r, buf, sizeof buf) == 0, "EOF after the writer closed");
    close(r);

    /* A blocking reader in another thread waits for this thread's writer, then 200 KB
     * (more than the pipe holds) cross in order. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader_thread, NULL) == 0, "pthread_create");
    pause_ms(50); /* let the reader block in open */
    w = open(fifo_path, O_WRONLY);
    CHECK(w >= 0, "blocking O_WRONLY with a waiting reader: %s", strerror(errno));
    static unsigned char big[BIG];
    for (size_t i = 0; i < BIG; i++)
        big[i] = (unsigned char)pattern(i);
    write_all(w, big, BIG);
    close(w);
    void *result;
    CHECK(pthread_join(t, &result) == 0, "pthread_join");
    CHECK((intptr_t)result == BIG, "the reader thread got %ld bytes (negative: error), expected %d",
          (long)(intptr_t)result, BIG);

    /* The reverse: a blocking writer waits for this thread's reader. */
    CHECK(pthread_create(&t, NULL, writer_thread, NULL) == 0, "pthread_create");
    pause_ms(50);
    r = open(fifo_path, O_RDONLY);
    CHECK(r >= 0, "blocking O_RDONLY with a waiting writer: %s", strerror(errno));
    size_t got = 0;
    for (;;) {
        ssize_t n = read(r, buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n >= 0, "read from the writer thread: %s", strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    CHECK(pthread_join(t, &result) == 0, "pthread_join");
    CHECK((intptr_t)result == 22, "the writer thread's write returned %ld", (long)(intptr_t)result);
    CHECK(strcmp(buf, "from the writer thread") == 0, "read '%s'", buf);
    close(r);

    /* O_RDWR never blocks, and the one description both writes and reads. */
    int rw = open(fifo_path, O_RDWR);
    CHECK(rw >= 0, "O_RDWR: %s", strerror(errno));
    CHECK(write(rw, "both", 4) == 4 && read(rw, buf, sizeof buf) == 4 && memcmp(buf, "both", 4) == 0, "O_RDWR round trip");
    close(rw);
    CHECK(unlink(fifo_path) == 0, "unlink the FIFO: %s", strerror(errno));
}

static void check_tmpfile_and_sendfile(void)
{
    errno = 0;
    CHECK(open("/tmp", O_TMPFILE | O_RDONLY, 0600) == -1 && errno == EINVAL,
          "O_TMPFILE|O_RDONLY: expected EINVAL, got %s", strerror(errno));
    /* /tmp under egg; natively it may be a file system without O_TMPFILE: try /dev/shm. */
    const char *dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        dir = "/dev/shm";
        fd = open(dir, O_TMPFILE | O_RDWR, 0600);
    }
    CHECK(fd >= 0, "open(%s, O_TMPFILE|O_RDWR): %s", dir, strerror(errno));
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0,
          "O_TMPFILE file: mode %o nlink %ld, expected a regular file with no name", st.st_mode, (long)st.st_nlink);
    const char text[] = "an unnamed file, then a pipe";
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1), "write: %s", strerror(errno));
    char buf[64] = { 0 };
    CHECK(pread(fd, buf, sizeof buf, 0) == (ssize_t)(sizeof text - 1) && strcmp(buf, text) == 0, "read back '%s'", buf);

    /* sendfile(2) from the file into a pipe, at an explicit offset. */
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
    off_t offset = 3;
    ssize_t n = sendfile(p[1], fd, &offset, 13);
    CHECK(n == 13, "sendfile into a pipe returned %zd (%s)", n, strerror(errno));
    CHECK(offset == 16, "sendfile left *offset at %ld, expected 16", (long)offset);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 13 && strcmp(buf, "unnamed file,") == 0, "the pipe holds '%s'", buf);
    CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)(sizeof text - 1), "sendfile with an offset moved the file position");
    close(p[0]);
    close(p[1]);

    /* linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) gives it a name (root may do this). */
    char name[80];
    snprintf(name, sizeof name, "%s/egg-tmpfile-test.%d", dir, (int)getpid());
    unlink(name);
    if (linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0) {
        CHECK(stat(name, &st) == 0 && st.st_size == (off_t)(sizeof text - 1), "the linked file has size %ld", (long)st.st_size);
        CHECK(fstat(fd, &st) == 0 && st.st_nlink == 1, "nlink after linkat: %ld", (long)st.st_nlink);
        unlink(name);
    } else {
        /* Without CAP_DAC_READ_SEARCH Linux refuses AT_EMPTY_PATH with ENOENT. */
        CHECK(errno == ENOENT && geteuid() != 0, "linkat AT_EMPTY_PATH as uid %d: %s", (int)geteuid(), strerror(errno));
    }
    close(fd);
}

int main(void)
{
    check_fifo();
    check_tmpfile_and_sendfile();
    return pass("FIFO open rules across threads, O_TMPFILE, sendfile into a pipe");
}
