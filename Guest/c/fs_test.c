/*
 * fs_test.c — file-system self-test: files, directories, symlinks, descriptors, pipes,
 * polling, devices, file mappings and the errno Linux gives for bad input.
 *
 * Layer: guest programs (Guest/c, built by Guest/Makefile; run natively and under egg by
 * Tests/integration/run.sh). Everything happens inside a fresh directory under /tmp (or the
 * current directory when /tmp is absent), which is removed again, so the test passes on
 * Linux and in egg's in-memory root alike. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>

const char *const test_name = "fs_test";

static void write_all(int fd, const char *s)
{
    size_t n = strlen(s);
    CHECK(write(fd, s, n) == (ssize_t)n, "write %zu bytes: %s", n, strerror(errno));
}

static void expect_contents(const char *path, const char *want)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n >= 0, "read %s: %s", path, strerror(errno));
    buf[n] = 0;
    CHECK(strcmp(buf, want) == 0, "%s holds '%s', expected '%s'", path, buf, want);
    close(fd);
}

/* getdents64: does directory fd list exactly the names in `want` (plus . and ..)? */
static void expect_listing(int dirfd, const char *const *want, int count)
{
    char buf[1024];
    int seen = 0, dots = 0;
    CHECK(lseek(dirfd, 0, SEEK_SET) == 0, "rewind directory: %s", strerror(errno));
    for (;;) {
        long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
        CHECK(n >= 0, "getdents64: %s", strerror(errno));
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
            if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0) {
                CHECK(d->type == DT_DIR, "'%s' is not DT_DIR", d->name);
                dots++;
            } else {
                int found = 0;
                for (int i = 0; i < count; i++)
                    if (strcmp(want[i], d->name) == 0)
                        found = 1;
                CHECK(found, "unexpected directory entry '%s'", d->name);
                seen++;
            }
            off += d->reclen;
        }
    }
    CHECK(dots == 2 && seen == count, "listing: %d dot entries, %d names, expected 2 and %d", dots, seen, count);
}

int main(void)
{
    char top[PATH_MAX], cwd[PATH_MAX];
    struct stat st;
    char buf[256];

    /* A private directory to work in. */
    strcpy(top, access("/tmp", W_OK) == 0 ? "/tmp/fs_test.XXXXXX" : "fs_test.XXXXXX");
    CHECK(mkdtemp(top) != NULL, "mkdtemp: %s", strerror(errno));
    CHECK(chdir(top) == 0, "chdir %s: %s", top, strerror(errno));
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd: %s", strerror(errno));
    CHECK(strstr(cwd, "fs_test.") != NULL, "getcwd gave %s", cwd);
    CHECK_ERRNO(syscall(SYS_getcwd, buf, 2), ERANGE);
    umask(022);
    CHECK(umask(022) == 022, "umask did not return the previous mask");

    /* Creating, writing, reading, offsets. */
    int fd = open("file", O_CREAT | O_EXCL | O_WRONLY, 0666);
    CHECK(fd >= 0, "create file: %s", strerror(errno));
    write_all(fd, "hello world");
    CHECK_ERRNO(read(fd, buf, 1), EBADF);
    close(fd);
    CHECK_ERRNO(open("file", O_CREAT | O_EXCL | O_WRONLY, 0666), EEXIST);
    CHECK(stat("file", &st) == 0, "stat: %s", strerror(errno));
    CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644, "mode %o, expected regular 0644", st.st_mode);
    CHECK(st.st_size == 11 && st.st_nlink == 1, "size %ld nlink %ld", (long)st.st_size, (long)st.st_nlink);
    fd = open("file", O_RDWR);
    CHECK(fd >= 0, "open O_RDWR: %s", strerror(errno));
    CHECK(lseek(fd, 0, SEEK_END) == 11, "SEEK_END");
    CHECK(pread(fd, buf, 5, 6) == 5 && memcmp(buf, "world", 5) == 0, "pread");
    CHECK(lseek(fd, 0, SEEK_CUR) == 11, "pread moved the offset");
    CHECK(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite");
    CHECK(lseek(fd, 14, SEEK_SET) == 14 && write(fd, "!", 1) == 1, "write past the end");
    CHECK(fstat(fd, &st) == 0 && st.st_size == 15, "size after a hole: %ld", (long)st.st_size);
    CHECK(pread(fd, buf, 15, 0) == 15 && memcmp(buf, "HELLO world\0\0\0!", 15) == 0, "contents with a hole");
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate");
    CHECK_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK_ERRNO(pread(fd, buf, 1, -1), EINVAL);
    close(fd);
    fd = open("file", O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && lseek(fd, 0, SEEK_SET) == 0, "open O_APPEND");
    write_all(fd, "+tail");
    close(fd);
    expect_contents("file", "HELLO+tail");
    CHECK(truncate("file", 2) == 0, "truncate: %s", strerror(errno));
    expect_contents("file", "HE");
    fd = open("file", O_RDWR | O_TRUNC);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC");

    /* Descriptors: dup shares the offset, CLOEXEC is per descriptor. */
    write_all(fd, "abcdef");
    int d1 = dup(fd);
    CHECK(d1 > fd, "dup gave %d", d1);
    CHECK(lseek(d1, 2, SEEK_SET) == 2 && lseek(fd, 0, SEEK_CUR) == 2, "dup shares the offset");
    CHECK(dup2(fd, 50) == 50 && fcntl(50, F_GETFD) == 0, "dup2");
    CHECK(dup3(fd, 51, O_CLOEXEC) == 51 && fcntl(51, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
    CHECK(fcntl(fd, F_GETFD) == 0, "CLOEXEC leaked to the original descriptor");
    CHECK_ERRNO(dup3(fd, fd, 0), EINVAL);
    CHECK(dup2(fd, fd) == fd, "dup2 to itself");
    int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 60);
    CHECK(d2 == 60 && fcntl(d2, F_GETFD) == FD_CLOEXEC, "F_DUPFD_CLOEXEC gave %d", d2);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL access mode");
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(d1, F_GETFL) & O_NONBLOCK), "F_SETFL is shared by dups");
    CHECK(close(50) == 0 && close(51) == 0 && close(60) == 0 && close(d1) == 0 && close(fd) == 0, "close");
    CHECK_ERRNO(close(fd), EBADF);
    CHECK_ERRNO(fcntl(fd, F_GETFD), EBADF);
    int cfd = open("file", O_RDONLY | O_CLOEXEC);
    CHECK(cfd >= 0 && fcntl(cfd, F_GETFD) == FD_CLOEXEC, "O_CLOEXEC");
    close(cfd);

    /* Directories and symlinks. */
    CHECK(mkdir("sub", 0777) == 0, "mkdir: %s", strerror(errno));
    CHECK(stat("sub", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755, "mkdir mode %o", st.st_mode);
    CHECK_ERRNO(mkdir("sub", 0777), EEXIST);
    CHECK(symlink("sub", "lnk") == 0, "symlink: %s", strerror(errno));
    CHECK(lstat("lnk", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 3, "lstat of a symlink");
    CHECK(stat("lnk", &st) == 0 && S_ISDIR(st.st_mode), "stat follows the symlink");
    CHECK(readlink("lnk", buf, sizeof buf) == 3 && memcmp(buf, "sub", 3) == 0, "readlink");
    CHECK_ERRNO(readlink("file", buf, sizeof buf), EINVAL);
    CHECK_ERRNO(open("lnk", O_RDONLY | O_NOFOLLOW), ELOOP);
    fd = open("lnk/", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0, "open lnk/ O_DIRECTORY: %s", strerror(errno));
    close(fd);
    CHECK_ERRNO(open("file", O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERRNO(open("sub", O_WRONLY), EISDIR);
    CHECK(symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0, "symlink loop");
    CHECK_ERRNO(open("loop1", O_RDONLY), ELOOP);
    CHECK(symlink("nowhere", "dangling") == 0, "dangling symlink");
    CHECK_ERRNO(stat("dangling", &st), ENOENT);

    /* *at calls relative to a directory descriptor. */
    int dirfd = open("sub", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0, "open sub: %s", strerror(errno));
    fd = openat(dirfd, "inner", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0, "openat: %s", strerror(errno));
    write_all(fd, "in");
    close(fd);
    expect_contents("sub/inner", "in");
    CHECK(mkdirat(dirfd, "deeper", 0700) == 0, "mkdirat");
    CHECK(fstatat(dirfd, "deeper", &st, 0) == 0 && (st.st_mode & 0777) == 0700, "fstatat");
    CHECK(faccessat(dirfd, "inner", R_OK | W_OK, 0) == 0, "faccessat");
    CHECK_ERRNO(access("file", X_OK), EACCES);
    CHECK(chmod("file", 0755) == 0 && access("file", X_OK) == 0, "chmod +x");
    const char *names[] = {"inner", "deeper"};
    expect_listing(dirfd, names, 2);
    CHECK(unlinkat(dirfd, "deeper", AT_REMOVEDIR) == 0, "unlinkat AT_REMOVEDIR");
    CHECK_ERRNO(unlinkat(dirfd, "inner", AT_REMOVEDIR), ENOTDIR);
    CHECK_ERRNO(openat(fd, "x", O_RDONLY), EBADF);
    CHECK_ERRNO(openat(open("file", O_RDONLY), "x", O_RDONLY), ENOTDIR);

    /* rename, unlink, rmdir and their errors. */
    CHECK(rename("file", "sub/moved") == 0, "rename: %s", strerror(errno));
    CHECK_ERRNO(stat("file", &st), ENOENT);
    CHECK_ERRNO(rename("sub", "sub/inner2"), EINVAL);
    CHECK_ERRNO(rmdir("sub"), ENOTEMPTY);
    CHECK_ERRNO(unlink("sub"), EISDIR);
    CHECK_ERRNO(rmdir("sub/moved"), ENOTDIR);
    CHECK_ERRNO(rename("sub/moved", "sub/nodir/x"), ENOENT);
    fd = open("sub/moved", O_RDONLY);
    CHECK(fd >= 0, "open moved: %s", strerror(errno));
    CHECK(unlink("sub/moved") == 0, "unlink");
    CHECK(read(fd, buf, 2) == 2 && memcmp(buf, "ab", 2) == 0, "an unlinked open file stays readable");
    CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0, "nlink after unlink is %ld", (long)st.st_nlink);
    close(fd);
    const char *after[] = {"inner"};
    expect_listing(dirfd, after, 1);
    close(dirfd);
    struct timespec times[2] = {{1000000000, 0}, {1234567890, 500}};
    CHECK(utimensat(AT_FDCWD, "sub/inner", times, 0) == 0, "utimensat: %s", strerror(errno));
    CHECK(stat("sub/inner", &st) == 0 && st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 500, "mtime");

    /* Bad input: the errno Linux gives. */
    CHECK_ERRNO(open("", O_RDONLY), ENOENT);
    CHECK_ERRNO(open((const char *)1, O_RDONLY), EFAULT);
    CHECK_ERRNO(open("sub/inner/x", O_RDONLY), ENOTDIR);
    CHECK_ERRNO(open("no/such/dir", O_RDONLY), ENOENT);
    static char longpath[PATH_MAX + 16];
    memset(longpath, 'a', sizeof longpath - 1);
    CHECK_ERRNO(open(longpath, O_RDONLY), ENAMETOOLONG);
    memset(longpath, 0, sizeof longpath);
    memset(longpath, 'b', NAME_MAX + 1);
    CHECK_ERRNO(open(longpath, O_RDONLY), ENAMETOOLONG);
    CHECK_ERRNO(stat("sub/inner/", &st), ENOTDIR);

    /* Pipes: non-blocking reads, poll, select, EOF, EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2: %s", strerror(errno));
    CHECK_ERRNO(read(p[0], buf, 1), EAGAIN);
    struct pollfd pfd[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    CHECK(poll(pfd, 2, 0) == 1 && pfd[0].revents == 0 && pfd[1].revents == POLLOUT, "poll of an empty pipe");
    write_all(p[1], "xyz");
    CHECK(poll(pfd, 1, 1000) == 1 && pfd[0].revents == POLLIN, "poll after a write");
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {1, 0};
    CHECK(select(p[0] + 1, &rs, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &rs), "select");
    CHECK(read(p[0], buf, sizeof buf) == 3, "read the pipe");
    close(p[1]);
    CHECK(poll(pfd, 1, 1000) == 1 && (pfd[0].revents & POLLHUP), "POLLHUP after the writer closed");
    CHECK(read(p[0], buf, 1) == 0, "EOF after the writer closed");
    close(p[0]);
    CHECK(pipe(p) == 0, "pipe");
    close(p[0]);
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
    close(p[1]);
    struct pollfd bad = {999, POLLIN, 0};
    CHECK(poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL, "POLLNVAL for a closed descriptor");

    /* Devices. */
    fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0 && write(fd, "abc", 3) == 3 && read(fd, buf, 3) == 0, "/dev/null");
    CHECK(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is a character device");
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, 8);
    CHECK(fd >= 0 && read(fd, buf, 8) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0, "/dev/zero");
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    memset(buf, 0, 32);
    CHECK(fd >= 0 && read(fd, buf, 32) == 32, "/dev/urandom");
    int nonzero = 0;
    for (int i = 0; i < 32; i++)
        nonzero |= buf[i];
    CHECK(nonzero, "/dev/urandom gave zeros");
    close(fd);

    /* A private file mapping sees the file; writes to it stay private. */
    fd = open("sub/inner", O_RDWR);
    CHECK(fd >= 0, "open for mmap");
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
    CHECK(m[0] == 'i' && m[1] == 'n' && m[2] == 0, "mapped bytes");
    m[0] = 'X';
    CHECK(pread(fd, buf, 2, 0) == 2 && buf[0] == 'i', "MAP_PRIVATE wrote through");
    munmap(m, 4096);
    close(fd);

    /* Clean up. */
    CHECK(unlink("sub/inner") == 0 && rmdir("sub") == 0, "clean sub");
    CHECK(unlink("lnk") == 0 && unlink("loop1") == 0 && unlink("loop2") == 0 && unlink("dangling") == 0, "clean links");
    CHECK(chdir("..") == 0 && rmdir(top) == 0, "remove %s: %s", top, strerror(errno));
    return pass(NULL);
}
