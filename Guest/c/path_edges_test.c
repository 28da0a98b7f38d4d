/*
 * path_edges_test.c — descriptor and namespace edge cases of issue 14 item 6 with Linux's
 * errnos: O_PATH descriptors (EBADF for I/O, fstat and fchdir work), mknod of FIFOs and
 * character devices (1/3 null, 1/5 zero, others ENXIO on open), st_ino stable across dup and
 * links, link/rename/rmdir/unlink errors (EEXIST, ENOTEMPTY, EISDIR, ENOTDIR, EINVAL for a
 * directory into itself, RENAME_NOREPLACE and RENAME_EXCHANGE).
 *
 * Layer: guest test program (Guest/c, check.h); runs natively on Linux (as root) first.
 * Kernel side: Sources/KernelCore/Syscalls/PathSyscalls.swift, FileSyscalls.swift, VFS/.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

const char *const test_name = "path_edges_test";

static int rename2(const char *a, const char *b, unsigned flags)
{
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "create %s: %s", path, strerror(errno));
    close(fd);
}

static void expect(const char *path, const char *text)
{
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    CHECK(n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0, "%s holds '%s', expected '%s'", path, buf, text);
}

int main(void)
{
    const char *top = "/dev/shm/egg_path_edges";
    char path[256], other[256];
    /* A fresh tree (left over from an earlier native run: removed with unlink/rmdir). */
    const char *leftovers[] = {"a/b", "a", "f", "g", "h", "fifo", "null", "zero", "odd", "d1/sub", "d1", "d2", "x", NULL};
    for (int i = 0; leftovers[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", top, leftovers[i]);
        if (unlink(path) != 0)
            rmdir(path);
    }
    rmdir(top);
    CHECK(mkdir(top, 0755) == 0, "mkdir %s: %s", top, strerror(errno));
    CHECK(chdir(top) == 0, "chdir: %s", strerror(errno));

    /* O_PATH: no I/O, but fstat and fchdir work. */
    put("f", "file");
    int op = open("f", O_PATH);
    CHECK(op >= 0, "open O_PATH: %s", strerror(errno));
    char buf[16];
    CHECK_ERRNO(read(op, buf, 1), EBADF);
    CHECK_ERRNO(write(op, "x", 1), EBADF);
    CHECK_ERRNO(ioctl(op, FIONREAD, buf), EBADF);
    CHECK_ERRNO(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, op, 0), EBADF);
    CHECK_ERRNO(fsync(op), EBADF);
    struct stat st, st2;
    CHECK(fstat(op, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4, "fstat of O_PATH: %s", strerror(errno));
    close(op);
    CHECK(mkdir("d1", 0755) == 0, "mkdir d1");
    int dp = open("d1", O_PATH | O_DIRECTORY);
    CHECK(dp >= 0 && fchdir(dp) == 0, "fchdir O_PATH: %s", strerror(errno));
    CHECK(chdir(top) == 0, "chdir back");
    close(dp);

    /* st_ino: one file, the same number through dup and a hard link. */
    int fd = open("f", O_RDONLY);
    int dupfd = dup(fd);
    CHECK(link("f", "g") == 0, "link: %s", strerror(errno));
    CHECK(fstat(fd, &st) == 0 && fstat(dupfd, &st2) == 0 && st.st_ino == st2.st_ino, "st_ino differs across dup");
    CHECK(stat("g", &st2) == 0 && st.st_ino == st2.st_ino && st2.st_nlink == 2, "st_ino/nlink through a link");
    close(fd);
    close(dupfd);

    /* mknod: FIFOs and the character devices egg has. */
    CHECK(mknod("fifo", S_IFIFO | 0600, 0) == 0, "mknod FIFO: %s", strerror(errno));
    CHECK(stat("fifo", &st) == 0 && S_ISFIFO(st.st_mode), "FIFO type");
    CHECK(mknod("null", S_IFCHR | 0666, makedev(1, 3)) == 0, "mknod null: %s", strerror(errno));
    CHECK(mknod("zero", S_IFCHR | 0666, makedev(1, 5)) == 0, "mknod zero: %s", strerror(errno));
    CHECK(stat("null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3, "null rdev");
    fd = open("null", O_RDWR);
    CHECK(fd >= 0 && write(fd, "gone", 4) == 4 && read(fd, buf, 4) == 0, "mknod'ed /dev/null does not behave");
    close(fd);
    fd = open("zero", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, 4) == 4 && buf[0] == 0 && buf[3] == 0, "mknod'ed /dev/zero does not behave");
    close(fd);
    CHECK(mknod("odd", S_IFCHR | 0600, makedev(250, 7)) == 0, "mknod odd: %s", strerror(errno));
    CHECK_ERRNO(open("odd", O_RDONLY), ENXIO);
    CHECK_ERRNO(mknod("f", S_IFIFO | 0600, 0), EEXIST);
    CHECK_ERRNO(mknod("x", 0170000 | 0600, 0), EINVAL);

    /* link/unlink/rmdir errors. */
    CHECK_ERRNO(link("f", "g"), EEXIST);
    CHECK_ERRNO(link("d1", "x"), EPERM);
    CHECK_ERRNO(unlink("d1"), EISDIR);
    CHECK_ERRNO(rmdir("f"), ENOTDIR);
    CHECK(mkdir("d1/sub", 0755) == 0, "mkdir d1/sub");
    CHECK_ERRNO(rmdir("d1"), ENOTEMPTY);
    CHECK_ERRNO(rmdir("d1/sub/."), EINVAL);
    CHECK_ERRNO(unlink("f/x"), ENOTDIR);

    /* rename errors and flags. */
    CHECK_ERRNO(rename("d1", "d1/sub/deeper"), EINVAL);
    CHECK_ERRNO(rename("f", "d1"), EISDIR);
    CHECK_ERRNO(rename("d1", "f"), ENOTDIR);
    CHECK(mkdir("d2", 0755) == 0, "mkdir d2");
    CHECK_ERRNO(rename("d2", "d1"), ENOTEMPTY);
    put("h", "other");
    CHECK_ERRNO(rename2("f", "h", RENAME_NOREPLACE), EEXIST);
    CHECK(rename2("f", "h", RENAME_EXCHANGE) == 0, "RENAME_EXCHANGE: %s", strerror(errno));
    expect("f", "other");
    expect("h", "file");
    CHECK_ERRNO(rename2("f", "x", RENAME_EXCHANGE), ENOENT);
    CHECK_ERRNO(rename2("f", "h", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
    CHECK(rename2("h", "x", RENAME_NOREPLACE) == 0, "RENAME_NOREPLACE to a new name: %s", strerror(errno));
    expect("x", "file");
    CHECK(rename("x", "x") == 0, "rename onto itself");
    CHECK(rename("g", "x") == 0, "rename a link onto its own file: %s", strerror(errno));
    CHECK(access("g", F_OK) == 0, "rename between two links of one file removed the source");

    /* Clean up. */
    const char *names[] = {"d1/sub", "d1", "d2", NULL};
    unlink("f");
    unlink("g");
    unlink("x");
    unlink("fifo");
    unlink("null");
    unlink("zero");
    unlink("odd");
    for (int i = 0; names[i]; i++)
        CHECK(rmdir(names[i]) == 0, "rmdir %s: %s", names[i], strerror(errno));
    CHECK(chdir("/") == 0 && rmdir(top) == 0, "rmdir %s: %s", top, strerror(errno));
    (void)other;
    return pass("O_PATH, mknod, st_ino, link/rename/rmdir errnos");
}
