/* vdso.c — egg's vDSO: clock_gettime, gettimeofday, time and getcpu in user mode (KernelArch
 * layer, built by the Makefile into build/kernel/vdso.so and embedded by vdso_image.S).
 *
 * The kernel maps this image into every process ([vdso]) with one read-only data page right
 * below it ([vvar]), announced by AT_SYSINFO_EHDR (Sources/KernelCore/Process/VDSO.swift maps
 * them, Sources/Kernel/VDSOSetup.swift fills the page). The page holds the TSC calibration
 * and the wall-clock base under a sequence count (a seqlock: odd while the kernel writes), so
 * CLOCK_REALTIME, MONOTONIC, BOOTTIME and their COARSE/RAW variants are the TSC scaled here
 * with the very arithmetic of the kernel's clock (Sources/KernelCore/TSCScale.swift, used by
 * Sources/Kernel/Clock.swift): the vDSO and the system call never disagree. Every other clock, a timezone
 * request and getcpu go to the system call. The exported names and the LINUX_2.6 version
 * are Linux's x86-64 vDSO ABI (arch/x86/entry/vdso/vdso.lds.S), which musl (src/time/
 * clock_gettime.c, src/internal/vdso.c) and glibc (sysdeps/unix/sysv/linux/x86_64/
 * sysdep.h, dl-vdso-setup) look up. Position-independent, no relocations, no libc.
 */
#include <stdint.h>

struct egg_vvar {
    uint64_t seq;            /* odd while the kernel updates the fields below */
    uint64_t tsc_base;       /* TSC at the kernel's clock calibration: monotonic 0 */
    uint64_t tsc_hz;         /* calibrated TSC frequency */
    int64_t realtime_base;   /* CLOCK_REALTIME at monotonic 0, in ns (clock_settime moves it) */
};

/* One page below the image (vdso.lds). Hidden: reached PC-relative, no relocation. */
extern const volatile struct egg_vvar egg_vvar_page __attribute__((visibility("hidden")));

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

#define barrier() __asm__ __volatile__("" ::: "memory")

static inline long syscall2(long n, long a, long b)
{
    long r;
    __asm__ __volatile__("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

static inline long syscall3(long n, long a, long b, long c)
{
    long r;
    __asm__ __volatile__("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Monotonic and realtime now, in ns. */
static void now_ns(uint64_t *mono, int64_t *real)
{
    const volatile struct egg_vvar *v = &egg_vvar_page;
    uint64_t seq, base, hz, delta;
    int64_t rt;
    for (;;) {
        seq = v->seq;
        barrier();
        base = v->tsc_base;
        hz = v->tsc_hz;
        rt = v->realtime_base;
        delta = rdtsc() - base;
        barrier();
        if (!(seq & 1) && v->seq == seq)
            break;
        __asm__ __volatile__("pause");
    }
    /* TSCScale.nanoseconds (Sources/KernelCore/TSCScale.swift), operation for operation:
     * whole seconds, then the remainder times 10^9 / hz in two exact 64-bit steps. */
    uint64_t scaled = delta % hz * 1000;
    uint64_t fraction = scaled / hz * 1000000 + scaled % hz * 1000000 / hz;
    uint64_t ns = delta / hz * 1000000000ull + fraction;
    *mono = ns;
    *real = rt + (int64_t)ns;
}

/* Clock ids (include/uapi/linux/time.h) the vDSO answers: REALTIME 0, MONOTONIC 1,
 * MONOTONIC_RAW 4, REALTIME_COARSE 5, MONOTONIC_COARSE 6, BOOTTIME 7, TAI 11 — the kernel
 * gives each the same value (Sources/KernelCore/Syscalls/TimeSyscalls.swift). */
int __vdso_clock_gettime(int clock, struct timespec_k *ts)
{
    uint64_t mono;
    int64_t real, ns;
    switch (clock) {
    case 0: case 5: case 11:
        now_ns(&mono, &real);
        ns = real;
        break;
    case 1: case 4: case 6: case 7:
        now_ns(&mono, &real);
        ns = (int64_t)mono;
        break;
    default:
        return (int)syscall2(228, clock, (long)ts);   /* clock_gettime */
    }
    /* Floor division: a wall clock set before 1970 has a negative second and ns in [0, 1e9). */
    int64_t sec = ns / 1000000000, rest = ns % 1000000000;
    if (rest < 0) { sec -= 1; rest += 1000000000; }
    ts->tv_sec = sec;
    ts->tv_nsec = rest;
    return 0;
}

int __vdso_gettimeofday(struct timeval_k *tv, void *tz)
{
    if (tz)
        return (int)syscall2(96, (long)tv, (long)tz);   /* gettimeofday: the timezone is the kernel's */
    if (tv) {
        uint64_t mono;
        int64_t real;
        now_ns(&mono, &real);
        int64_t sec = real / 1000000000, rest = real % 1000000000;
        if (rest < 0) { sec -= 1; rest += 1000000000; }
        tv->tv_sec = sec;
        tv->tv_usec = rest / 1000;
    }
    return 0;
}

long __vdso_time(long *t)
{
    uint64_t mono;
    int64_t real;
    now_ns(&mono, &real);
    long sec = real / 1000000000;   /* truncation toward zero, as the kernel's time() */
    if (t)
        *t = sec;
    return sec;
}

/* No per-CPU number is visible to user mode here (no RDPID/TSC_AUX set-up): ask the kernel. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
    return syscall3(309, (long)cpu, (long)node, (long)unused);
}

int clock_gettime(int, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_k *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
