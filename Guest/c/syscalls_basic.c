/*
 * syscalls_basic.c — one check per everyday syscall, each against what Linux itself does:
 *   uname(2) says Linux/x86_64; getpid(2) == gettid(2) for the main thread; getppid(2);
 *   the uid/gid family agrees with getresuid/getresgid; getrandom(2) fills 64 bytes, not all
 *   zero, different on a second call; clock_gettime(2) MONOTONIC increases across a busy
 *   loop and never goes back, REALTIME is after 2024-01-01; nanosleep(2) of 20 ms advances
 *   MONOTONIC by at least that; ioctl(2) TIOCGWINSZ/TCGETS on fd 1 succeed or fail with
 *   ENOTTY (both are Linux-valid: a terminal or not); readlink("/proc/self/exe") is an
 *   absolute path ending in our basename; prlimit64(RLIMIT_STACK) is sane; an unknown
 *   syscall number gives ENOSYS; write(2) from a bad pointer gives EFAULT; and the verdict
 *   itself goes out through writev(2) with two iovecs.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>

const char *const test_name = "syscalls_basic";

static int64_t ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t now(clockid_t clock)
{
    struct timespec t;
    CHECK(clock_gettime(clock, &t) == 0, "clock_gettime(%d): %s", (int)clock, strerror(errno));
    CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000, "clock %d tv_nsec out of range: %ld",
          (int)clock, (long)t.tv_nsec);
    return ns(&t);
}

static void check_identity(void)
{
    struct utsname u;
    CHECK(uname(&u) == 0, "uname: %s", strerror(errno));
    CHECK(strcmp(u.sysname, "Linux") == 0, "uname sysname is '%s'", u.sysname);
    CHECK(strcmp(u.machine, "x86_64") == 0, "uname machine is '%s'", u.machine);
    CHECK(u.release[0] >= '1' && u.release[0] <= '9', "uname release '%s' does not start with a digit",
          u.release);

    pid_t pid = getpid();
    pid_t tid = (pid_t)syscall(SYS_gettid);
    CHECK(pid > 0, "getpid returned %d", (int)pid);
    CHECK(tid == pid, "gettid %d != getpid %d in the main thread", (int)tid, (int)pid);
    pid_t ppid = getppid();
    CHECK(ppid >= 0 && ppid != pid, "getppid returned %d (pid %d)", (int)ppid, (int)pid);

    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    CHECK(getresuid(&ru, &eu, &su) == 0, "getresuid: %s", strerror(errno));
    CHECK(getresgid(&rg, &eg, &sg) == 0, "getresgid: %s", strerror(errno));
    CHECK(ru == getuid() && eu == geteuid(), "getresuid %u/%u != getuid/geteuid %u/%u",
          (unsigned)ru, (unsigned)eu, (unsigned)getuid(), (unsigned)geteuid());
    CHECK(rg == getgid() && eg == getegid(), "getresgid %u/%u != getgid/getegid %u/%u",
          (unsigned)rg, (unsigned)eg, (unsigned)getgid(), (unsigned)getegid());
}

static void check_random(void)
{
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK(getrandom(a, sizeof a, 0) == (ssize_t)sizeof a, "getrandom #1: %s", strerror(errno));
    CHECK(getrandom(b, sizeof b, 0) == (ssize_t)sizeof b, "getrandom #2: %s", strerror(errno));
    int nonzero = 0;
    for (size_t i = 0; i < sizeof a; i++)
        nonzero |= a[i];
    CHECK(nonzero, "getrandom returned 64 zero bytes");
    CHECK(memcmp(a, b, sizeof a) != 0, "two getrandom calls returned the same 64 bytes");
    CHECK_ERRNO(getrandom(a, sizeof a, 0x4000 /* no such flag */), EINVAL);
}

static void check_clocks(void)
{
    int64_t first = now(CLOCK_MONOTONIC), prev = first, last = first;
    for (long i = 0; i < 2000000 && last == first; i++) {
        last = now(CLOCK_MONOTONIC);
        CHECK(last >= prev, "CLOCK_MONOTONIC went back from %lld to %lld", (long long)prev,
              (long long)last);
        prev = last;
    }
    CHECK(last > first, "CLOCK_MONOTONIC did not advance across a busy loop");

    const int64_t jan_2024 = 1704067200LL * 1000000000LL; /* 2024-01-01T00:00:00Z */
    int64_t real = now(CLOCK_REALTIME);
    CHECK(real > jan_2024, "CLOCK_REALTIME %lld s is before 2024-01-01", (long long)(real / 1000000000));

    struct timespec req = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    int64_t before = now(CLOCK_MONOTONIC);
    CHECK(nanosleep(&req, NULL) == 0, "nanosleep: %s", strerror(errno));
    int64_t slept = now(CLOCK_MONOTONIC) - before;
    CHECK(slept >= 20 * 1000 * 1000, "nanosleep(20 ms) returned after %lld ns", (long long)slept);
    struct timespec bad = {.tv_sec = 0, .tv_nsec = 1000000000};
    CHECK_ERRNO(nanosleep(&bad, NULL), EINVAL);
}

static void check_tty_ioctls(void)
{
    struct winsize ws;
    errno = 0;
    int rc = ioctl(1, TIOCGWINSZ, &ws);
    CHECK(rc == 0 || (rc == -1 && errno == ENOTTY), "ioctl(1, TIOCGWINSZ) = %d, errno %d (%s)",
          rc, errno, strerror(errno));
    struct termios t;
    errno = 0;
    int rc2 = ioctl(1, TCGETS, &t);
    CHECK(rc2 == 0 || (rc2 == -1 && errno == ENOTTY), "ioctl(1, TCGETS) = %d, errno %d (%s)",
          rc2, errno, strerror(errno));
    CHECK((rc == 0) == (rc2 == 0), "TIOCGWINSZ and TCGETS disagree about fd 1 being a tty");
    CHECK_ERRNO(ioctl(12345, TCGETS, &t), EBADF);
}

static void check_proc_self_exe(const char *argv0)
{
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    CHECK(n > 0, "readlink(/proc/self/exe): %s", strerror(errno));
    path[n] = '\0';
    CHECK(path[0] == '/', "/proc/self/exe is not absolute: '%s'", path);
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    size_t bl = strlen(base);
    CHECK((size_t)n > bl && strcmp(path + n - bl, base) == 0 && path[n - bl - 1] == '/',
          "/proc/self/exe '%s' does not end in '/%s'", path, base);
}

static void check_rlimit(void)
{
    struct rlimit old;
    /* prlimit64(pid 0 = self, RLIMIT_STACK, new = NULL, old). */
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &old) == 0, "prlimit64: %s",
          strerror(errno));
    CHECK(old.rlim_cur >= 128 * 1024, "RLIMIT_STACK soft limit %llu is below 128 KiB",
          (unsigned long long)old.rlim_cur);
    CHECK(old.rlim_max == RLIM_INFINITY || old.rlim_cur <= old.rlim_max,
          "RLIMIT_STACK soft %llu > hard %llu", (unsigned long long)old.rlim_cur,
          (unsigned long long)old.rlim_max);
    struct rlimit g;
    CHECK(getrlimit(RLIMIT_STACK, &g) == 0 && g.rlim_cur == old.rlim_cur,
          "getrlimit disagrees with prlimit64");
}

static void check_errors(void)
{
    CHECK_ERRNO(syscall(1000), ENOSYS);
    const void *volatile bad = (const void *)1;
    CHECK_ERRNO(write(1, bad, 10), EFAULT);
    CHECK_ERRNO(write(9999, "x", 1), EBADF);
}

int main(int argc, char **argv)
{
    (void)argc;
    check_identity();
    check_random();
    check_clocks();
    check_tty_ioctls();
    check_proc_self_exe(argv[0]);
    check_rlimit();
    check_errors();

    /* The verdict line through writev with two iovecs; the count must be the sum. */
    char head[64];
    int hl = snprintf(head, sizeof head, "PASS %s", test_name);
    struct iovec iov[2] = {{head, (size_t)hl}, {"\n", 1}};
    ssize_t w = writev(1, iov, 2);
    if (w != hl + 1)
        fail("writev of two iovecs returned %zd, expected %d", w, hl + 1);
    return 0;
}
