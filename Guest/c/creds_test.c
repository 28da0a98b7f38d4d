/*
 * creds_test.c — credentials and the permission checks that use them: set*id transitions,
 * setfsuid, supplementary groups, capget, and what the file system refuses an unprivileged
 * caller (EACCES for mode bits and directory search, EPERM for the sticky bit, chmod and
 * chown of others' files, explicit times), plus new files' owners, set-group-ID directory
 * inheritance, and chown clearing S_ISUID.
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * It needs root, as the external suites run: natively as another user it prints a SKIP line
 * and exits 77. It keeps saved uid 0 while testing so it can return to root to clean up,
 * and drops root completely only at the end. credentials(7), capabilities(7), path_resolution(7).
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>
#include <sys/time.h>

const char *const test_name = "creds_test";

/* capget(2)'s structures (linux/capability.h), version 3: two 32-bit words per set. */
struct cap_header { unsigned version; int pid; };
struct cap_data { unsigned effective, permitted, inheritable; };

static void caps(struct cap_data d[2])
{
    struct cap_header h = { 0x20080522, 0 };
    CHECK(syscall(SYS_capget, &h, d) == 0, "capget: %s", strerror(errno));
}

static char dir[64], paths[2][160];
static unsigned next_path;
/* DIR/name in one of two buffers used in turn, so a call may take two (rename). */
static const char *at(const char *name)
{
    char *p = paths[next_path++ % 2];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static void make_file(const char *name, mode_t mode, uid_t uid, gid_t gid)
{
    int fd = open(at(name), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0, "create %s: %s", name, strerror(errno));
    CHECK(write(fd, "data", 4) == 4, "write %s", name);
    close(fd);
    CHECK(chown(at(name), uid, gid) == 0, "chown %s: %s", name, strerror(errno));
    CHECK(chmod(at(name), mode) == 0, "chmod %s: %s", name, strerror(errno));
}

static void become_user(void)
{
    /* Group first: once the uid leaves 0, CAP_SETGID is gone. The saved uid stays 0. */
    CHECK(setresgid(1000, 1000, 1000) == 0, "setresgid: %s", strerror(errno));
    CHECK(setresuid(1000, 1000, 0) == 0, "setresuid(1000, 1000, 0): %s", strerror(errno));
}

static void become_root(void)
{
    CHECK(setresuid(0, 0, 0) == 0, "back to root through the saved uid: %s", strerror(errno));
    CHECK(setresgid(0, 0, 0) == 0, "setresgid(0): %s", strerror(errno));
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP creds_test: needs root (running as uid %d)\n", (int)geteuid());
        return 77;
    }
    umask(022);
    strcpy(dir, "/tmp/creds_test.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    CHECK(chmod(dir, 0755) == 0, "chmod dir");
    make_file("secret", 0600, 0, 0);
    make_file("public", 0644, 0, 0);
    CHECK(mkdir(at("closed"), 0700) == 0, "mkdir closed");
    CHECK(mkdir(at("sticky"), 0777) == 0 && chmod(at("sticky"), 01777) == 0, "sticky dir");
    make_file("sticky/roots", 0666, 0, 0);
    CHECK(mkdir(at("sgid"), 0777) == 0 && chown(at("sgid"), 0, 300) == 0 && chmod(at("sgid"), 02777) == 0, "sgid dir");

    /* Root: chown clears S_ISUID (and S_ISGID with group execute), even for root. */
    make_file("setuid", 06755, 0, 0);
    CHECK(chown(at("setuid"), 2000, (gid_t)-1) == 0, "chown setuid file");
    struct stat st;
    CHECK(stat(at("setuid"), &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_uid == 2000,
          "after chown: mode %o uid %d, expected 755 and 2000", st.st_mode & 07777, (int)st.st_uid);

    /* Supplementary groups. */
    gid_t groups[2] = { 200, 100 }, got[4];
    CHECK(setgroups(2, groups) == 0, "setgroups: %s", strerror(errno));
    CHECK(getgroups(0, NULL) == 2, "getgroups(0) = %d", getgroups(0, NULL));
    CHECK_ERRNO(getgroups(1, got), EINVAL);
    CHECK(getgroups(4, got) == 2 && ((got[0] == 100 && got[1] == 200) || (got[0] == 200 && got[1] == 100)),
          "getgroups contents");

    /* capget: root holds CAP_SETUID (7), CAP_DAC_OVERRIDE (1), CAP_CHOWN (0). */
    struct cap_data d[2];
    caps(d);
    CHECK((d[0].effective & 0x83) == 0x83 && (d[0].permitted & 0x83) == 0x83, "root's caps %x", d[0].effective);

    /* setfsuid: returns the previous fs uid; a non-zero fs uid loses the file capabilities. */
    CHECK(setfsuid(1000) == 0, "setfsuid(1000) should return 0");
    CHECK_ERRNO(open(at("secret"), O_RDONLY), EACCES);
    CHECK(setfsuid(0) == 1000, "setfsuid(0) should return 1000");
    int fd = open(at("secret"), O_RDONLY);
    CHECK(fd >= 0, "root reads secret again: %s", strerror(errno));
    close(fd);

    /* seteuid keeps the real id: access(2) answers for the real id, AT_EACCESS for the effective. */
    CHECK(seteuid(1000) == 0, "seteuid(1000): %s", strerror(errno));
    CHECK(getuid() == 0 && geteuid() == 1000, "ids after seteuid: %d %d", (int)getuid(), (int)geteuid());
    CHECK(access(at("secret"), R_OK) == 0, "access with real uid 0: %s", strerror(errno));
    CHECK_ERRNO(faccessat(AT_FDCWD, at("secret"), R_OK, AT_EACCESS), EACCES);
    CHECK_ERRNO(open(at("secret"), O_RDONLY), EACCES);
    CHECK(seteuid(0) == 0, "seteuid(0): %s", strerror(errno));

    become_user();
    uid_t r, e, s;
    CHECK(getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1000 && s == 0, "getresuid %d %d %d", r, e, s);
    CHECK(getgid() == 1000 && getegid() == 1000, "gids");
    caps(d);
    CHECK(d[0].effective == 0 && d[1].effective == 0, "effective caps after leaving euid 0: %x", d[0].effective);
    CHECK((d[0].permitted & 0x83) == 0x83, "the saved uid 0 keeps the permitted set");
    CHECK_ERRNO(setuid(2000), EPERM);
    CHECK_ERRNO(setgroups(0, NULL), EPERM);
    CHECK_ERRNO(setresgid(5, 5, 5), EPERM);

    /* Mode bits and directory search. */
    CHECK_ERRNO(open(at("secret"), O_RDONLY), EACCES);
    CHECK_ERRNO(access(at("secret"), R_OK), EACCES);
    fd = open(at("public"), O_RDONLY);
    CHECK(fd >= 0, "read public: %s", strerror(errno));
    close(fd);
    CHECK_ERRNO(open(at("public"), O_WRONLY), EACCES);
    CHECK_ERRNO(open(at("public"), O_RDONLY | O_TRUNC), EACCES);
    CHECK_ERRNO(truncate(at("public"), 0), EACCES);
    CHECK_ERRNO(access(at("public"), W_OK), EACCES);
    CHECK(access(at("public"), R_OK) == 0, "access R_OK public");
    CHECK_ERRNO(open(at("closed/x"), O_RDONLY), EACCES);
    CHECK_ERRNO(chdir(at("closed")), EACCES);
    CHECK_ERRNO(open(at("new"), O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERRNO(mkdir(at("newdir"), 0755), EACCES);
    CHECK_ERRNO(unlink(at("public")), EACCES);
    CHECK_ERRNO(chmod(at("public"), 0666), EPERM);
    CHECK_ERRNO(chown(at("public"), 1000, 1000), EPERM);
    CHECK_ERRNO(utimes(at("public"), NULL), EACCES);
    struct timeval tv[2] = { { 1, 0 }, { 1, 0 } };
    CHECK_ERRNO(utimes(at("public"), tv), EPERM);

    /* Sticky directory: others' files cannot be removed or renamed; one's own can. */
    CHECK_ERRNO(unlink(at("sticky/roots")), EPERM);
    CHECK_ERRNO(rename(at("sticky/roots"), at("sticky/mine")), EPERM);
    fd = open(at("sticky/mine"), O_CREAT | O_EXCL | O_WRONLY, 0666);
    CHECK(fd >= 0, "create in sticky dir: %s", strerror(errno));
    CHECK(fstat(fd, &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000 && (st.st_mode & 0777) == 0644,
          "new file uid %d gid %d mode %o, expected 1000 1000 644", (int)st.st_uid, (int)st.st_gid, st.st_mode & 0777);
    close(fd);
    CHECK(chmod(at("sticky/mine"), 0600) == 0, "chmod own file: %s", strerror(errno));
    CHECK(chown(at("sticky/mine"), (uid_t)-1, 100) == 0, "chgrp own file to a supplementary group: %s", strerror(errno));
    CHECK_ERRNO(chown(at("sticky/mine"), (uid_t)-1, 0), EPERM);
    CHECK_ERRNO(chown(at("sticky/mine"), 0, (gid_t)-1), EPERM);
    CHECK(utimes(at("sticky/mine"), tv) == 0, "owner sets explicit times: %s", strerror(errno));
    CHECK(unlink(at("sticky/mine")) == 0, "unlink own file in sticky dir: %s", strerror(errno));

    /* Set-group-ID directory: new nodes take its group; directories also its S_ISGID bit. */
    CHECK(mkdir(at("sgid/sub"), 0755) == 0, "mkdir in sgid dir: %s", strerror(errno));
    CHECK(stat(at("sgid/sub"), &st) == 0 && st.st_gid == 300 && (st.st_mode & S_ISGID) && st.st_uid == 1000,
          "sgid inheritance: gid %d mode %o", (int)st.st_gid, st.st_mode & 07777);

    become_root();
    fd = open(at("secret"), O_RDONLY);
    CHECK(fd >= 0, "root again reads secret: %s", strerror(errno));
    close(fd);
    const char *files[] = { "sticky/roots", "secret", "public", "setuid" };
    const char *dirs[] = { "sgid/sub", "sgid", "sticky", "closed" };
    for (unsigned i = 0; i < 4; i++)
        CHECK(unlink(at(files[i])) == 0, "cleanup %s: %s", files[i], strerror(errno));
    for (unsigned i = 0; i < 4; i++)
        CHECK(rmdir(at(dirs[i])) == 0, "cleanup %s: %s", dirs[i], strerror(errno));
    CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));

    /* Dropping every uid 0 clears the permitted set: no way back. */
    CHECK(setgroups(0, NULL) == 0, "setgroups(0)");
    CHECK(setgid(1000) == 0 && setuid(1000) == 0, "setuid(1000): %s", strerror(errno));
    caps(d);
    CHECK(d[0].permitted == 0 && d[1].permitted == 0 && d[0].effective == 0, "caps after setuid(1000): %x", d[0].permitted);
    CHECK_ERRNO(setuid(0), EPERM);
    CHECK_ERRNO(seteuid(0), EPERM);
    return pass(NULL);
}
