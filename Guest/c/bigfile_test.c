/*
 * bigfile_test.c — large and sparse files on the in-memory file system (issue 12 items 1-3).
 *
 * Layer: guest test program (see check.h). It works in /tmp when /tmp is tmpfs (always under
 * egg), else in /dev/shm (a host whose /tmp is on disk). Filling to ENOSPC happens only when
 * the file system is at most 1 GiB (egg's default -m gives about 125 MiB); on a larger one
 * (a host's /dev/shm is half its RAM) it writes a bounded 64 MiB and checks the free count
 * instead, so a native run never eats the host's memory. Modes:
 *   bigfile_test                 sparse write at 1 TiB, ftruncate to 2 TiB, statfs/fstatfs
 *                                figures, writing until ENOSPC then deleting and going on,
 *                                and a huge count with a bad pointer (EFAULT)
 *   bigfile_test make PATH SIZE  write SIZE bytes of the check pattern to PATH (set-up)
 *   bigfile_test check PATH SIZE read PATH and compare it with the pattern (a --files file),
 *                                then write two bytes in the middle, check, and undo them
 * Linux references: statfs(2), tmpfs(5) (size= defaults to half of RAM), lseek(2)
 * SEEK_DATA/SEEK_HOLE, write(2) ENOSPC/EFBIG/EFAULT, mm/shmem.c.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/vfs.h>

const char *const test_name = "bigfile_test";

#define TMPFS_MAGIC_VALUE 0x01021994
#define PROC_MAGIC_VALUE 0x9fa0
#define TIB (1ULL << 40)

/* The check pattern: a function of the offset that differs in every byte of a page and
 * from page to page, so a misplaced or zeroed page shows. */
static unsigned char pattern(uint64_t offset)
{
    return (unsigned char)(offset * 131 + (offset >> 12) * 7 + 1);
}

static void fill(unsigned char *buf, size_t n, uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(offset + i);
}

static unsigned char buffer[1 << 20];

static int make_file(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("make: open %s: %s", path, strerror(errno));
    for (uint64_t done = 0; done < size;) {
        size_t n = size - done < sizeof buffer ? (size_t)(size - done) : sizeof buffer;
        fill(buffer, n, done);
        ssize_t w = write(fd, buffer, n);
        if (w <= 0)
            fail("make: write at %llu: %s", (unsigned long long)done, strerror(errno));
        done += (uint64_t)w;
    }
    close(fd);
    return pass("made %s", path);
}

static int check_file(const char *path, uint64_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail("check: open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size)
        fail("check: size %lld, expected %llu", (long long)st.st_size, (unsigned long long)size);
    uint64_t done = 0;
    for (;;) {
        ssize_t r = read(fd, buffer, sizeof buffer);
        if (r < 0)
            fail("check: read at %llu: %s", (unsigned long long)done, strerror(errno));
        if (r == 0)
            break;
        /* Every 61st byte (a prime stride: each page is sampled at shifting offsets) and the
         * last: a lost, zeroed or misplaced page shows, at a sixtieth of the cost under TCG. */
        for (size_t i = 0; i < (size_t)r; i += 61)
            if (buffer[i] != pattern(done + i))
                fail("check: byte %llu is %u, expected %u", (unsigned long long)(done + i), buffer[i], pattern(done + i));
        if (buffer[r - 1] != pattern(done + (uint64_t)r - 1))
            fail("check: byte %llu differs", (unsigned long long)(done + (uint64_t)r - 1));
        done += (uint64_t)r;
    }
    if (done != size)
        fail("check: read %llu bytes, expected %llu", (unsigned long long)done, (unsigned long long)size);
    /* A write to the middle changes that page only (the copy-on-write of a --files page). */
    close(fd);
    fd = open(path, O_RDWR);
    if (fd < 0)
        fail("check: reopen for writing: %s", strerror(errno));
    uint64_t middle = size / 2;
    if (pwrite(fd, "XY", 2, (off_t)middle) != 2)
        fail("check: pwrite in the middle: %s", strerror(errno));
    unsigned char around[8];
    if (pread(fd, around, sizeof around, (off_t)(middle - 3)) != (ssize_t)sizeof around)
        fail("check: pread after the write: %s", strerror(errno));
    for (int i = 0; i < 8; i++) {
        unsigned char expect = i == 3 ? 'X' : i == 4 ? 'Y' : pattern(middle - 3 + (uint64_t)i);
        if (around[i] != expect)
            fail("check: byte %llu is %u, expected %u", (unsigned long long)(middle - 3 + (uint64_t)i),
                 around[i], expect);
    }
    /* Put the two bytes back, so that a host file checked natively is left as it was. */
    unsigned char original[2] = {pattern(middle), pattern(middle + 1)};
    if (pwrite(fd, original, 2, (off_t)middle) != 2)
        fail("check: restoring the two bytes: %s", strerror(errno));
    close(fd);
    return pass("%llu bytes", (unsigned long long)done);
}

static char dir[16] = "/tmp";

/* DIR/NAME.PID: runs of the three builds side by side (run.sh --jobs) must not meet. */
static const char *in_dir(const char *name)
{
    static char paths[4][64];
    static int next;
    char *p = paths[next++ & 3];
    snprintf(p, 64, "%s/%s.%d", dir, name, (int)getpid());
    return p;
}

static void sparse(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail("open %s: %s", path, strerror(errno));
    if (lseek(fd, (off_t)TIB, SEEK_SET) != (off_t)TIB)
        fail("lseek to 1 TiB: %s", strerror(errno));
    if (write(fd, "z", 1) != 1)
        fail("1-byte write at 1 TiB: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != TIB + 1)
        fail("size after the sparse write: %lld", (long long)st.st_size);
    if (st.st_blocks > 64)
        fail("a sparse file of one byte holds %lld blocks", (long long)st.st_blocks);
    char c = 'q';
    if (pread(fd, &c, 1, (off_t)(TIB / 2)) != 1 || c != 0)
        fail("a hole does not read as zero");
    off_t data = lseek(fd, 0, SEEK_DATA);
    if (data < 0 || (uint64_t)data > TIB || (uint64_t)data < TIB - 4096)
        fail("SEEK_DATA from 0 gives %lld", (long long)data);
    if (ftruncate(fd, (off_t)(2 * TIB)) != 0)
        fail("ftruncate to 2 TiB: %s", strerror(errno));
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != 2 * TIB)
        fail("size after ftruncate: %lld", (long long)st.st_size);
    if (pread(fd, &c, 1, (off_t)TIB) != 1 || c != 'z')
        fail("the byte at 1 TiB is lost after growing");
    if (ftruncate(fd, 0) != 0)
        fail("ftruncate to 0: %s", strerror(errno));
    close(fd);
    unlink(path);
}

/* Writes 1 MiB chunks until ENOSPC (or `bound` bytes); returns the bytes written. */
static uint64_t fill_until_full(const char *path, int *fd_out, uint64_t bound)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail("open %s: %s", path, strerror(errno));
    memset(buffer, 0x5A, sizeof buffer);
    uint64_t total = 0;
    for (;;) {
        ssize_t w = write(fd, buffer, sizeof buffer);
        if (w < 0) {
            if (errno != ENOSPC)
                fail("filling: write after %llu bytes: %s, expected ENOSPC", (unsigned long long)total,
                     strerror(errno));
            break;
        }
        if (w == 0)
            fail("filling: write returned 0");
        total += (uint64_t)w;
        if (total >= bound)
            break;
    }
    *fd_out = fd;
    return total;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "make") == 0)
        return make_file(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "check") == 0)
        return check_file(argv[2], strtoull(argv[3], NULL, 10));

    struct statfs before;
    if (statfs("/tmp", &before) != 0)
        fail("statfs /tmp: %s", strerror(errno));
    if (before.f_type != TMPFS_MAGIC_VALUE) {
        strcpy(dir, "/dev/shm");
        if (statfs(dir, &before) != 0 || before.f_type != TMPFS_MAGIC_VALUE)
            fail("neither /tmp nor /dev/shm is tmpfs (f_type %#lx)", (unsigned long)before.f_type);
    }
    sparse(in_dir("bigfile_sparse"));
    if (statfs(dir, &before) != 0)
        fail("statfs %s: %s", dir, strerror(errno));
    if (before.f_bsize != 4096 || before.f_blocks == 0 || before.f_bfree > before.f_blocks || before.f_namelen != 255)
        fail("/tmp figures: bsize %ld blocks %llu bfree %llu namelen %ld", (long)before.f_bsize,
             (unsigned long long)before.f_blocks, (unsigned long long)before.f_bfree, (long)before.f_namelen);
    struct statfs proc;
    if (statfs("/proc", &proc) != 0 || proc.f_type != PROC_MAGIC_VALUE)
        fail("statfs /proc: f_type %#lx (%s)", (unsigned long)proc.f_type, strerror(errno));
    if (statfs("/nonexistent-bigfile", &proc) == 0 || errno != ENOENT)
        fail("statfs of a missing path: %s, expected ENOENT", strerror(errno));

    /* Fill /tmp until ENOSPC; fstatfs then shows (almost) nothing free; deleting gives it back. */
    int fd;
    uint64_t limit = (uint64_t)before.f_blocks * (uint64_t)before.f_bsize;
    int to_enospc = limit <= (1ULL << 30);
    uint64_t written = fill_until_full(in_dir("bigfile_fill"), &fd, to_enospc ? UINT64_MAX : 64ULL << 20);
    struct statfs full;
    if (fstatfs(fd, &full) != 0)
        fail("fstatfs: %s", strerror(errno));
    if (full.f_type != TMPFS_MAGIC_VALUE)
        fail("fstatfs f_type %#lx", (unsigned long)full.f_type);
    if (written > limit)
        fail("wrote %llu bytes past a size of %llu", (unsigned long long)written, (unsigned long long)limit);
    /* Free-space figures are exact only on a file system this program has to itself (egg's);
     * a host's /dev/shm is shared with everything else running there. */
    if (to_enospc && (full.f_bfree + written / 4096 / 2 > before.f_bfree || full.f_bfree * 4096ULL > limit / 4))
        fail("after ENOSPC %llu blocks of %llu are free (%llu before)", (unsigned long long)full.f_bfree,
             (unsigned long long)full.f_blocks, (unsigned long long)before.f_bfree);
    close(fd);
    if (unlink(in_dir("bigfile_fill")) != 0)
        fail("unlink: %s", strerror(errno));
    struct statfs after;
    if (statfs(dir, &after) != 0 || (to_enospc && after.f_bfree + 256 < before.f_bfree))
        fail("after deleting, %llu blocks free (%llu before)", (unsigned long long)after.f_bfree,
             (unsigned long long)before.f_bfree);
    /* And it goes on: a new file can be written. */
    int again = open(in_dir("bigfile_again"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (again < 0 || write(again, buffer, 65536) != 65536)
        fail("writing after the space came back: %s", strerror(errno));

    /* A huge count with a bad pointer is EFAULT, and nothing is written. */
    errno = 0;
    const void *volatile bad = (const void *)16;   /* volatile: the compiler may not judge it */
    if (write(again, bad, (size_t)1 << 40) != -1 || errno != EFAULT)
        fail("write of 1 TiB from address 16: %s, expected EFAULT", strerror(errno));
    struct stat st;
    if (fstat(again, &st) != 0 || st.st_size != 65536)
        fail("size after the failed write: %lld", (long long)st.st_size);
    close(again);
    unlink(in_dir("bigfile_again"));
    if (to_enospc)
        return pass("%llu MiB written before ENOSPC", (unsigned long long)(written >> 20));
    return pass("%s holds %llu MiB: filled 64 MiB only", dir, (unsigned long long)(limit >> 20));
}
