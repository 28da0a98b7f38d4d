/*
 * memory.c — checks the memory syscalls a static program relies on (brk(2), mmap(2),
 * munmap(2), mprotect(2)) and malloc/free on top of them:
 *   brk grow (new pages zeroed, writable) and shrink back; anonymous mmap is zeroed and
 *   read/write; munmap then MAP_FIXED at the same address gives fresh zeroed memory;
 *   mprotect to PROT_READ (the kernel then refuses to write into it: getrandom gives EFAULT)
 *   and back to RW; a 64 MiB mapping touched sparsely; PROT_NONE then mprotect to RW;
 *   MAP_FIXED_NOREPLACE over a live mapping gives EEXIST; munmap of an unaligned address
 *   gives EINVAL; mmap of length 0 gives EINVAL; a malloc/free/realloc stress.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* include/uapi/asm-generic/mman-common.h */
#endif

const char *const test_name = "memory";

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)

static int all_zero(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(seed + i * 31u);
}

static int filled(const unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(seed + i * 31u))
            return 0;
    return 1;
}

static void *map_anon(size_t len, int prot)
{
    void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap(%zu, prot %d) failed: %s", len, prot, strerror(errno));
    CHECK(((uintptr_t)p & (PAGE - 1)) == 0, "mmap returned unaligned %p", p);
    return p;
}

static void check_brk(void)
{
    /* Raw syscall: the brk(2) syscall returns the new break, or the old one on failure
     * (musl's brk() wrapper refuses to move the break, so it cannot be used). */
    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    CHECK(start != 0 && start != (uintptr_t)-1, "brk(0) returned %#lx", (unsigned long)start);
    uintptr_t want = start + 256 * 1024;
    uintptr_t got = (uintptr_t)syscall(SYS_brk, want);
    CHECK(got == want, "brk grow to %#lx returned %#lx", (unsigned long)want, (unsigned long)got);
    /* Whole pages above the old break are new and must be zero. */
    uintptr_t first_new = (start + PAGE - 1) & ~(PAGE - 1);
    unsigned char *mem = (unsigned char *)first_new;
    size_t len = want - first_new;
    CHECK(all_zero(mem, len), "memory from brk grow is not zeroed");
    fill(mem, len, 7);
    CHECK(filled(mem, len, 7), "brk memory does not read back what was written");
    got = (uintptr_t)syscall(SYS_brk, start + 64 * 1024);
    CHECK(got == start + 64 * 1024, "brk shrink returned %#lx", (unsigned long)got);
    CHECK(filled(mem, (start + 64 * 1024) - first_new, 7), "brk shrink changed kept memory");
    got = (uintptr_t)syscall(SYS_brk, start);
    CHECK(got == start, "brk back to start returned %#lx, expected %#lx", (unsigned long)got,
          (unsigned long)start);
    CHECK((uintptr_t)syscall(SYS_brk, 0) == start, "brk(0) after shrink is not the start");
}

static void check_mmap_basic(void)
{
    size_t len = 1 * MIB;
    unsigned char *p = map_anon(len, PROT_READ | PROT_WRITE);
    CHECK(all_zero(p, len), "anonymous mmap is not zeroed");
    fill(p, len, 1);
    CHECK(filled(p, len, 1), "anonymous mmap does not read back");

    /* Unmap, then map again at exactly that address with MAP_FIXED: fresh zero pages. */
    CHECK(munmap(p, len) == 0, "munmap: %s", strerror(errno));
    void *q = mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(q == p, "MAP_FIXED at %p returned %p (%s)", (void *)p, q, strerror(errno));
    CHECK(all_zero(p, len), "MAP_FIXED after munmap is not zeroed");

    /* Read-only: the kernel must refuse to store into it (copy-out gives EFAULT), and
     * reading still works; then back to read/write. */
    fill(p, PAGE, 3);
    CHECK(mprotect(p, len, PROT_READ) == 0, "mprotect(PROT_READ): %s", strerror(errno));
    CHECK(filled(p, PAGE, 3), "PROT_READ memory changed");
    CHECK_ERRNO(getrandom(p, 16, 0), EFAULT);
    CHECK(mprotect(p, len, PROT_READ | PROT_WRITE) == 0, "mprotect back to RW: %s",
          strerror(errno));
    fill(p, len, 4);
    CHECK(filled(p, len, 4), "memory after mprotect back to RW does not read back");

    /* MAP_FIXED_NOREPLACE over a live mapping must fail with EEXIST (Linux >= 4.17) and
     * leave the old contents in place. */
    void *r = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(r == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping returned %p (%s)",
          r, strerror(errno));
    CHECK(filled(p, len, 4), "failed MAP_FIXED_NOREPLACE changed the mapping");

    /* Unaligned munmap and zero-length mmap are EINVAL. */
    CHECK_ERRNO(munmap(p + 1, PAGE), EINVAL);
    CHECK_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0,
                EINVAL);

    /* munmap of the middle page splits the mapping; the rest stays intact. */
    CHECK(munmap(p + 4 * PAGE, PAGE) == 0, "munmap of a middle page: %s", strerror(errno));
    CHECK(filled(p, 4 * PAGE, 4), "head of split mapping changed");
    CHECK(filled(p + 5 * PAGE, len - 5 * PAGE, (unsigned)(4 + 5 * PAGE * 31u)),
          "tail of split mapping changed");
    r = mmap(p + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(r == p + 4 * PAGE, "MAP_FIXED_NOREPLACE into the hole returned %p (%s)", r,
          strerror(errno));
    CHECK(all_zero(p + 4 * PAGE, PAGE), "page mapped into the hole is not zeroed");
    CHECK(munmap(p, len) == 0, "munmap whole: %s", strerror(errno));
}

static void check_large_sparse(void)
{
    size_t len = 64 * MIB;
    unsigned char *p = map_anon(len, PROT_READ | PROT_WRITE);
    for (size_t off = 0; off < len; off += MIB + PAGE)
        p[off] = (unsigned char)(off >> 20 | 1);
    p[len - 1] = 0xAB;
    for (size_t off = 0; off < len; off += MIB + PAGE)
        CHECK(p[off] == (unsigned char)(off >> 20 | 1), "64 MiB mapping: byte at %#zx lost", off);
    CHECK(p[len - 1] == 0xAB, "64 MiB mapping: last byte lost");
    CHECK(p[len / 2 + 123] == 0, "64 MiB mapping: untouched byte is not zero");
    CHECK(munmap(p, len) == 0, "munmap 64 MiB: %s", strerror(errno));
}

static void check_prot_none(void)
{
    size_t len = 16 * PAGE;
    unsigned char *p = map_anon(len, PROT_NONE);
    CHECK(mprotect(p, len, PROT_READ | PROT_WRITE) == 0, "mprotect PROT_NONE -> RW: %s",
          strerror(errno));
    CHECK(all_zero(p, len), "PROT_NONE mapping made RW is not zeroed");
    fill(p, len, 9);
    CHECK(filled(p, len, 9), "PROT_NONE mapping made RW does not read back");
    CHECK(munmap(p, len) == 0, "munmap: %s", strerror(errno));
}

static void check_malloc(void)
{
    enum { SLOTS = 256 };
    static unsigned char *slot[SLOTS];
    static size_t size[SLOTS];
    unsigned state = 12345;
    for (int round = 0; round < 4000; round++) {
        state = state * 1103515245u + 12345u;
        int i = (int)((state >> 8) % SLOTS);
        if (slot[i] != NULL) {
            CHECK(filled(slot[i], size[i], (unsigned)i), "malloc block %d (%zu bytes) corrupted",
                  i, size[i]);
            /* Free half the time, and always once a block has grown past 512 KiB, so
             * that the live total stays around 10 MiB (guests may have little RAM). */
            if (((state >> 4) & 1) || size[i] > 512 * 1024) {
                free(slot[i]);
                slot[i] = NULL;
                continue;
            }
            size_t bigger = size[i] * 2 + 1;
            unsigned char *n = realloc(slot[i], bigger);
            CHECK(n != NULL, "realloc to %zu failed", bigger);
            CHECK(filled(n, size[i], (unsigned)i), "realloc lost contents");
            slot[i] = n;
            size[i] = bigger;
            fill(n, bigger, (unsigned)i);
            continue;
        }
        /* Mostly small blocks, some large enough to go to mmap in either libc. */
        size_t len = (state >> 16) % 16 == 0 ? 130 * 1024 + (state >> 20) % 100000
                                             : 1 + (state >> 16) % 2048;
        slot[i] = malloc(len);
        CHECK(slot[i] != NULL, "malloc(%zu) failed", len);
        CHECK(((uintptr_t)slot[i] & 15) == 0, "malloc result %p not 16-byte aligned",
              (void *)slot[i]);
        size[i] = len;
        fill(slot[i], len, (unsigned)i);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slot[i] != NULL) {
            CHECK(filled(slot[i], size[i], (unsigned)i), "malloc block %d corrupted at end", i);
            free(slot[i]);
        }
    }
    unsigned char *z = calloc(1000, 100);
    CHECK(z != NULL && all_zero(z, 100000), "calloc memory is not zeroed");
    free(z);
}

int main(void)
{
    check_brk();
    check_mmap_basic();
    check_large_sparse();
    check_prot_none();
    check_malloc();
    return pass(NULL);
}
