/*
 * mmap_churn.c — the memory pattern of musl's malloc under SQLite's speedtest1 (issue 12),
 * which panicked the kernel: many small (4-32 KiB) anonymous mappings made, touched,
 * released with madvise(MADV_FREE) and munmap, and reused, with backward copies
 * (`std; rep movsq`, as musl's memmove does for overlapping moves) that take page faults
 * while the direction flag is set. Checks, natively and under egg:
 *   - a page first touched while DF = 1 (a read and a backward copy) reads as zeros: the
 *     kernel's own fill of the fresh frame must not run backwards (the cause of the panic);
 *   - a churn of mmap/munmap/MADV_FREE/MADV_DONTNEED over 4-32 KiB regions keeps every
 *     page's contents: live data stays, MADV_DONTNEED pages read zero, MADV_FREE pages read
 *     either their old data or zero (madvise(2): freeing may be lazy), fresh mappings are zero;
 *   - reserving 32 TiB (PROT_NONE, MAP_NORESERVE) and unmapping it takes under a
 *     millisecond: munmap's cost follows what is mapped, not the size of the range.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_FREE
#define MADV_FREE 8 /* include/uapi/asm-generic/mman-common.h */
#endif

const char *const test_name = "mmap_churn";

#define PAGE 4096UL
#define SLOTS 48
#define ROUNDS 3000

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned char *map_pages(size_t pages)
{
    void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap(%zu pages): %s", pages, strerror(errno));
    return p;
}

static int page_is(const unsigned char *p, unsigned char value)
{
    for (size_t i = 0; i < PAGE; i++)
        if (p[i] != value)
            return 0;
    return 1;
}

/* Read one byte with the direction flag set, so that the page fault happens with DF = 1. */
static unsigned char read_with_df_set(const volatile unsigned char *p)
{
    unsigned char value;
    __asm__ volatile("std\n\tmovb (%1), %0\n\tcld" : "=q"(value) : "r"(p) : "memory", "cc");
    return value;
}

/* Copy `words` quadwords backwards, like musl's memmove for dst > src: std; rep movsq; cld. */
static void copy_backwards(void *dst, const void *src, size_t words)
{
    const char *s = (const char *)src + (words - 1) * 8;
    char *d = (char *)dst + (words - 1) * 8;
    __asm__ volatile("std\n\trep movsq\n\tcld" : "+D"(d), "+S"(s), "+c"(words) : : "memory", "cc");
}

static void fresh_pages_with_direction_flag_set(void)
{
    /* Dirty some frames and give them back, so that fresh pages reuse frames that held data. */
    enum { N = 16 };
    unsigned char *old = map_pages(N);
    memset(old, 0xA5, N * PAGE);
    CHECK(munmap(old, N * PAGE) == 0, "munmap: %s", strerror(errno));

    unsigned char *fresh = map_pages(N);
    for (size_t i = 0; i < N; i++) {
        unsigned char b = read_with_df_set(fresh + i * PAGE + PAGE / 2);
        CHECK(b == 0, "page %zu first read with DF set gave 0x%02x", i, b);
    }
    for (size_t i = 0; i < N; i++)
        CHECK(page_is(fresh + i * PAGE, 0), "page %zu faulted in with DF set is not zero", i);

    /* A backward copy whose destination pages are not yet present (each store faults). */
    unsigned char *src = map_pages(N);
    for (size_t i = 0; i < N * PAGE; i++)
        src[i] = (unsigned char)(i * 7 + 3);
    unsigned char *dst = map_pages(N);
    copy_backwards(dst, src, N * PAGE / 8);
    CHECK(memcmp(dst, src, N * PAGE) == 0, "backward copy into fresh pages differs");
    /* And an overlapping memmove upwards within one mapping (the C library's own code). */
    memmove(src + 8, src, N * PAGE - 8);
    CHECK(src[8] == 3 && src[N * PAGE - 1] == (unsigned char)((N * PAGE - 9) * 7 + 3),
          "overlapping memmove gave wrong bytes");
    CHECK(munmap(fresh, N * PAGE) == 0 && munmap(src, N * PAGE) == 0 && munmap(dst, N * PAGE) == 0,
          "munmap: %s", strerror(errno));
}

struct region {
    unsigned char *base;
    size_t pages;
    unsigned char seed[8];  /* per page: the byte it holds; 0 = zero page */
    unsigned char maybe_freed[8];  /* per page: MADV_FREE'd, may read as zero */
};

static void check_region(const struct region *r, const char *when)
{
    for (size_t i = 0; i < r->pages; i++) {
        const unsigned char *p = r->base + i * PAGE;
        if (page_is(p, r->seed[i]))
            continue;
        if (r->maybe_freed[i] && page_is(p, 0))
            continue;
        fail("%s: page %zu of %p (%zu pages) should hold 0x%02x%s, holds 0x%02x", when, i,
             (void *)r->base, r->pages, r->seed[i], r->maybe_freed[i] ? " or zero" : "", p[0]);
    }
}

static void churn(unsigned *frees, unsigned *dontneeds)
{
    struct region slots[SLOTS];
    memset(slots, 0, sizeof slots);
    for (int round = 0; round < ROUNDS; round++) {
        struct region *r = &slots[next_random() % SLOTS];
        if (r->base == NULL) {
            r->pages = 1 + next_random() % 8;
            r->base = map_pages(r->pages);
            memset(r->seed, 0, sizeof r->seed);
            memset(r->maybe_freed, 0, sizeof r->maybe_freed);
            check_region(r, "fresh mapping");
            for (size_t i = 0; i < r->pages; i++) {
                if (next_random() % 4 == 0)
                    continue;  /* leave some pages untouched */
                r->seed[i] = (unsigned char)(1 + next_random() % 255);
                memset(r->base + i * PAGE, r->seed[i], PAGE);
            }
            continue;
        }
        check_region(r, "before an operation");
        size_t first = next_random() % r->pages;
        size_t count = 1 + next_random() % (r->pages - first);
        switch (next_random() % 5) {
        case 0:
            CHECK(munmap(r->base, r->pages * PAGE) == 0, "munmap: %s", strerror(errno));
            r->base = NULL;
            break;
        case 1:
            CHECK(madvise(r->base + first * PAGE, count * PAGE, MADV_FREE) == 0,
                  "madvise(MADV_FREE): %s", strerror(errno));
            for (size_t i = first; i < first + count; i++)
                r->maybe_freed[i] = 1;
            (*frees)++;
            break;
        case 2:
            CHECK(madvise(r->base + first * PAGE, count * PAGE, MADV_DONTNEED) == 0,
                  "madvise(MADV_DONTNEED): %s", strerror(errno));
            for (size_t i = first; i < first + count; i++) {
                r->seed[i] = 0;
                r->maybe_freed[i] = 0;
            }
            (*dontneeds)++;
            break;
        case 3: {
            /* Rewrite pages (after MADV_FREE this cancels the freeing, madvise(2)). */
            for (size_t i = first; i < first + count; i++) {
                r->seed[i] = (unsigned char)(1 + next_random() % 255);
                r->maybe_freed[i] = 0;
                memset(r->base + i * PAGE, r->seed[i], PAGE);
            }
            break;
        }
        default: {
            /* Move the pages' contents one page up with a backward copy (faults with DF = 1). */
            if (r->pages < 2)
                break;
            check_region(r, "before a backward copy");
            for (size_t i = 0; i < r->pages; i++) {
                /* Settle the MADV_FREE'd pages to what they read now. */
                if (r->maybe_freed[i] && page_is(r->base + i * PAGE, 0))
                    r->seed[i] = 0;
                r->maybe_freed[i] = 0;
            }
            copy_backwards(r->base + PAGE, r->base, (r->pages - 1) * PAGE / 8);
            for (size_t i = r->pages - 1; i > 0; i--)
                r->seed[i] = r->seed[i - 1];
            break;
        }
        }
        if (r->base != NULL)
            check_region(r, "after an operation");
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].base == NULL)
            continue;
        check_region(&slots[i], "at the end");
        CHECK(munmap(slots[i].base, slots[i].pages * PAGE) == 0, "munmap: %s", strerror(errno));
    }
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Best of three: a timer interrupt or a host hiccup can land in any one attempt. */
static double reserve_and_unmap_us(size_t bytes)
{
    double best = 1e12;
    for (int attempt = 0; attempt < 3; attempt++) {
        double start = now_us();
        void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        CHECK(p != MAP_FAILED, "mmap(PROT_NONE, %zu bytes): %s", bytes, strerror(errno));
        CHECK(munmap(p, bytes) == 0, "munmap(%zu bytes): %s", bytes, strerror(errno));
        double took = now_us() - start;
        if (took < best)
            best = took;
    }
    return best;
}

int main(void)
{
    fresh_pages_with_direction_flag_set();
    unsigned frees = 0, dontneeds = 0;
    churn(&frees, &dontneeds);
    CHECK(frees > 100 && dontneeds > 100, "churn did too little (%u MADV_FREE, %u MADV_DONTNEED)",
          frees, dontneeds);
    fresh_pages_with_direction_flag_set();  /* after the churn, frames have been reused */

    double took = reserve_and_unmap_us((size_t)1 << 45);
    CHECK(took < 1000.0, "reserving and unmapping 32 TiB took %.0f us", took);
    return pass("%d rounds, %u MADV_FREE, %u MADV_DONTNEED, 32 TiB reserved and unmapped in %.0f us",
                ROUNDS, frees, dontneeds, took);
}
