/*
 * locks_test.c — advisory file locks, self-checking (guest test program).
 *
 * Layer: guest test programs (Guest/c, built by Guest/Makefile, run natively and under egg by
 * Tests/integration/run.sh). Under egg these calls land in Sources/KernelCore/VFS/FileLocks.swift
 * through FileSyscalls.fcntl/flock; natively they exercise Linux's fs/locks.c, so every
 * expectation is Linux's behaviour (fcntl(2) "Advisory record locking" and "Open file
 * description locks", flock(2)). One process: its POSIX locks are observed from an OFD owner
 * (a second open of the same file), which conflicts with them. Covers F_GETLK reporting an OFD
 * lock (l_pid -1), range split and merge, SEEK_CUR/SEEK_END and negative l_len, release on any
 * close, flock sharing/conversion per open file description, and F_OFD_SETLKW blocking a
 * thread until the holder unlocks. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>

const char *const test_name = "locks_test";

static char path[64];

static int lk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    struct flock f = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
    return fcntl(fd, cmd, &f);
}

/* F_OFD_GETLK from `fd`: the conflicting lock (type F_UNLCK when none). */
static struct flock probe(int fd, short type, off_t start, off_t len)
{
    struct flock f = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    CHECK(fcntl(fd, F_OFD_GETLK, &f) == 0, "F_OFD_GETLK: %s", strerror(errno));
    return f;
}

#define EXPECT_LOCK(f, type_, start_, len_)                                                    \
    CHECK((f).l_type == (type_) && (f).l_start == (start_) && (f).l_len == (len_),              \
          "line %d: lock %d %ld+%ld, want %d %ld+%ld", __LINE__, (f).l_type, (long)(f).l_start, \
          (long)(f).l_len, (type_), (long)(start_), (long)(len_))
#define EXPECT_FREE(f) CHECK((f).l_type == F_UNLCK, "line %d: unexpected lock %d %ld+%ld", __LINE__, \
                             (f).l_type, (long)(f).l_start, (long)(f).l_len)

static void test_ofd_against_posix(int a, int b)
{
    CHECK(lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0, "OFD lock: %s", strerror(errno));
    struct flock f = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1 };
    CHECK(fcntl(b, F_GETLK, &f) == 0, "F_GETLK: %s", strerror(errno));
    CHECK(f.l_type == F_WRLCK && f.l_start == 0 && f.l_len == 10 && f.l_pid == -1,
          "F_GETLK saw %d %ld+%ld pid %d", f.l_type, (long)f.l_start, (long)f.l_len, (int)f.l_pid);
    CHECK_ERRNO(lk(b, F_SETLK, F_RDLCK, SEEK_SET, 5, 1), EAGAIN);
    /* The same description may lock again over its own lock. */
    CHECK(lk(a, F_OFD_SETLK, F_RDLCK, SEEK_SET, 2, 2) == 0, "OFD relock");
    /* Beyond the lock: free. */
    CHECK(lk(b, F_SETLK, F_WRLCK, SEEK_SET, 10, 5) == 0, "lock past the OFD range: %s", strerror(errno));
    CHECK(lk(b, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "unlock all");
    CHECK(lk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "OFD unlock");
    EXPECT_FREE(probe(b, F_WRLCK, 0, 0));
    /* l_pid must be 0 for OFD requests; the type must be known. */
    struct flock bad = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1 };
    CHECK_ERRNO(fcntl(a, F_OFD_SETLK, &bad), EINVAL);
    CHECK_ERRNO(lk(a, F_SETLK, 7, SEEK_SET, 0, 1), EINVAL);
    CHECK_ERRNO(lk(a, F_SETLK, F_WRLCK, 9, 0, 1), EINVAL);
    CHECK_ERRNO(lk(a, F_SETLK, F_WRLCK, SEEK_SET, -1, 1), EINVAL);
}

static void test_ranges(int a, int b)
{
    /* Split: W[0,100) minus [40,60). */
    CHECK(lk(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 100) == 0, "W 0+100");
    CHECK(lk(a, F_SETLK, F_UNLCK, SEEK_SET, 40, 20) == 0, "U 40+20");
    EXPECT_FREE(probe(b, F_WRLCK, 40, 20));
    EXPECT_LOCK(probe(b, F_WRLCK, 30, 20), F_WRLCK, 0, 40);
    EXPECT_LOCK(probe(b, F_WRLCK, 50, 20), F_WRLCK, 60, 40);
    /* Merge: filling the hole gives one lock again. */
    CHECK(lk(a, F_SETLK, F_WRLCK, SEEK_SET, 40, 20) == 0, "W 40+20");
    EXPECT_LOCK(probe(b, F_WRLCK, 99, 1), F_WRLCK, 0, 100);
    /* A read lock in the middle converts that part only. */
    CHECK(lk(a, F_SETLK, F_RDLCK, SEEK_SET, 10, 10) == 0, "R 10+10");
    EXPECT_FREE(probe(b, F_RDLCK, 15, 1));
    EXPECT_LOCK(probe(b, F_RDLCK, 5, 10), F_WRLCK, 0, 10);
    EXPECT_LOCK(probe(b, F_WRLCK, 15, 1), F_RDLCK, 10, 10);
    EXPECT_LOCK(probe(b, F_RDLCK, 25, 1), F_WRLCK, 20, 80);
    CHECK(lk(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "unlock all");
    EXPECT_FREE(probe(b, F_WRLCK, 0, 0));

    /* SEEK_CUR and a negative length: [40, 45) from offset 50; [90, 100) from 100 - 10. */
    CHECK(lseek(a, 50, SEEK_SET) == 50, "lseek");
    CHECK(lk(a, F_SETLK, F_WRLCK, SEEK_CUR, -10, 5) == 0, "SEEK_CUR lock: %s", strerror(errno));
    EXPECT_LOCK(probe(b, F_WRLCK, 0, 0), F_WRLCK, 40, 5);
    CHECK(lk(a, F_SETLK, F_WRLCK, SEEK_SET, 100, -10) == 0, "negative l_len: %s", strerror(errno));
    EXPECT_LOCK(probe(b, F_WRLCK, 50, 0), F_WRLCK, 90, 10);
    /* SEEK_END with l_len 0: from the end (the file holds 200 bytes) for ever. */
    CHECK(lk(a, F_SETLK, F_RDLCK, SEEK_END, -20, 0) == 0, "SEEK_END lock: %s", strerror(errno));
    EXPECT_LOCK(probe(b, F_WRLCK, 150, 0), F_RDLCK, 180, 0);
    EXPECT_LOCK(probe(b, F_WRLCK, 1000000, 1), F_RDLCK, 180, 0);

    /* Any close of the file by the process drops all its POSIX locks on it. */
    int c = open(path, O_RDONLY);
    CHECK(c >= 0, "third open");
    close(c);
    EXPECT_FREE(probe(b, F_WRLCK, 0, 0));
}

static void test_flock(int a, int b)
{
    CHECK(flock(a, LOCK_SH) == 0 && flock(b, LOCK_SH | LOCK_NB) == 0, "two shared flocks");
    CHECK_ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    CHECK(flock(a, LOCK_UN) == 0, "LOCK_UN");
    CHECK(flock(b, LOCK_EX | LOCK_NB) == 0, "conversion to exclusive: %s", strerror(errno));
    CHECK_ERRNO(flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    /* flock locks belong to the description: a dup shares it, and it lives while any
     * descriptor of the description is open. */
    int d = dup(b);
    CHECK(flock(d, LOCK_EX | LOCK_NB) == 0, "dup holds the same lock");
    close(b);
    CHECK_ERRNO(flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    close(d);
    CHECK(flock(a, LOCK_SH | LOCK_NB) == 0, "lock free after the last close: %s", strerror(errno));
    CHECK_ERRNO(flock(a, 0), EINVAL);
    /* flock and fcntl locks do not meet. */
    CHECK(lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0, "OFD lock beside flock");
    CHECK(lk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "OFD unlock");
    CHECK(flock(a, LOCK_UN) == 0, "LOCK_UN");
}

static volatile int acquired;
static void *waiter(void *arg)
{
    int fd = *(int *)arg;
    if (lk(fd, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 1) != 0) return (void *)"F_OFD_SETLKW failed";
    acquired = 1;
    lk(fd, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 1);
    return NULL;
}

static void test_blocking(int a)
{
    int b = open(path, O_RDWR);
    CHECK(b >= 0, "open");
    CHECK(lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1) == 0, "hold");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, &b) == 0, "pthread_create");
    usleep(50000);
    CHECK(!acquired, "F_OFD_SETLKW did not wait for the holder");
    CHECK(lk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 1) == 0, "release");
    void *r;
    CHECK(pthread_join(t, &r) == 0 && r == NULL, "waiter: %s", r ? (char *)r : "join");
    CHECK(acquired, "waiter never got the lock");
    close(b);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/egg-locks-%d", (int)getpid());
    int a = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    int b = open(path, O_RDWR);
    CHECK(a >= 0 && b >= 0, "open %s: %s", path, strerror(errno));
    char zeros[200] = { 0 };
    CHECK(write(a, zeros, sizeof zeros) == sizeof zeros, "write");
    int wo = open(path, O_WRONLY);
    CHECK_ERRNO(lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);   /* read lock needs read access */
    close(wo);
    test_ofd_against_posix(a, b);
    test_ranges(a, b);
    test_flock(a, b);   /* closes b */
    test_blocking(a);
    close(a);
    unlink(path);
    return pass(NULL);
}
