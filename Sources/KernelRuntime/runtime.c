/* runtime.c — the C symbols Embedded Swift and the kernel need (KernelRuntime layer).
 *
 * memset/memcpy/memmove/memcmp, the kernel heap (posix_memalign/free/malloc), putchar
 * (early console: COM1), arc4random_buf (Swift hashing seeds) and ceil (Swift's hash-table
 * sizing, passed on the x87 stack because the kernel is built without SSE).
 *
 * Heap design: blocks of up to 2 KiB come from per-size-class free lists carved out of
 * 64 KiB chunks; bigger blocks take whole pages from an address-ordered, coalescing list of
 * free page runs. Every block has a 16-byte header recording its class or page count, so
 * free() needs no size. The heap starts with a 4 MiB arena in .bss and grows by regions the
 * kernel hands over (egg_heap_add_region) once the physical frame allocator runs
 * (Sources/Kernel/Boot.swift). When no run is big enough the heap asks the kernel for more
 * frames (egg_heap_grow, Sources/Kernel/HeapGrowth.swift) before giving up, so kernel memory
 * can grow with what the guest makes it hold (sockets, pipes, files) until RAM runs out.
 * Callers hold the big kernel lock: no lock of its own.
 */
#include <stddef.h>
#include <stdint.h>

/* Eight bytes per iteration, then the tail: under TCG (no usable KVM on our hosts) each
 * iteration of a rep string instruction costs about the same whatever its width, so the
 * byte-wise forms made every kernel copy, e.g. a 64 MiB stream through virtio-console
 * (Sources/Kernel/HostStreamSetup.swift), several times slower. */
void *memset(void *dst, int c, size_t n) {
    void *d = dst;
    size_t words = n >> 3, tail = n & 7;
    unsigned long pattern = (unsigned char)c * 0x0101010101010101ul;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(c) : "memory");
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    void *d = dst;
    size_t words = n >> 3, tail = n & 7;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words) :: "memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(tail) :: "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    /* Overlap with dst above src: copy backwards. */
    d += n - 1; s += n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* The big kernel lock and SMP counters (used through Sources/KernelArch/include/hw.h). */
volatile uint32_t egg_kernel_lock;
volatile uint32_t egg_shootdown_generation;
volatile uint32_t egg_shootdown_seen[64];
volatile uint32_t egg_cpus_online = 1;

/* ---- heap ---- */

#define PAGE 4096UL
#define HEADER 16UL
#define CLASSES 8               /* 32, 64, ..., 4096 bytes including the header */
#define CHUNK (64 * 1024UL)
#define TAG_SMALL 0x5A11000000000000ULL
#define TAG_LARGE 0x1A46E00000000000ULL
#define TAG_ALIGNED 0xA116000000000000ULL
#define TAG_MASK 0xFFFFF00000000000ULL

struct free_block { struct free_block *next; };
struct page_run { struct page_run *next; uint64_t pages; };

static struct free_block *class_free[CLASSES];
static struct page_run *runs;            /* address-ordered free page runs */
static uint64_t heap_in_use, heap_total;
static unsigned char early_arena[4 * 1024 * 1024] __attribute__((aligned(4096)));
static int early_arena_added;

void egg_panic_out_of_memory(uint64_t size) __attribute__((noreturn));

static void runs_insert(uint64_t start, uint64_t pages) {
    struct page_run **link = &runs;
    while (*link && (uint64_t)*link < start) link = &(*link)->next;
    struct page_run *prev = (link == &runs) ? 0 : (struct page_run *)((char *)link - offsetof(struct page_run, next));
    struct page_run *next = *link;
    struct page_run *r = (struct page_run *)start;
    r->pages = pages;
    r->next = next;
    *link = r;
    if (next && start + pages * PAGE == (uint64_t)next) { r->pages += next->pages; r->next = next->next; }
    if (prev && (uint64_t)prev + prev->pages * PAGE == start) { prev->pages += r->pages; prev->next = r->next; }
}

void egg_heap_add_region(uint64_t start, uint64_t length) {
    uint64_t s = (start + PAGE - 1) & ~(PAGE - 1);
    uint64_t e = (start + length) & ~(PAGE - 1);
    if (e <= s) return;
    heap_total += e - s;
    runs_insert(s, (e - s) / PAGE);
}

static void ensure_heap(void) {
    if (!early_arena_added) {
        early_arena_added = 1;
        egg_heap_add_region((uint64_t)early_arena, sizeof early_arena);
    }
}

static void *take_pages(uint64_t pages) {
    ensure_heap();
    for (struct page_run **link = &runs; *link; link = &(*link)->next) {
        struct page_run *r = *link;
        if (r->pages < pages) continue;
        if (r->pages == pages) { *link = r->next; return r; }
        /* Take the tail so the run header stays in place. */
        r->pages -= pages;
        return (char *)r + r->pages * PAGE;
    }
    return 0;
}

_Bool egg_heap_grow(uint64_t pages);

static void *take_pages_or_grow(uint64_t pages) {
    void *p = take_pages(pages);
    if (!p && egg_heap_grow(pages)) p = take_pages(pages);
    return p;
}

static int class_of(uint64_t total) {
    int c = 0;
    uint64_t size = 32;
    while (size < total) { size <<= 1; c++; }
    return c;
}

static void *alloc_block(uint64_t size) {
    uint64_t total = size + HEADER;
    if (total <= (32UL << (CLASSES - 1))) {
        int c = class_of(total);
        if (!class_free[c]) {
            unsigned char *chunk = take_pages_or_grow(CHUNK / PAGE);
            if (!chunk) return 0;
            uint64_t bsize = 32UL << c;
            for (uint64_t off = 0; off + bsize <= CHUNK; off += bsize) {
                struct free_block *b = (struct free_block *)(chunk + off);
                b->next = class_free[c];
                class_free[c] = b;
            }
        }
        struct free_block *b = class_free[c];
        class_free[c] = b->next;
        uint64_t *h = (uint64_t *)b;
        h[0] = TAG_SMALL | (uint64_t)c;
        heap_in_use += 32UL << c;
        return (char *)b + HEADER;
    }
    uint64_t pages = (total + PAGE - 1) / PAGE;
    uint64_t *h = take_pages_or_grow(pages);
    if (!h) return 0;
    h[0] = TAG_LARGE | pages;
    heap_in_use += pages * PAGE;
    return (char *)h + HEADER;
}

void free(void *p) {
    if (!p) return;
    uint64_t *h = (uint64_t *)((char *)p - HEADER);
    uint64_t tag = h[0] & TAG_MASK;
    if (tag == TAG_ALIGNED) { free((void *)h[1]); return; }
    if (tag == TAG_SMALL) {
        int c = (int)(h[0] & 0xff);
        struct free_block *b = (struct free_block *)h;
        b->next = class_free[c];
        class_free[c] = b;
        heap_in_use -= 32UL << c;
        return;
    }
    if (tag == TAG_LARGE) {
        uint64_t pages = h[0] & ~TAG_MASK;
        heap_in_use -= pages * PAGE;
        runs_insert((uint64_t)h, pages);
        return;
    }
    egg_panic_out_of_memory(0); /* corrupted header: a kernel bug, never a guest's doing */
}

/* An aligned block, or 0 when the heap cannot grow. Kernel code whose size a guest decides
 * (thread stacks for clone, ...) calls this and turns 0 into an errno; Swift's own
 * allocations go through posix_memalign, which cannot fail and panics instead. */
void *egg_heap_try_alloc(uint64_t size, uint64_t alignment) {
    if (size == 0) size = 1;
    if (size > (1ULL << 46)) return 0;  /* no RAM this large: also keeps the sums below exact */
    if (alignment <= HEADER) return alloc_block(size);
    /* Over-allocate, align, and leave an "aligned" header pointing at the real block. */
    unsigned char *raw = alloc_block(size + alignment + HEADER);
    if (!raw) return 0;
    uint64_t a = ((uint64_t)raw + HEADER + alignment - 1) & ~(uint64_t)(alignment - 1);
    uint64_t *h = (uint64_t *)(a - HEADER);
    h[0] = TAG_ALIGNED;
    h[1] = (uint64_t)raw;
    return (void *)a;
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    void *p = egg_heap_try_alloc(size, alignment);
    if (!p) egg_panic_out_of_memory(size ? size : 1);
    *out = p;
    return 0;
}

void *malloc(size_t size) {
    void *p = 0;
    posix_memalign(&p, 16, size);
    return p;
}

uint64_t egg_heap_bytes_in_use(void) { return heap_in_use; }
uint64_t egg_heap_bytes_total(void) { return heap_total; }

/* ---- console and entropy for the Swift runtime ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

int putchar(int c) {
    while (!(inb(0x3f8 + 5) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
    return c;
}

/* Hash seeds only; guest-visible randomness comes from Sources/KernelCore/Entropy.swift. */
void arc4random_buf(void *buf, size_t n) {
    static uint64_t state;
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    state ^= ((uint64_t)hi << 32) | lo;
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (unsigned char)(state >> 56);
    }
}

/* double ceil(double): argument on the stack, result in st(0) (SysV i386-style x87 return,
 * which is what LLVM emits for x86-64 when SSE is disabled). Rounds with RC = up. */
__asm__(
    ".globl ceil\n"
    "ceil:\n"
    "  fldl 8(%rsp)\n"
    "  subq $8, %rsp\n"
    "  fnstcw (%rsp)\n"
    "  movw (%rsp), %ax\n"
    "  andw $0xf3ff, %ax\n"
    "  orw $0x0800, %ax\n"
    "  movw %ax, 2(%rsp)\n"
    "  fldcw 2(%rsp)\n"
    "  frndint\n"
    "  fldcw (%rsp)\n"
    "  addq $8, %rsp\n"
    "  ret\n");

/* Custom syscall handlers (Sources/Kernel/UserSyscalls.swift): `egg run/build --syscalls F`
 * links a module whose egg_register_user_syscalls replaces this weak no-op
 * (Sources/EggHost/CustomSyscallKernel.swift). `table` points at the SyscallTable. */
__attribute__((weak)) void egg_register_user_syscalls(void *table)
{
    (void)table;
}
