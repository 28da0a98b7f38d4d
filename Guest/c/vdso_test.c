/*
 * vdso_test.c — the vDSO announced by AT_SYSINFO_EHDR: an ELF shared object with DT_HASH /
 * DT_GNU_HASH exporting __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time and
 * __vdso_getcpu (and the unprefixed aliases) at version LINUX_2.6, as Linux's x86-64 vDSO
 * (arch/x86/entry/vdso/vdso.lds.S); its times agree with the system calls' (each vDSO read
 * lies between the syscall reads around it) and never go backwards, also across threads on
 * different CPUs (`egg run --smp 2`); it shows as [vdso] and [vvar] in /proc/self/maps;
 * a forked child keeps it; and, when the program is PID 1 (the only place it may set the
 * machine's clock: under egg), clock_settime moves what the vDSO's CLOCK_REALTIME returns.
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * Sources/KernelArch/vdso/vdso.c is egg's vDSO; Sources/KernelCore/Process/VDSO.swift maps it.
 */
#define _GNU_SOURCE
#include "check.h"

#include <elf.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

const char *const test_name = "vdso_test";

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static uintptr_t base, bias;
static const Elf64_Sym *symbols;
static const char *strings;
static const Elf64_Half *versyms;
static const Elf64_Verdef *verdefs;
static size_t symbol_count;

/* The number of dynamic symbols from DT_GNU_HASH: past the last bucket's chain end. */
static size_t gnu_hash_count(const uint32_t *h)
{
    uint32_t nbuckets = h[0], symoffset = h[1], bloom = h[2];
    const uint32_t *buckets = h + 4 + bloom * 2;  /* 64-bit bloom words */
    const uint32_t *chain = buckets + nbuckets;
    uint32_t last = 0;
    for (uint32_t i = 0; i < nbuckets; i++)
        if (buckets[i] > last)
            last = buckets[i];
    if (last < symoffset)
        return symoffset;
    while (!(chain[last - symoffset] & 1))
        last++;
    return last + 1;
}

static void load_vdso(int *has_hash, int *has_gnu_hash)
{
    base = getauxval(AT_SYSINFO_EHDR);
    CHECK(base != 0, "no AT_SYSINFO_EHDR in the auxiliary vector");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0, "AT_SYSINFO_EHDR %#lx is not an ELF image", (unsigned long)base);
    CHECK(eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_type == ET_DYN && eh->e_machine == EM_X86_64,
          "vDSO is not a 64-bit x86-64 shared object (class %d type %d machine %d)", eh->e_ident[EI_CLASS],
          eh->e_type, eh->e_machine);
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    int loads = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && loads++ == 0)
            bias = base + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    CHECK(loads >= 1 && dyn != NULL, "vDSO without PT_LOAD (%d) or PT_DYNAMIC", loads);
    const uint32_t *hash = NULL, *gnu = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = bias + dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
        case DT_SYMTAB: symbols = (const Elf64_Sym *)p; break;
        case DT_STRTAB: strings = (const char *)p; break;
        case DT_HASH: hash = (const uint32_t *)p; break;
        case DT_GNU_HASH: gnu = (const uint32_t *)p; break;
        case DT_VERSYM: versyms = (const Elf64_Half *)p; break;
        case DT_VERDEF: verdefs = (const Elf64_Verdef *)p; break;
        }
    }
    CHECK(symbols && strings, "vDSO dynamic section lacks DT_SYMTAB or DT_STRTAB");
    CHECK(hash || gnu, "vDSO has neither DT_HASH nor DT_GNU_HASH");
    CHECK(versyms && verdefs, "vDSO has no symbol versions (DT_VERSYM, DT_VERDEF)");
    symbol_count = hash ? hash[1] : gnu_hash_count(gnu);
    *has_hash = hash != NULL;
    *has_gnu_hash = gnu != NULL;
}

/* The version name of symbol i (from DT_VERDEF), or "" when unversioned. */
static const char *version_of(size_t i)
{
    Elf64_Half index = versyms[i] & 0x7fff;
    const Elf64_Verdef *d = verdefs;
    for (;;) {
        if ((d->vd_flags & VER_FLG_BASE) == 0 && d->vd_ndx == index) {
            const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
            return strings + aux->vda_name;
        }
        if (d->vd_next == 0)
            return "";
        d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
    }
}

static void *lookup(const char *name)
{
    for (size_t i = 1; i < symbol_count; i++) {
        const Elf64_Sym *s = &symbols[i];
        if (s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC)
            continue;
        if (strcmp(strings + s->st_name, name) != 0)
            continue;
        CHECK(strcmp(version_of(i), "LINUX_2.6") == 0, "%s has version '%s', not LINUX_2.6", name, version_of(i));
        return (void *)(bias + s->st_value);
    }
    return NULL;
}

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static int64_t sys_clock(clockid_t c)
{
    struct timespec t;
    CHECK(syscall(SYS_clock_gettime, c, &t) == 0, "clock_gettime(%d) syscall: %s", (int)c, strerror(errno));
    return ns_of(&t);
}

static clock_gettime_fn vdso_clock_gettime;

static int64_t vdso_clock(clockid_t c)
{
    struct timespec t;
    int rc = vdso_clock_gettime(c, &t);
    CHECK(rc == 0, "__vdso_clock_gettime(%d) = %d", (int)c, rc);
    CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000, "__vdso_clock_gettime(%d): tv_nsec %ld", (int)c, t.tv_nsec);
    return ns_of(&t);
}

/* Each vDSO read lies between the syscall reads taken just before and after it, and the
 * vDSO's own reads never go backwards. */
static void agree(clockid_t c, const char *name, int rounds)
{
    int64_t last = 0;
    for (int i = 0; i < rounds; i++) {
        int64_t before = sys_clock(c);
        int64_t v = vdso_clock(c);
        int64_t after = sys_clock(c);
        CHECK(before <= v && v <= after, "%s: vDSO %lld outside the syscall's [%lld, %lld]", name, (long long)v,
              (long long)before, (long long)after);
        CHECK(v >= last, "%s went backwards: %lld after %lld", name, (long long)v, (long long)last);
        last = v;
    }
}

/* Two threads on different CPUs (when there are two) share the latest monotonic time seen:
 * each one's next read must not be earlier than what the other published before it. */
static _Atomic int64_t latest;
static _Atomic int backwards;

static void *cross_cpu(void *arg)
{
    int cpu = (int)(intptr_t)arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);  /* best effort: one CPU natively in a container */
    for (int i = 0; i < 200000 && !atomic_load(&backwards); i++) {
        int64_t seen = atomic_load(&latest);
        int64_t now = vdso_clock(CLOCK_MONOTONIC);
        if (now < seen)
            atomic_store(&backwards, 1);
        while (seen < now && !atomic_compare_exchange_weak(&latest, &seen, now))
            ;
    }
    return NULL;
}

static int maps_name(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL, "open /proc/self/maps: %s", strerror(errno));
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = 0;
        size_t k = strlen(name);
        if (n >= k && strcmp(line + n - k, name) == 0) {
            unsigned long lo, hi;
            if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && strcmp(name, "[vdso]") == 0)
                CHECK(lo == base, "[vdso] at %#lx, AT_SYSINFO_EHDR says %#lx", lo, (unsigned long)base);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

int main(void)
{
    int has_hash, has_gnu_hash;
    load_vdso(&has_hash, &has_gnu_hash);
    const char *names[] = { "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu",
                            "clock_gettime", "gettimeofday", "time", "getcpu" };
    void *found[8];
    for (int i = 0; i < 8; i++) {
        found[i] = lookup(names[i]);
        CHECK(found[i] != NULL, "vDSO does not export %s@LINUX_2.6", names[i]);
    }
    for (int i = 0; i < 4; i++)
        CHECK(found[i] == found[i + 4], "%s and %s are not the same function", names[i], names[i + 4]);
    vdso_clock_gettime = (clock_gettime_fn)found[0];
    gettimeofday_fn vdso_gettimeofday = (gettimeofday_fn)found[1];
    time_fn vdso_time = (time_fn)found[2];
    getcpu_fn vdso_getcpu = (getcpu_fn)found[3];

    agree(CLOCK_MONOTONIC, "CLOCK_MONOTONIC", 2000);
    agree(CLOCK_REALTIME, "CLOCK_REALTIME", 2000);
    agree(CLOCK_BOOTTIME, "CLOCK_BOOTTIME", 500);
    agree(CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW", 500);
    /* COARSE clocks may lag the fine ones by up to a tick, but never lead them. */
    int64_t coarse = vdso_clock(CLOCK_MONOTONIC_COARSE), fine = sys_clock(CLOCK_MONOTONIC);
    CHECK(coarse <= fine && fine - coarse < 100000000, "CLOCK_MONOTONIC_COARSE %lld vs MONOTONIC %lld",
          (long long)coarse, (long long)fine);
    /* A clock the vDSO does not compute itself goes to the kernel: same rules as the syscall. */
    struct timespec t;
    CHECK(vdso_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 && ns_of(&t) > 0, "CPU-time clock through the vDSO");
    CHECK(vdso_clock_gettime(12345, &t) == -EINVAL, "an invalid clock id through the vDSO is not -EINVAL");

    struct timeval tv;
    int64_t before = sys_clock(CLOCK_REALTIME);
    CHECK(vdso_gettimeofday(&tv, NULL) == 0, "__vdso_gettimeofday failed");
    int64_t after = sys_clock(CLOCK_REALTIME);
    int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    CHECK(before / 1000 <= us && us <= after / 1000, "gettimeofday %lld µs outside [%lld, %lld]", (long long)us,
          (long long)(before / 1000), (long long)(after / 1000));
    long secs = 0;
    before = sys_clock(CLOCK_REALTIME);
    long r = vdso_time(&secs);
    after = sys_clock(CLOCK_REALTIME);
    CHECK(r == secs && r >= before / 1000000000 && r <= after / 1000000000, "__vdso_time %ld vs [%lld, %lld]", r,
          (long long)(before / 1000000000), (long long)(after / 1000000000));
    unsigned cpu = 99, node = 99;
    CHECK(vdso_getcpu(&cpu, &node, NULL) == 0 && cpu < 1024 && node == 0, "__vdso_getcpu: cpu %u node %u", cpu, node);

    CHECK(maps_name("[vdso]"), "no [vdso] line in /proc/self/maps");
    CHECK(maps_name("[vvar]"), "no [vvar] line in /proc/self/maps");

    /* Across CPUs. */
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, cross_cpu, (void *)0) == 0, "pthread_create");
    CHECK(pthread_create(&b, NULL, cross_cpu, (void *)1) == 0, "pthread_create");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(!atomic_load(&backwards), "CLOCK_MONOTONIC from the vDSO went backwards between two threads");

    /* A forked child has the same vDSO at the same place, and it works there. */
    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        if (getauxval(AT_SYSINFO_EHDR) != base || !maps_name("[vdso]"))
            _exit(2);
        int64_t s1 = sys_clock(CLOCK_MONOTONIC), v = vdso_clock(CLOCK_MONOTONIC), s2 = sys_clock(CLOCK_MONOTONIC);
        _exit(s1 <= v && v <= s2 ? 0 : 3);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child's vDSO failed (status %#x)", status);

    /* clock_settime moves the vDSO's CLOCK_REALTIME: only as PID 1 (egg's init), never the host's. */
    const char *settime = "not PID 1: clock_settime not tried";
    if (getpid() == 1) {
        int64_t now = sys_clock(CLOCK_REALTIME);
        struct timespec later = { .tv_sec = (now / 1000000000) + 86400 * 365, .tv_nsec = 0 };
        CHECK(clock_settime(CLOCK_REALTIME, &later) == 0, "clock_settime: %s", strerror(errno));
        agree(CLOCK_REALTIME, "CLOCK_REALTIME after clock_settime", 200);
        int64_t v = vdso_clock(CLOCK_REALTIME);
        CHECK(v >= ns_of(&later) && v - ns_of(&later) < 60 * 1000000000LL,
              "vDSO CLOCK_REALTIME %lld after setting %lld", (long long)v, (long long)ns_of(&later));
        struct timespec back = { .tv_sec = now / 1000000000, .tv_nsec = now % 1000000000 };
        CHECK(clock_settime(CLOCK_REALTIME, &back) == 0, "clock_settime back: %s", strerror(errno));
        agree(CLOCK_REALTIME, "CLOCK_REALTIME after setting it back", 200);
        settime = "clock_settime followed";
    }
    return pass("%zu symbols, %s%s, %s", symbol_count, has_hash ? "DT_HASH " : "", has_gnu_hash ? "DT_GNU_HASH" : "",
                settime);
}
