/*
 * mremap_madvise.c — mremap(2) and madvise(2) as Linux defines them (issue 14 item 5):
 *   mremap: shrink in place (the tail is gone), grow in place when the space above is free,
 *   ENOMEM when it is not and MREMAP_MAYMOVE is absent, a move with MREMAP_MAYMOVE keeps the
 *   contents, MREMAP_FIXED replaces what was at the target, MREMAP_DONTUNMAP leaves the old
 *   range mapped and empty; EINVAL for unknown flags, FIXED without MAYMOVE, DONTUNMAP with a
 *   new length, an unaligned address; EFAULT for an address with nothing mapped.
 *   madvise: MADV_DONTNEED zeroes private anonymous pages, MADV_FREE keeps or zeroes them,
 *   hints (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTFORK, DOFORK, HUGEPAGE, NOHUGEPAGE,
 *   DONTDUMP, DODUMP, COLD, PAGEOUT) succeed and keep the data, MADV_POPULATE_WRITE makes
 *   pages present, MADV_FREE on shared memory is EINVAL, unknown advice EINVAL, an unaligned
 *   start EINVAL, a range over a hole ENOMEM; madvise and mprotect over a 32 TiB reservation.
 *   mlock/munlock/mlock2/mlockall: ranges round out to pages, holes give ENOMEM, bad flags EINVAL.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4 /* include/uapi/linux/mman.h */
#endif
#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

const char *const test_name = "mremap_madvise";

#define PAGE 4096UL

static unsigned char *map_at(void *hint, size_t len, int prot, int flags)
{
    void *p = mmap(hint, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap(%zu): %s", len, strerror(errno));
    return p;
}

static int is_filled(const unsigned char *p, size_t len, unsigned char v)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* A free hole of `len` bytes: reserve it, then give it back. */
static unsigned char *free_hole(size_t len)
{
    unsigned char *p = map_at(NULL, len, PROT_NONE, MAP_NORESERVE);
    CHECK(munmap(p, len) == 0, "munmap: %s", strerror(errno));
    return p;
}

static void test_mremap(void)
{
    /* Lay out [a: 2 pages][guard: 1 page] inside a hole we own. */
    unsigned char *hole = free_hole(16 * PAGE);
    unsigned char *a = map_at(hole, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
    memset(a, 0x11, 2 * PAGE);
    map_at(hole + 2 * PAGE, PAGE, PROT_READ, MAP_FIXED);

    errno = 0;
    CHECK(mremap(a, 2 * PAGE, 3 * PAGE, 0) == MAP_FAILED && errno == ENOMEM,
          "growing into a neighbour without MREMAP_MAYMOVE: errno %d", errno);
    CHECK(mremap(a, 2 * PAGE, PAGE, 0) == a, "shrink in place: %s", strerror(errno));
    CHECK(is_filled(a, PAGE, 0x11), "shrunk mapping lost its data");
    CHECK(mremap(a, PAGE, 2 * PAGE, 0) == a, "grow back in place: %s", strerror(errno));
    CHECK(a[PAGE] == 0 && a[2 * PAGE - 1] == 0, "regrown page is not zero");
    CHECK(is_filled(a, PAGE, 0x11), "regrown mapping lost its data");

    unsigned char *moved = mremap(a, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    CHECK(moved != MAP_FAILED, "mremap MAYMOVE: %s", strerror(errno));
    CHECK(moved != a, "a blocked mapping grew in place");
    CHECK(is_filled(moved, PAGE, 0x11) && moved[7 * PAGE] == 0, "moved mapping has wrong contents");
    moved[7 * PAGE] = 0x22;

    /* MREMAP_FIXED onto a live mapping replaces it. */
    unsigned char *target = map_at(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
    memset(target, 0x33, 2 * PAGE);
    unsigned char *fixed = mremap(moved, 8 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    CHECK(fixed == target, "mremap FIXED returned %p, wanted %p (%s)", (void *)fixed, (void *)target,
          strerror(errno));
    CHECK(is_filled(target, PAGE, 0x11) && target[PAGE] == 0, "FIXED target has wrong contents");

    /* MREMAP_DONTUNMAP: the old range stays mapped and reads as zeros. */
    memset(target, 0x44, 2 * PAGE);
    unsigned char *copy = mremap(target, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(copy != MAP_FAILED, "mremap DONTUNMAP: %s", strerror(errno));
    CHECK(is_filled(copy, 2 * PAGE, 0x44), "DONTUNMAP destination lost the data");
    CHECK(is_filled(target, 2 * PAGE, 0), "DONTUNMAP source is not empty");

    errno = 0;
    CHECK(mremap(copy, PAGE, PAGE, 0x80) == MAP_FAILED && errno == EINVAL, "unknown flag: errno %d", errno);
    errno = 0;
    CHECK(mremap(copy, PAGE, PAGE, MREMAP_FIXED, hole) == MAP_FAILED && errno == EINVAL,
          "FIXED without MAYMOVE: errno %d", errno);
    errno = 0;
    CHECK(mremap(copy, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP) == MAP_FAILED && errno == EINVAL,
          "DONTUNMAP with a new length: errno %d", errno);
    errno = 0;
    CHECK(mremap(copy + 1, PAGE, PAGE, 0) == MAP_FAILED && errno == EINVAL, "unaligned: errno %d", errno);
    unsigned char *gone = free_hole(PAGE);
    errno = 0;
    CHECK(mremap(gone, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED && errno == EFAULT,
          "nothing mapped: errno %d", errno);
    CHECK(munmap(copy, 2 * PAGE) == 0 && munmap(target, 2 * PAGE) == 0 && munmap(hole, 16 * PAGE) == 0, "munmap: %s", strerror(errno));
}

static void test_madvise(void)
{
    unsigned char *p = map_at(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
    memset(p, 0x5A, 4 * PAGE);
    const int hints[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK,
                          MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP, MADV_COLD };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        CHECK(madvise(p, 4 * PAGE, hints[i]) == 0, "madvise(%d): %s", hints[i], strerror(errno));
        CHECK(is_filled(p, 4 * PAGE, 0x5A), "madvise(%d) changed the data", hints[i]);
    }
    /* MADV_PAGEOUT may write the pages to swap, but they read back the same. */
    CHECK(madvise(p, 4 * PAGE, MADV_PAGEOUT) == 0, "MADV_PAGEOUT: %s", strerror(errno));
    CHECK(is_filled(p, 4 * PAGE, 0x5A), "MADV_PAGEOUT changed the data");

    CHECK(madvise(p + PAGE, PAGE, MADV_DONTNEED) == 0, "MADV_DONTNEED: %s", strerror(errno));
    CHECK(is_filled(p + PAGE, PAGE, 0) && is_filled(p, PAGE, 0x5A) && is_filled(p + 2 * PAGE, 2 * PAGE, 0x5A),
          "MADV_DONTNEED did not zero exactly its page");
    CHECK(madvise(p + 2 * PAGE, PAGE, MADV_FREE) == 0, "MADV_FREE: %s", strerror(errno));
    CHECK(is_filled(p + 2 * PAGE, PAGE, 0x5A) || is_filled(p + 2 * PAGE, PAGE, 0), "MADV_FREE page is torn");
    CHECK(madvise(p, 4 * PAGE, MADV_POPULATE_WRITE) == 0, "MADV_POPULATE_WRITE: %s", strerror(errno));
    CHECK(is_filled(p + 3 * PAGE, PAGE, 0x5A), "MADV_POPULATE_WRITE changed the data");

    errno = 0;
    CHECK(madvise(p, PAGE, 7) == -1 && errno == EINVAL, "unknown advice 7: errno %d", errno);
    errno = 0;
    CHECK(madvise(p, PAGE, 999) == -1 && errno == EINVAL, "unknown advice 999: errno %d", errno);
    errno = 0;
    CHECK(madvise(p + 1, PAGE, MADV_DONTNEED) == -1 && errno == EINVAL, "unaligned: errno %d", errno);
    CHECK(munmap(p + 3 * PAGE, PAGE) == 0, "munmap: %s", strerror(errno));
    errno = 0;
    CHECK(madvise(p, 4 * PAGE, MADV_NORMAL) == -1 && errno == ENOMEM, "over a hole: errno %d", errno);

    unsigned char *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap shared: %s", strerror(errno));
    shared[0] = 9;
    errno = 0;
    CHECK(madvise(shared, PAGE, MADV_FREE) == -1 && errno == EINVAL, "MADV_FREE on shared memory: errno %d", errno);
    CHECK(munmap(shared, PAGE) == 0 && munmap(p, 3 * PAGE) == 0, "munmap: %s", strerror(errno));

    /* A 32 TiB reservation: protection changes and advice cost what is mapped, not its size. */
    size_t huge = (size_t)1 << 45;
    unsigned char *r = map_at(NULL, huge, PROT_NONE, MAP_NORESERVE);
    CHECK(mprotect(r + huge / 2, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect one page: %s", strerror(errno));
    r[huge / 2] = 1;
    CHECK(madvise(r, huge, MADV_DONTNEED) == 0, "MADV_DONTNEED over 32 TiB: %s", strerror(errno));
    CHECK(r[huge / 2] == 0, "MADV_DONTNEED over 32 TiB kept the page");
    CHECK(mprotect(r, huge, PROT_READ) == 0, "mprotect 32 TiB: %s", strerror(errno));
    CHECK(munmap(r, huge) == 0, "munmap 32 TiB: %s", strerror(errno));
}

static void test_mlock(void)
{
    unsigned char *p = map_at(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
    CHECK(mlock(p + 100, 2 * PAGE) == 0, "mlock: %s", strerror(errno));
    CHECK(is_filled(p, 4 * PAGE, 0), "mlock'd pages are not zero");
    CHECK(munlock(p, 4 * PAGE) == 0, "munlock: %s", strerror(errno));
    errno = 0;
    CHECK(syscall(SYS_mlock2, p, PAGE, 2) == -1 && errno == EINVAL, "mlock2 with flag 2: errno %d", errno);
    CHECK(syscall(SYS_mlock2, p, PAGE, 1) == 0, "mlock2(MLOCK_ONFAULT): %s", strerror(errno));
    CHECK(munmap(p + 3 * PAGE, PAGE) == 0, "munmap: %s", strerror(errno));
    errno = 0;
    CHECK(mlock(p, 4 * PAGE) == -1 && errno == ENOMEM, "mlock over a hole: errno %d", errno);
    errno = 0;
    CHECK(mlockall(0) == -1 && errno == EINVAL, "mlockall(0): errno %d", errno);
    CHECK(munlockall() == 0 && munmap(p, 3 * PAGE) == 0, "munlockall: %s", strerror(errno));
}

int main(void)
{
    test_mlock();
    test_mremap();
    test_madvise();
    return pass(NULL);
}
