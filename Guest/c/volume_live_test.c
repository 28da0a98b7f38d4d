/*
 * volume_live_test.c — a volume (egg run -v HOST:GUEST) is live while the guest runs:
 * Tests/integration/volumes.sh drives it, natively first where a mode allows.
 *
 *   volume_live_test live DIR    writes DIR/live_out.txt (closed, not fsynced), makes
 *                                DIR/live_dir and renames DIR/live_tmp to
 *                                DIR/live_dir/moved.txt, prints "READY" and waits for a line
 *                                on stdin; meanwhile the host checks those are on its disk,
 *                                writes DIR/live_in.txt and rewrites DIR/live_edit.txt. Then
 *                                the guest checks it sees both (open, stat, getdents).
 *   volume_live_test erofs DIR   DIR is a read-only mount: every write path is EROFS
 *                                (open O_WRONLY/O_RDWR/O_CREAT/O_TRUNC, unlink, mkdir, rmdir,
 *                                rename, symlink, link, chmod, truncate, utimensat), reading works.
 *                                Natively this needs a read-only mount, so volumes.sh runs it
 *                                under egg only.
 *   volume_live_test bench DIR MIB   throughput: writes DIR/bench.bin (MIB MiB, 64 KiB
 *                                writes, then close, which puts it on the host), prints
 *                                READY and waits for a line on stdin while the host rewrites
 *                                the file with bytes of its own (0x5A); then opens it (the
 *                                reload from the host) and reads it all. Prints the MB/s of
 *                                both directions and checks every byte.
 *   volume_live_test fstype DIR  DIR is a 9p mount: statfs f_type V9FS_MAGIC (0x01021997),
 *                                a "9p" line for DIR in /proc/mounts and /proc/self/mountinfo,
 *                                and st_dev differs from the root's (under egg only).
 *
 * Layer: guest test programs (check.h). What it tests: Sources/Drivers/NinePVolume.swift,
 * NinePSyncCalls.swift, Sources/KernelCore/VFS/VolumeMount.swift.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

const char *const test_name = "volume_live_test";

static char path_buf[4][512];
static const char *at(int slot, const char *dir, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
    return path_buf[slot];
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("create %s: %s", path, strerror(errno));
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        fail("write %s: %s", path, strerror(errno));
    if (close(fd) != 0)
        fail("close %s: %s", path, strerror(errno));
}

static void check_file(const char *path, const char *want)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail("open %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0 || (size_t)n != strlen(want) || memcmp(buf, want, (size_t)n) != 0)
        fail("%s: unexpected contents (%zd bytes: %.*s)", path, n, n > 0 ? (int)n : 0, buf);
}

static int listed(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fail("opendir %s: %s", dir, strerror(errno));
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, name) == 0)
            found = 1;
    closedir(d);
    return found;
}

static int do_live(const char *dir)
{
    put(at(0, dir, "live_out.txt"), "written by the guest\n");
    if (mkdir(at(0, dir, "live_dir"), 0755) != 0)
        fail("mkdir: %s", strerror(errno));
    put(at(0, dir, "live_tmp"), "moved\n");
    if (rename(at(0, dir, "live_tmp"), at(1, dir, "live_dir/moved.txt")) != 0)
        fail("rename: %s", strerror(errno));
    /* The listing is read once before the host adds a name: a cache must not keep it. */
    CHECK(!listed(dir, "live_in.txt"), "live_in.txt listed before the host made it");
    struct stat st;
    CHECK(stat(at(0, dir, "live_in.txt"), &st) != 0 && errno == ENOENT, "live_in.txt exists too early");
    check_file(at(0, dir, "live_edit.txt"), "old\n");

    verdict_write("READY\n", 6);
    char line[64];
    ssize_t n = read(0, line, sizeof line);
    CHECK(n > 0, "stdin: %zd (%s)", n, n < 0 ? strerror(errno) : "end of file");

    check_file(at(0, dir, "live_in.txt"), "made during the run\n");
    CHECK(stat(at(0, dir, "live_in.txt"), &st) == 0 && st.st_size == 20, "stat live_in.txt: %s", strerror(errno));
    CHECK(listed(dir, "live_in.txt"), "live_in.txt not listed after the host made it");
    check_file(at(0, dir, "live_edit.txt"), "new contents\n");
    return pass("live");
}

static void want_erofs(int r, const char *what)
{
    if (r == 0)
        fail("%s succeeded on a read-only mount", what);
    if (errno != EROFS)
        fail("%s: %s, want EROFS", what, strerror(errno));
}

static int do_erofs(const char *dir)
{
    /* Something to read, written by the host before the run. */
    check_file(at(0, dir, "hello.txt"), "hello, Volume\n");
    const char *file = at(1, dir, "hello.txt");
    want_erofs(open(file, O_WRONLY) >= 0 ? 0 : -1, "open O_WRONLY");
    want_erofs(open(file, O_RDWR) >= 0 ? 0 : -1, "open O_RDWR");
    want_erofs(open(file, O_RDONLY | O_TRUNC) >= 0 ? 0 : -1, "open O_TRUNC");
    want_erofs(open(at(0, dir, "new.txt"), O_WRONLY | O_CREAT, 0644) >= 0 ? 0 : -1, "open O_CREAT");
    want_erofs(unlink(file), "unlink");
    want_erofs(mkdir(at(0, dir, "newdir"), 0755), "mkdir");
    want_erofs(rmdir(at(0, dir, "sub")), "rmdir");
    want_erofs(rename(file, at(0, dir, "renamed.txt")), "rename");
    want_erofs(symlink("hello.txt", at(0, dir, "link")), "symlink");
    want_erofs(link(file, at(0, dir, "hard")), "link");
    want_erofs(chmod(file, 0600), "chmod");
    want_erofs(truncate(file, 1), "truncate");
    want_erofs(utimensat(AT_FDCWD, file, NULL, 0), "utimensat");
    check_file(file, "hello, Volume\n");
    return pass("erofs");
}

static int do_fstype(const char *dir)
{
    struct statfs sf;
    CHECK(statfs(dir, &sf) == 0, "statfs: %s", strerror(errno));
    CHECK(sf.f_type == 0x01021997, "f_type %#lx, want V9FS_MAGIC 0x01021997", (unsigned long)sf.f_type);
    CHECK(sf.f_blocks > 0 && sf.f_bsize > 0, "statfs: %llu blocks of %ld", (unsigned long long)sf.f_blocks, (long)sf.f_bsize);
    struct stat a, b;
    CHECK(stat(dir, &a) == 0 && stat("/", &b) == 0, "stat: %s", strerror(errno));
    CHECK(a.st_dev != b.st_dev, "st_dev of the volume is the root's (%#llx)", (unsigned long long)a.st_dev);
    const char *files[2] = { "/proc/mounts", "/proc/self/mountinfo" };
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        CHECK(f != NULL, "%s: %s", files[i], strerror(errno));
        char line[512];
        int found = 0;
        while (fgets(line, sizeof line, f) != NULL) {
            char point[256];
            snprintf(point, sizeof point, " %s ", dir);
            if (strstr(line, point) != NULL && strstr(line, " 9p ") != NULL)
                found = 1;
        }
        fclose(f);
        CHECK(found, "no 9p line for %s in %s", dir, files[i]);
    }
    return pass("fstype");
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int do_bench(const char *dir, long mib)
{
    static unsigned char buf[65536];
    const char *path = at(0, dir, "bench.bin");
    memset(buf, 0xA5, sizeof buf);
    double t0 = seconds();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "create: %s", strerror(errno));
    for (long i = 0; i < mib * 16; i++)
        CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf, "write: %s", strerror(errno));
    CHECK(close(fd) == 0, "close: %s", strerror(errno));
    double written = seconds() - t0;

    verdict_write("READY\n", 6);
    char line[64];
    CHECK(read(0, line, sizeof line) > 0, "stdin");

    t0 = seconds();
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "open: %s", strerror(errno));
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        CHECK(n >= 0, "read: %s", strerror(errno));
        if (n == 0)
            break;
        for (ssize_t j = 0; j < n; j++)
            CHECK(buf[j] == 0x5A, "byte %ld is %#x, want the host's 0x5a", total + (long)j, buf[j]);
        total += n;
    }
    close(fd);
    double readTime = seconds() - t0;
    CHECK(total == mib << 20, "read %ld bytes, want %ld", total, mib << 20);
    return pass("bench %ld MiB: write+close %.1f MB/s, open+read of the host's rewrite %.1f MB/s",
                mib, (double)(mib << 20) / 1e6 / written, (double)(mib << 20) / 1e6 / readTime);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "bench") == 0)
        return do_bench(argv[2], atol(argv[3]));
    if (argc != 3)
        fail("usage: volume_live_test live|erofs|fstype DIR");
    if (strcmp(argv[1], "live") == 0)
        return do_live(argv[2]);
    if (strcmp(argv[1], "erofs") == 0)
        return do_erofs(argv[2]);
    if (strcmp(argv[1], "fstype") == 0)
        return do_fstype(argv[2]);
    fail("unknown mode %s", argv[1]);
}
