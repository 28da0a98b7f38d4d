/*
 * fs_conformance_test.c — namespace rules of issue 14 with Linux's errnos: chroot(2) (paths,
 * "..", getcwd outside the root, inheritance by fork, EPERM without CAP_SYS_CHROOT), EXDEV
 * for rename and link between mounts (/dev/shm and /), EBUSY for a mount point,
 * renameat2 RENAME_WHITEOUT (a 0/0 character device left at the old name), mknod of
 * S_IFSOCK and S_IFBLK nodes (a block device opens as ENXIO), EEXIST for mknod/mkdir on an
 * existing name, and openat2(2) (struct open_how size rules, unknown flags, RESOLVE_BENEATH,
 * RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS).
 *
 * Layer: guest test program (Guest/c, check.h); runs natively on Linux (as root) first.
 * Kernel side: Sources/KernelCore/VFS/FileSystem.swift, ResolveRules.swift,
 * Syscalls/RootAndResolveSyscalls.swift, PathSyscalls.swift.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

const char *const test_name = "fs_conformance_test";

#define NR_OPENAT2 437
struct how { uint64_t flags, mode, resolve; };

static long openat2_(int dirfd, const char *path, struct how *h, size_t size)
{
    return syscall(NR_OPENAT2, dirfd, path, h, size);
}

static void put(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1, "create %s: %s", path, strerror(errno));
    close(fd);
}

/* Runs f in a child and fails with its step number if it exits non-zero. */
static void in_child(const char *what, int (*f)(void))
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(f());
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: step %d failed (status %#x)", what,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
}

#define TOP "/dev/shm/egg_fsconf"
#define ROOTDIR "/egg_fsconf_root"

static int chroot_steps(void)
{
    char buf[256];
    if (chroot(ROOTDIR) != 0) return 1;
    /* The working directory stays where it was: outside the new root. */
    /* The raw call (the C libraries turn this answer into ENOENT). */
    if (syscall(SYS_getcwd, buf, sizeof buf) <= 0 || strncmp(buf, "(unreachable)", 13) != 0) return 2;
    if (chdir("/") != 0) return 3;
    if (getcwd(buf, sizeof buf) == NULL || strcmp(buf, "/") != 0) return 4;
    if (access("/inside", F_OK) != 0) return 5;
    if (access("/../../inside", F_OK) != 0) return 6;   /* ".." of the root is the root */
    if (chdir("sub") != 0 || getcwd(buf, sizeof buf) == NULL || strcmp(buf, "/sub") != 0) return 7;
    if (access("/egg_fsconf_root", F_OK) == 0) return 8;   /* the old tree is out of sight */
    /* A child inherits the root. */
    pid_t pid = fork();
    if (pid == 0) _exit(access("/inside", F_OK) == 0 ? 0 : 1);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 9;
    /* Without CAP_SYS_CHROOT: EPERM. */
    if (setuid(65534) != 0) return 10;
    errno = 0;
    if (chroot("/sub") != -1 || errno != EPERM) return 11;
    return 0;
}

int main(void)
{

    unlink(TOP "/f"); unlink(TOP "/g"); unlink(TOP "/sock"); unlink(TOP "/blk"); unlink(TOP "/l");
    rmdir(TOP "/d"); rmdir(TOP "/in/sub"); rmdir(TOP "/in");
    rmdir(TOP);
    unlink(ROOTDIR "/inside"); rmdir(ROOTDIR "/sub"); rmdir(ROOTDIR);
    unlink("/egg_fsconf_file");
    CHECK(mkdir(TOP, 0755) == 0, "mkdir: %s", strerror(errno));

    /* EXDEV between mounts: / (tmpfs or the host's root) and /dev/shm. */
    put(TOP "/f");
    CHECK_ERRNO(rename(TOP "/f", "/egg_fsconf_file"), EXDEV);
    CHECK_ERRNO(link(TOP "/f", "/egg_fsconf_file"), EXDEV);
    CHECK(access(TOP "/f", F_OK) == 0, "source kept");
    /* EBUSY: a mount point cannot be removed or renamed over. */
    CHECK_ERRNO(rmdir("/dev/shm"), EBUSY);
    CHECK(mkdir(TOP "/d", 0755) == 0, "mkdir d");
    errno = 0;
    if (rename("/dev/shm", "/dev/egg_fsconf_shm") == 0) {
        rename("/dev/egg_fsconf_shm", "/dev/shm");   /* put it back before failing */
        fail("renaming the /dev/shm mount point succeeded");
    }
    CHECK(errno == EBUSY, "rename of a mount point: %s", strerror(errno));

    /* mknod/mkdir on an existing name. */
    CHECK_ERRNO(mknod(TOP "/f", S_IFIFO | 0644, 0), EEXIST);
    CHECK_ERRNO(mkdir(TOP "/f", 0755), EEXIST);
    CHECK_ERRNO(mkdir(TOP "/d", 0755), EEXIST);

    /* S_IFSOCK and S_IFBLK nodes (block major 60: local/experimental use, no driver). */
    struct stat st;
    CHECK(mknod(TOP "/sock", S_IFSOCK | 0644, 0) == 0, "mknod S_IFSOCK: %s", strerror(errno));
    CHECK(lstat(TOP "/sock", &st) == 0 && S_ISSOCK(st.st_mode), "socket node mode %o", st.st_mode);
    CHECK_ERRNO(open(TOP "/sock", O_RDONLY), ENXIO);
    CHECK(mknod(TOP "/blk", S_IFBLK | 0600, makedev(60, 1)) == 0, "mknod S_IFBLK: %s", strerror(errno));
    CHECK(stat(TOP "/blk", &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 60 && minor(st.st_rdev) == 1,
          "block node %o %lx", st.st_mode, (unsigned long)st.st_rdev);
    CHECK_ERRNO(open(TOP "/blk", O_RDONLY), ENXIO);

    /* RENAME_WHITEOUT leaves a 0/0 character device with mode 0 at the old name. */
    put(TOP "/g");
    CHECK(syscall(SYS_renameat2, AT_FDCWD, TOP "/g", AT_FDCWD, TOP "/g2", 4) == 0, "RENAME_WHITEOUT: %s", strerror(errno));
    CHECK(lstat(TOP "/g", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0) && (st.st_mode & 07777) == 0,
          "whiteout %o %lx", st.st_mode, (unsigned long)st.st_rdev);
    CHECK(access(TOP "/g2", F_OK) == 0, "renamed");
    CHECK_ERRNO(syscall(SYS_renameat2, AT_FDCWD, TOP "/g2", AT_FDCWD, TOP "/f", 2 | 4), EINVAL);
    unlink(TOP "/g"); unlink(TOP "/g2");

    /* chroot, in a child so the rest of the test keeps its root. */
    CHECK(mkdir(ROOTDIR, 0755) == 0 && mkdir(ROOTDIR "/sub", 0755) == 0, "mkdir root: %s", strerror(errno));
    put(ROOTDIR "/inside");
    CHECK_ERRNO(chroot(TOP "/f"), ENOTDIR);
    CHECK_ERRNO(chroot(TOP "/missing"), ENOENT);
    in_child("chroot", chroot_steps);

    /* openat2. */
    CHECK(mkdir(TOP "/in", 0755) == 0 && mkdir(TOP "/in/sub", 0755) == 0, "mkdir in");
    int dfd = open(TOP "/in", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open in");
    struct how h = {O_RDONLY, 0, 0};
    int fd = (int)openat2_(dfd, "sub", &h, sizeof h);
    CHECK(fd >= 0, "openat2: %s", strerror(errno));
    close(fd);
    CHECK_ERRNO(openat2_(dfd, "sub", &h, 16), EINVAL);
    struct { struct how h; uint64_t extra; } big = {{O_RDONLY, 0, 0}, 0};
    fd = (int)openat2_(dfd, "sub", &big.h, sizeof big);
    CHECK(fd >= 0, "openat2 with a zeroed larger struct: %s", strerror(errno));
    close(fd);
    big.extra = 1;
    CHECK_ERRNO(openat2_(dfd, "sub", &big.h, sizeof big), E2BIG);
    h.flags = O_RDONLY | (1ULL << 40);
    CHECK_ERRNO(openat2_(dfd, "sub", &h, sizeof h), EINVAL);
    h.flags = O_RDONLY; h.mode = 0644;
    CHECK_ERRNO(openat2_(dfd, "sub", &h, sizeof h), EINVAL);   /* mode without O_CREAT */
    h.mode = 0; h.resolve = 0x40;
    CHECK_ERRNO(openat2_(dfd, "sub", &h, sizeof h), EINVAL);
    h.resolve = 0x08 | 0x10;
    CHECK_ERRNO(openat2_(dfd, "sub", &h, sizeof h), EINVAL);
    /* RESOLVE_BENEATH: no absolute paths, no ".." above the start. */
    h.resolve = 0x08;
    fd = (int)openat2_(dfd, "sub/../sub", &h, sizeof h);
    CHECK(fd >= 0, "BENEATH inside: %s", strerror(errno));
    close(fd);
    CHECK_ERRNO(openat2_(dfd, "..", &h, sizeof h), EXDEV);
    CHECK_ERRNO(openat2_(dfd, "/dev/shm", &h, sizeof h), EXDEV);
    CHECK(symlink("/dev/shm", TOP "/in/abs") == 0, "symlink abs");
    CHECK_ERRNO(openat2_(dfd, "abs", &h, sizeof h), EXDEV);
    /* RESOLVE_IN_ROOT: "/" and ".." stop at the start directory. */
    h.resolve = 0x10;
    fd = (int)openat2_(dfd, "/sub", &h, sizeof h);
    CHECK(fd >= 0, "IN_ROOT /sub: %s", strerror(errno));
    close(fd);
    fd = (int)openat2_(dfd, "../../sub", &h, sizeof h);
    CHECK(fd >= 0, "IN_ROOT ../../sub: %s", strerror(errno));
    close(fd);
    CHECK_ERRNO(openat2_(dfd, "abs", &h, sizeof h), ENOENT);   /* /dev/shm inside the root */
    /* RESOLVE_NO_SYMLINKS. */
    CHECK(symlink("sub", TOP "/in/rel") == 0, "symlink rel");
    h.resolve = 0;
    fd = (int)openat2_(dfd, "rel", &h, sizeof h);
    CHECK(fd >= 0, "through a symlink: %s", strerror(errno));
    close(fd);
    h.resolve = 0x04;
    CHECK_ERRNO(openat2_(dfd, "rel", &h, sizeof h), ELOOP);
    /* RESOLVE_NO_XDEV: /dev/shm -> /dev crosses a mount. */
    h.resolve = 0x01;
    CHECK_ERRNO(openat2_(dfd, "../../../dev", &h, sizeof h), EXDEV);
    fd = (int)openat2_(dfd, "sub", &h, sizeof h);
    CHECK(fd >= 0, "NO_XDEV inside: %s", strerror(errno));
    close(fd);
    /* RESOLVE_NO_MAGICLINKS: /proc/self/cwd is a magic link; /proc/self is not. */
    h.resolve = 0x02;
    CHECK_ERRNO(openat2_(AT_FDCWD, "/proc/self/cwd", &h, sizeof h), ELOOP);
    fd = (int)openat2_(AT_FDCWD, "/proc/self/status", &h, sizeof h);
    CHECK(fd >= 0, "NO_MAGICLINKS through /proc/self: %s", strerror(errno));
    close(fd);
    /* RESOLVE_CACHED with O_CREAT: EAGAIN. */
    h.flags = O_RDWR | O_CREAT; h.mode = 0644; h.resolve = 0x20;
    CHECK_ERRNO(openat2_(dfd, "new", &h, sizeof h), EAGAIN);
    close(dfd);

    unlink(TOP "/in/abs"); unlink(TOP "/in/rel"); rmdir(TOP "/in/sub"); rmdir(TOP "/in");
    unlink(TOP "/f"); unlink(TOP "/sock"); unlink(TOP "/blk"); rmdir(TOP "/d"); rmdir(TOP);
    unlink(ROOTDIR "/inside"); rmdir(ROOTDIR "/sub"); rmdir(ROOTDIR);
    return pass(NULL);
}
