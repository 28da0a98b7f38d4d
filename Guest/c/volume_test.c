/*
 * volume_test.c — file calls on a directory shared with the host (egg run -v HOST:GUEST),
 * in three modes; Tests/integration/volumes.sh drives it, natively and under egg.
 *
 *   volume_test write DIR   makes files there: a text file, a directory, a file then
 *                           removed, and a SQLite-like journal (many small writes, fsync,
 *                           rename over the database); checks pread/pwrite, lseek, stat,
 *                           statfs, getdents, ftruncate and a private mmap on the way
 *   volume_test read DIR    checks, in a later run, what `write` left and what the host
 *                           added (DIR/from_host.txt, "made on the host\n")
 *   volume_test ro DIR      DIR is read-only: creating and writing fail (EROFS or EACCES)
 *                           and reading works
 *
 * Layer: guest test programs (check.h). Sources/Drivers/NinePVolume.swift is what it tests.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>

const char *const test_name = "volume_test";

static char path_buf[4][512];
static const char *at(int slot, const char *dir, const char *name)
{
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
    return path_buf[slot];
}

/* The database's expected bytes: record i is 64 bytes of (i * 7 + j) & 0xff. */
enum { RECORDS = 500, RECORD = 64 };
static void record(int i, unsigned char *out)
{
    for (int j = 0; j < RECORD; j++)
        out[j] = (unsigned char)((i * 7 + j) & 0xff);
}

static void write_all(int fd, const void *p, size_t n)
{
    if (write(fd, p, n) != (ssize_t)n)
        fail("write: %s", strerror(errno));
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
        fail("%s: unexpected contents (%zd bytes)", path, n);
}

static void check_database(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail("open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != RECORDS * RECORD)
        fail("%s: size %lld, want %d", path, (long long)st.st_size, RECORDS * RECORD);
    unsigned char got[RECORD], want[RECORD];
    for (int i = 0; i < RECORDS; i++) {
        if (pread(fd, got, RECORD, (off_t)i * RECORD) != RECORD)
            fail("pread record %d: %s", i, strerror(errno));
        record(i, want);
        if (memcmp(got, want, RECORD) != 0)
            fail("record %d differs", i);
    }
    close(fd);
}

static int do_write(const char *dir)
{
    /* A plain file, with pwrite into its middle and lseek/read back. */
    int fd = open(at(0, dir, "hello.txt"), O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0)
        fail("create hello.txt: %s", strerror(errno));
    write_all(fd, "hello, volume\n", 14);
    if (pwrite(fd, "V", 1, 7) != 1)
        fail("pwrite: %s", strerror(errno));
    char buf[32] = {0};
    if (lseek(fd, 0, SEEK_SET) != 0 || read(fd, buf, sizeof buf) != 14 || strcmp(buf, "hello, Volume\n") != 0)
        fail("read back after pwrite: \"%s\"", buf);
    /* A private mapping sees the bytes. */
    char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        fail("mmap: %s", strerror(errno));
    if (memcmp(m, "hello, Volume\n", 14) != 0)
        fail("mmap contents differ");
    munmap(m, 4096);
    if (fsync(fd) != 0)
        fail("fsync hello.txt: %s", strerror(errno));
    close(fd);

    /* A directory with a file; a file made then removed; a file truncated. */
    if (mkdir(at(0, dir, "sub"), 0755) != 0 && errno != EEXIST)
        fail("mkdir sub: %s", strerror(errno));
    fd = open(at(0, dir, "sub/inner.txt"), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0)
        fail("create sub/inner.txt: %s", strerror(errno));
    write_all(fd, "inner\n", 6);
    close(fd);
    fd = open(at(0, dir, "gone.txt"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        fail("create gone.txt: %s", strerror(errno));
    write_all(fd, "temporary\n", 10);
    close(fd);
    if (unlink(at(0, dir, "gone.txt")) != 0)
        fail("unlink gone.txt: %s", strerror(errno));
    fd = open(at(0, dir, "cut.txt"), O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0)
        fail("create cut.txt: %s", strerror(errno));
    write_all(fd, "0123456789", 10);
    if (ftruncate(fd, 4) != 0)
        fail("ftruncate: %s", strerror(errno));
    close(fd);

    /* The SQLite-like journal: many small writes, fsync, rename over the database. */
    fd = open(at(0, dir, "db.journal"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        fail("create db.journal: %s", strerror(errno));
    unsigned char rec[RECORD];
    for (int i = 0; i < RECORDS; i++) {
        record(i, rec);
        write_all(fd, rec, RECORD);
        if (i % 100 == 99 && fdatasync(fd) != 0)
            fail("fdatasync: %s", strerror(errno));
    }
    if (fsync(fd) != 0)
        fail("fsync db.journal: %s", strerror(errno));
    close(fd);
    if (rename(at(0, dir, "db.journal"), at(1, dir, "db")) != 0)
        fail("rename: %s", strerror(errno));
    check_database(at(0, dir, "db"));

    /* stat, statfs, getdents. */
    struct stat st;
    if (stat(at(0, dir, "sub"), &st) != 0 || !S_ISDIR(st.st_mode))
        fail("stat sub: not a directory");
    if (stat(at(0, dir, "cut.txt"), &st) != 0 || st.st_size != 4)
        fail("stat cut.txt: size %lld", (long long)st.st_size);
    struct statfs sf;
    if (statfs(dir, &sf) != 0 || sf.f_bsize <= 0)
        fail("statfs: %s", strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        fail("opendir: %s", strerror(errno));
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, "hello.txt") == 0 || strcmp(e->d_name, "sub") == 0 || strcmp(e->d_name, "db") == 0)
            seen++;
        if (strcmp(e->d_name, "gone.txt") == 0 || strcmp(e->d_name, "db.journal") == 0)
            fail("readdir lists %s", e->d_name);
    }
    closedir(d);
    if (seen != 3)
        fail("readdir found %d of hello.txt, sub, db", seen);
    sync();
    return pass("write");
}

static int do_read(const char *dir)
{
    check_file(at(0, dir, "hello.txt"), "hello, Volume\n");
    check_file(at(0, dir, "sub/inner.txt"), "inner\n");
    check_file(at(0, dir, "cut.txt"), "0123");
    check_file(at(0, dir, "from_host.txt"), "made on the host\n");
    check_database(at(0, dir, "db"));
    if (access(at(0, dir, "gone.txt"), F_OK) == 0 || errno != ENOENT)
        fail("gone.txt still there");
    if (access(at(0, dir, "db.journal"), F_OK) == 0 || errno != ENOENT)
        fail("db.journal still there");
    struct stat st;
    if (stat(at(0, dir, "sub/inner.txt"), &st) != 0 || (st.st_mode & 0777) != 0600)
        fail("sub/inner.txt mode %o, want 600", st.st_mode & 0777);
    return pass("read");
}

static int do_ro(const char *dir)
{
    check_file(at(0, dir, "hello.txt"), "hello, Volume\n");
    int fd = open(at(0, dir, "new.txt"), O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
        fail("created a file in a read-only volume");
    if (errno != EROFS && errno != EACCES)
        fail("create: %s, want EROFS or EACCES", strerror(errno));
    fd = open(at(0, dir, "hello.txt"), O_WRONLY);
    if (fd >= 0)
        fail("opened a read-only volume's file for writing");
    if (mkdir(at(0, dir, "newdir"), 0755) == 0)
        fail("mkdir in a read-only volume");
    return pass("ro");
}

int main(int argc, char **argv)
{
    if (argc != 3)
        fail("usage: volume_test write|read|ro DIR");
    if (strcmp(argv[1], "write") == 0)
        return do_write(argv[2]);
    if (strcmp(argv[1], "read") == 0)
        return do_read(argv[2]);
    if (strcmp(argv[1], "ro") == 0)
        return do_ro(argv[2]);
    fail("unknown mode %s", argv[1]);
}
