/*
 * file_variants_test.c — the older and newer forms of file calls (issue 14): preadv,
 * pwritev, preadv2/pwritev2 with offset -1 and RWF_ flags (RWF_APPEND, RWF_NOWAIT on an empty
 * pipe, unknown flags EOPNOTSUPP), getdents (struct linux_dirent with d_type in the last
 * byte), utime/utimes/futimesat, close_range (CLOSE_RANGE_CLOEXEC, EINVAL), fchmodat2
 * (EOPNOTSUPP for a symlink with AT_SYMLINK_NOFOLLOW) and sethostname (uname follows, EPERM
 * without CAP_SYS_ADMIN, EINVAL past 64 bytes), and /proc/self/io's rchar/wchar/syscr/syscw
 * counting real reads and writes.
 *
 * Layer: guest test program (Guest/c, check.h); runs natively on Linux (as root, on the
 * /dev/shm tmpfs; sethostname inside a private UTS namespace there) first. Kernel side:
 * Sources/KernelCore/Syscalls/PositionedVectorSyscalls.swift, LegacyFileSyscalls.swift.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <utime.h>

const char *const test_name = "file_variants_test";

#define NR_PREADV2 327
#define NR_PWRITEV2 328
#define NR_CLOSE_RANGE 436
#define NR_FCHMODAT2 452
#define NR_GETDENTS 78

static long preadv2_(int fd, struct iovec *v, int n, long off, int flags)
{
    return syscall(NR_PREADV2, fd, v, n, off, 0L, flags);
}
static long pwritev2_(int fd, struct iovec *v, int n, long off, int flags)
{
    return syscall(NR_PWRITEV2, fd, v, n, off, 0L, flags);
}

/* One counter of /proc/self/io. */
static long long io_field(const char *name)
{
    char text[512];
    int fd = open("/proc/self/io", O_RDONLY);
    CHECK(fd >= 0, "open /proc/self/io: %s", strerror(errno));
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    CHECK(n > 0, "read /proc/self/io");
    text[n] = 0;
    char *at = strstr(text, name);
    CHECK(at != NULL && at[strlen(name)] == ':', "no %s in /proc/self/io", name);
    return atoll(at + strlen(name) + 1);
}

int main(void)
{
    const char *dir = "/dev/shm/egg_variants";
    char path[128], buf[256];
    snprintf(path, sizeof path, "%s/f", dir);
    unlink(path);
    rmdir(dir);
    CHECK(mkdir(dir, 0755) == 0, "mkdir: %s", strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0, "open: %s", strerror(errno));

    /* pwritev / preadv at offsets; the file position does not move. */
    struct iovec w[2] = {{"hello ", 6}, {"world", 5}};
    CHECK(pwritev(fd, w, 2, 4) == 11, "pwritev: %s", strerror(errno));
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "pwritev moved the position");
    char a[5] = {0}, b[20] = {0};
    struct iovec r[2] = {{a, 4}, {b, 20}};
    CHECK(preadv(fd, r, 2, 4) == 11, "preadv");
    CHECK(memcmp(a, "hell", 4) == 0 && memcmp(b, "o world", 7) == 0, "preadv data");
    CHECK(preadv(fd, r, 2, 100) == 0, "preadv past the end");
    CHECK_ERRNO(preadv(fd, r, 2, -1), EINVAL);
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK_ERRNO(preadv(p[0], r, 2, 0), ESPIPE);

    /* preadv2/pwritev2: -1 is the file position, which then moves. */
    struct iovec one = {"AB", 2};
    CHECK(pwritev2_(fd, &one, 1, -1, 0) == 2, "pwritev2 -1: %s", strerror(errno));
    CHECK(lseek(fd, 0, SEEK_CUR) == 2, "pwritev2 -1 moved the position");
    memset(buf, 0, sizeof buf);
    struct iovec rb = {buf, 3};
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    CHECK(preadv2_(fd, &rb, 1, -1, 0) == 3 && memcmp(buf, "AB\0", 3) == 0, "preadv2 -1");
    CHECK(lseek(fd, 0, SEEK_CUR) == 3, "preadv2 -1 moved the position");
    /* RWF_APPEND with an explicit offset: written at the end, the position stays. */
    struct iovec tail = {"!", 1};
    CHECK(pwritev2_(fd, &tail, 1, 0, 0x10) == 1, "RWF_APPEND: %s", strerror(errno));
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 16, "RWF_APPEND size %ld", (long)st.st_size);
    CHECK(pread(fd, buf, 1, 15) == 1 && buf[0] == '!', "RWF_APPEND at the end");
    CHECK(lseek(fd, 0, SEEK_CUR) == 3, "RWF_APPEND moved the position");
    /* RWF_DSYNC | RWF_SYNC | RWF_HIPRI are accepted; unknown bits are EOPNOTSUPP. */
    CHECK(pwritev2_(fd, &one, 1, 0, 0x2 | 0x4) == 2, "RWF_DSYNC|RWF_SYNC: %s", strerror(errno));
    CHECK(preadv2_(fd, &rb, 1, 0, 0x1) == 3, "RWF_HIPRI: %s", strerror(errno));
    CHECK_ERRNO(preadv2_(fd, &rb, 1, 0, 0x40000000), EOPNOTSUPP);
    /* RWF_NOWAIT on an empty pipe: EAGAIN instead of blocking. */
    CHECK_ERRNO(preadv2_(p[0], &rb, 1, -1, 0x8), EAGAIN);
    CHECK_ERRNO(preadv2_(p[0], &rb, 1, 0, 0), ESPIPE);

    /* /proc/self/io counts the calls and their bytes. */
    long long rchar = io_field("rchar"), wchar = io_field("wchar");
    long long syscr = io_field("syscr"), syscw = io_field("syscw");
    static char block[3000];
    CHECK(pwrite(fd, block, sizeof block, 100) == (ssize_t)sizeof block, "pwrite");
    CHECK(pread(fd, block, sizeof block, 100) == (ssize_t)sizeof block, "pread");
    struct iovec bv = {block, 1000};
    CHECK(preadv(fd, &bv, 1, 0) == 1000, "preadv");
    CHECK(io_field("wchar") - wchar >= 3000, "wchar did not grow by 3000");
    CHECK(io_field("rchar") - rchar >= 4000, "rchar did not grow by 4000");
    CHECK(io_field("syscw") - syscw >= 1 && io_field("syscr") - syscr >= 2, "syscr/syscw did not grow");

    /* getdents: the old records, d_type in each record's last byte. */
    int sub = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(sub >= 0, "open dir");
    CHECK(mkdir("/dev/shm/egg_variants/d", 0755) == 0, "mkdir d");
    char dents[1024];
    long n = syscall(NR_GETDENTS, sub, dents, sizeof dents);
    CHECK(n > 0, "getdents: %s", strerror(errno));
    int saw_f = 0, saw_d = 0, saw_dot = 0;
    for (long off = 0; off < n;) {
        unsigned short reclen = *(unsigned short *)(dents + off + 16);
        const char *name = dents + off + 18;
        unsigned char type = (unsigned char)dents[off + reclen - 1];
        CHECK(reclen >= 24 && reclen % 8 == 0, "reclen %u", reclen);
        if (strcmp(name, "f") == 0) saw_f = type == DT_REG;
        if (strcmp(name, "d") == 0) saw_d = type == DT_DIR;
        if (strcmp(name, ".") == 0) saw_dot = type == DT_DIR;
        off += reclen;
    }
    CHECK(saw_f && saw_d && saw_dot, "getdents entries/types %d %d %d", saw_f, saw_d, saw_dot);
    CHECK(syscall(NR_GETDENTS, sub, dents, sizeof dents) == 0, "getdents at the end");
    CHECK(lseek(sub, 0, SEEK_SET) == 0, "rewind");
    CHECK_ERRNO(syscall(NR_GETDENTS, sub, dents, 8), EINVAL);
    CHECK_ERRNO(syscall(NR_GETDENTS, fd, dents, sizeof dents), ENOTDIR);

    /* utime, utimes, futimesat. */
    struct utimbuf ub = {.actime = 1000, .modtime = 2000};
    CHECK(utime(path, &ub) == 0, "utime: %s", strerror(errno));
    CHECK(stat(path, &st) == 0 && st.st_atime == 1000 && st.st_mtime == 2000, "utime times");
    struct timeval tv[2] = {{3000, 500000}, {4000, 250000}};
    CHECK(utimes(path, tv) == 0, "utimes: %s", strerror(errno));
    CHECK(stat(path, &st) == 0 && st.st_mtime == 4000 && st.st_mtim.tv_nsec == 250000000 &&
              st.st_atim.tv_nsec == 500000000, "utimes times");
    tv[1].tv_usec = 1000000;
    CHECK_ERRNO(utimes(path, tv), EINVAL);
    tv[1].tv_usec = 0;
    tv[0].tv_sec = 5000;
    CHECK(syscall(SYS_futimesat, sub, "f", tv) == 0, "futimesat: %s", strerror(errno));
    CHECK(stat(path, &st) == 0 && st.st_atime == 5000, "futimesat times");
    CHECK(utime(path, NULL) == 0 && stat(path, &st) == 0 && st.st_mtime > 4000, "utime NULL is now");
    CHECK_ERRNO(utime("/dev/shm/egg_variants/missing", NULL), ENOENT);

    /* close_range. */
    int d1 = dup(fd), d2 = dup(fd), d3 = dup(fd);
    CHECK(d1 >= 0 && d2 == d1 + 1 && d3 == d2 + 1, "dups");
    CHECK(syscall(NR_CLOSE_RANGE, d1, d2, 4) == 0, "CLOSE_RANGE_CLOEXEC: %s", strerror(errno));
    CHECK(fcntl(d1, F_GETFD) == FD_CLOEXEC && fcntl(d2, F_GETFD) == FD_CLOEXEC && fcntl(d3, F_GETFD) == 0, "cloexec marks");
    CHECK(syscall(NR_CLOSE_RANGE, d1, d2, 0) == 0, "close_range: %s", strerror(errno));
    CHECK_ERRNO(fcntl(d1, F_GETFD), EBADF);
    CHECK_ERRNO(fcntl(d2, F_GETFD), EBADF);
    CHECK(fcntl(d3, F_GETFD) == 0, "d3 left open");
    CHECK_ERRNO(syscall(NR_CLOSE_RANGE, 5, 4, 0), EINVAL);
    CHECK_ERRNO(syscall(NR_CLOSE_RANGE, 0, 4, 1), EINVAL);
    CHECK(syscall(NR_CLOSE_RANGE, d3, ~0U, 0) == 0, "close_range to ~0");
    CHECK_ERRNO(fcntl(d3, F_GETFD), EBADF);

    /* fchmodat2. */
    CHECK(symlink("f", "/dev/shm/egg_variants/l") == 0, "symlink");
    CHECK(syscall(NR_FCHMODAT2, sub, "f", 0600, 0) == 0, "fchmodat2: %s", strerror(errno));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "fchmodat2 mode");
    CHECK(syscall(NR_FCHMODAT2, sub, "l", 0640, 0) == 0, "fchmodat2 through a link");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640, "fchmodat2 followed");
    CHECK_ERRNO(syscall(NR_FCHMODAT2, sub, "l", 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
    CHECK_ERRNO(syscall(NR_FCHMODAT2, sub, "f", 0600, 0x8), EINVAL);
    CHECK(syscall(NR_FCHMODAT2, fd, "", 0604, AT_EMPTY_PATH) == 0, "fchmodat2 AT_EMPTY_PATH: %s", strerror(errno));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0604, "AT_EMPTY_PATH mode");

    /* sethostname: in a private UTS namespace where the kernel has them (natively), so the
     * machine's own name is left alone; egg runs one program per machine. */
    struct utsname before;
    CHECK(uname(&before) == 0, "uname");
    int private_uts = unshare(CLONE_NEWUTS) == 0;
    CHECK(sethostname("egg-variant", 11) == 0, "sethostname: %s", strerror(errno));
    struct utsname u;
    CHECK(uname(&u) == 0 && strcmp(u.nodename, "egg-variant") == 0, "uname after sethostname: %s", u.nodename);
    int hn = open("/proc/sys/kernel/hostname", O_RDONLY);
    CHECK(hn >= 0, "open /proc/sys/kernel/hostname");
    memset(buf, 0, sizeof buf);
    CHECK(read(hn, buf, sizeof buf) == 12 && memcmp(buf, "egg-variant\n", 12) == 0, "proc hostname: %s", buf);
    close(hn);
    char long_name[80];
    memset(long_name, 'h', sizeof long_name);
    CHECK_ERRNO(sethostname(long_name, 65), EINVAL);
    CHECK(sethostname(long_name, 64) == 0, "64-byte hostname");
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        if (setuid(65534) != 0) _exit(10);
        if (sethostname("x", 1) != -1 || errno != EPERM) _exit(11);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "unprivileged sethostname: status %d", status);
    /* setdomainname: the same rules (kernel/sys.c), shown in uname's domainname field. */
    CHECK(setdomainname("egg-domain", 10) == 0, "setdomainname: %s", strerror(errno));
    CHECK(uname(&u) == 0 && strcmp(u.domainname, "egg-domain") == 0, "uname after setdomainname: %s", u.domainname);
    CHECK_ERRNO(setdomainname(long_name, 65), EINVAL);
    child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        if (setuid(65534) != 0) _exit(10);
        if (setdomainname("x", 1) != -1 || errno != EPERM) _exit(11);
        _exit(0);
    }
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "unprivileged setdomainname: status %d", status);
    if (!private_uts) {
        sethostname(before.nodename, strlen(before.nodename));
        setdomainname(before.domainname, strlen(before.domainname));
    }

    close(sub);
    close(fd);
    unlink("/dev/shm/egg_variants/l");
    rmdir("/dev/shm/egg_variants/d");
    unlink(path);
    rmdir(dir);
    return pass(NULL);
}
