/*
 * xattr_test.c — extended attributes on tmpfs (issue 14): set/get/list/remove in their
 * path, l- (no follow) and f- (descriptor) forms, XATTR_CREATE/REPLACE, the size query with
 * size 0, ERANGE on a short buffer, ENODATA, E2BIG, EINVAL/ERANGE/EOPNOTSUPP names, user.*
 * refused on symlinks, trusted.* and security.* for root only, and EOPNOTSUPP on /proc and
 * on pipes. Linux 6.6+ tmpfs keeps user.* attributes (mm/shmem.c), as does egg.
 *
 * Layer: guest test program (Guest/c, check.h); runs natively on Linux (as root, on the
 * /dev/shm tmpfs) first. Kernel side: Sources/KernelCore/Syscalls/XattrSyscalls.swift and
 * VFS/ExtendedAttributes.swift.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

const char *const test_name = "xattr_test";

/* Whether the NUL-separated list of n bytes holds name. */
static int listed(const char *list, ssize_t n, const char *name)
{
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
        if (strcmp(list + i, name) == 0)
            return 1;
    return 0;
}

int main(void)
{
    const char *dir = "/dev/shm/egg_xattr";
    char path[128], link[128], buf[256];
    snprintf(path, sizeof path, "%s/f", dir);
    snprintf(link, sizeof link, "%s/l", dir);
    unlink(path);
    unlink(link);
    rmdir(dir);
    CHECK(mkdir(dir, 0755) == 0, "mkdir: %s", strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0, "open: %s", strerror(errno));

    /* Set, size query, short buffer, read back. */
    CHECK(setxattr(path, "user.a", "hello", 5, 0) == 0, "setxattr: %s", strerror(errno));
    CHECK(getxattr(path, "user.a", NULL, 0) == 5, "size query");
    CHECK_ERRNO(getxattr(path, "user.a", buf, 3), ERANGE);
    memset(buf, 0, sizeof buf);
    CHECK(getxattr(path, "user.a", buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0, "getxattr value");

    /* Flags. */
    CHECK_ERRNO(setxattr(path, "user.a", "x", 1, XATTR_CREATE), EEXIST);
    CHECK_ERRNO(setxattr(path, "user.b", "x", 1, XATTR_REPLACE), ENODATA);
    CHECK_ERRNO(setxattr(path, "user.a", "x", 1, 4), EINVAL);
    CHECK(setxattr(path, "user.a", "hi", 2, XATTR_REPLACE) == 0, "replace: %s", strerror(errno));
    CHECK(getxattr(path, "user.a", buf, sizeof buf) == 2 && memcmp(buf, "hi", 2) == 0, "replaced value");
    CHECK(setxattr(path, "user.b", "", 0, XATTR_CREATE) == 0, "empty value: %s", strerror(errno));
    CHECK(getxattr(path, "user.b", buf, sizeof buf) == 0, "empty value read back");

    /* Names. */
    CHECK_ERRNO(setxattr(path, "foo.bar", "x", 1, 0), EOPNOTSUPP);
    CHECK_ERRNO(getxattr(path, "foo.bar", buf, sizeof buf), EOPNOTSUPP);
    CHECK_ERRNO(setxattr(path, "user.", "x", 1, 0), EINVAL);
    CHECK_ERRNO(setxattr(path, "", "x", 1, 0), ERANGE);
    char longname[300];
    memset(longname, 'n', sizeof longname);
    memcpy(longname, "user.", 5);
    longname[256] = 0;
    CHECK_ERRNO(setxattr(path, longname, "x", 1, 0), ERANGE);
    longname[255] = 0;   /* 255 bytes: XATTR_NAME_MAX is allowed */
    CHECK(setxattr(path, longname, "x", 1, 0) == 0, "255-byte name: %s", strerror(errno));
    CHECK(removexattr(path, longname) == 0, "remove long name: %s", strerror(errno));

    /* Values past XATTR_SIZE_MAX. */
    static char big[65537];
    CHECK_ERRNO(setxattr(path, "user.big", big, sizeof big, 0), E2BIG);
    CHECK(setxattr(path, "user.big", big, 65536, 0) == 0, "64 KiB value: %s", strerror(errno));
    CHECK(getxattr(path, "user.big", NULL, 0) == 65536, "64 KiB size");
    CHECK(removexattr(path, "user.big") == 0, "remove big");

    /* Root's namespaces. */
    CHECK(setxattr(path, "trusted.t", "T", 1, 0) == 0, "trusted: %s", strerror(errno));
    CHECK(setxattr(path, "security.s", "S", 1, 0) == 0, "security: %s", strerror(errno));

    /* List: size query, ERANGE, contents. */
    ssize_t need = listxattr(path, NULL, 0);
    CHECK(need >= 35, "list size %zd", need);  /* user.a user.b trusted.t security.s */
    CHECK_ERRNO(listxattr(path, buf, (size_t)need - 1), ERANGE);
    ssize_t n = listxattr(path, buf, sizeof buf);
    CHECK(n == need, "list length %zd != %zd", n, need);
    CHECK(listed(buf, n, "user.a") && listed(buf, n, "user.b") && listed(buf, n, "trusted.t") &&
              listed(buf, n, "security.s"), "list contents");

    /* Remove. */
    CHECK(removexattr(path, "user.a") == 0, "removexattr: %s", strerror(errno));
    CHECK_ERRNO(removexattr(path, "user.a"), ENODATA);
    CHECK_ERRNO(getxattr(path, "user.a", buf, sizeof buf), ENODATA);

    /* Descriptor forms. */
    CHECK(fsetxattr(fd, "user.fd", "12", 2, 0) == 0, "fsetxattr: %s", strerror(errno));
    CHECK(fgetxattr(fd, "user.fd", buf, sizeof buf) == 2, "fgetxattr");
    n = flistxattr(fd, buf, sizeof buf);
    CHECK(n > 0 && listed(buf, n, "user.fd"), "flistxattr");
    CHECK(fremovexattr(fd, "user.fd") == 0, "fremovexattr: %s", strerror(errno));
    CHECK_ERRNO(fgetxattr(fd, "user.fd", buf, sizeof buf), ENODATA);
    int opath = open(path, O_PATH);
    CHECK(opath >= 0, "O_PATH open");
    CHECK_ERRNO(fgetxattr(opath, "user.b", buf, sizeof buf), EBADF);
    close(opath);

    /* Symbolic links: user.* only on files and directories; the path forms follow. */
    CHECK(symlink(path, link) == 0, "symlink: %s", strerror(errno));
    CHECK_ERRNO(lsetxattr(link, "user.x", "x", 1, 0), EPERM);
    CHECK_ERRNO(lgetxattr(link, "user.x", buf, sizeof buf), ENODATA);
    CHECK(lsetxattr(link, "trusted.x", "L", 1, 0) == 0, "trusted on a symlink: %s", strerror(errno));
    CHECK(lgetxattr(link, "trusted.x", buf, sizeof buf) == 1 && buf[0] == 'L', "lgetxattr");
    n = llistxattr(link, buf, sizeof buf);
    CHECK(n > 0 && listed(buf, n, "trusted.x") && !listed(buf, n, "user.b"), "llistxattr");
    CHECK(setxattr(link, "user.via", "v", 1, 0) == 0, "setxattr through a link: %s", strerror(errno));
    CHECK(getxattr(path, "user.via", buf, sizeof buf) == 1, "followed to the file");
    CHECK_ERRNO(getxattr(path, "trusted.x", buf, sizeof buf), ENODATA);
    CHECK(lremovexattr(link, "trusted.x") == 0, "lremovexattr: %s", strerror(errno));

    /* Directories keep user.* too. */
    CHECK(setxattr(dir, "user.d", "d", 1, 0) == 0, "directory: %s", strerror(errno));

    /* No handlers: /proc, pipes. */
    CHECK_ERRNO(setxattr("/proc/self/status", "user.x", "x", 1, 0), EOPNOTSUPP);
    CHECK_ERRNO(getxattr("/proc/self/status", "user.x", buf, sizeof buf), EOPNOTSUPP);
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK_ERRNO(fsetxattr(p[0], "user.x", "x", 1, 0), EPERM);   /* user.*: files and directories */
    CHECK_ERRNO(fsetxattr(p[0], "trusted.x", "x", 1, 0), EOPNOTSUPP);
    CHECK(flistxattr(p[0], buf, sizeof buf) == 0, "flistxattr on a pipe lists nothing");

    /* Without privilege: trusted.* hidden, security.* and trusted.* not writable, user.*
     * needs write permission on the file. */
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        if (setuid(65534) != 0) _exit(10);
        errno = 0;
        if (getxattr(path, "trusted.t", buf, sizeof buf) != -1 || errno != ENODATA) _exit(11);
        if (setxattr(path, "trusted.u", "x", 1, 0) != -1 || errno != EPERM) _exit(12);
        if (setxattr(path, "security.u", "x", 1, 0) != -1 || errno != EPERM) _exit(13);
        if (setxattr(path, "user.u", "x", 1, 0) != -1 || errno != EACCES) _exit(14);
        if (getxattr(path, "security.s", buf, sizeof buf) != 1) _exit(15);
        ssize_t m = listxattr(path, buf, sizeof buf);
        if (m <= 0 || listed(buf, m, "trusted.t") || !listed(buf, m, "user.b")) _exit(16);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "wait");
    CHECK(WEXITSTATUS(status) == 0, "unprivileged step %d failed", WEXITSTATUS(status));

    close(fd);
    unlink(link);
    unlink(path);
    rmdir(dir);
    return pass(NULL);
}
