/*
 * syscall_fuzz — a seeded random-system-call fuzzer (issue 12 item 6).
 *
 * Layer: guest program. `make fuzz` (top-level Makefile) and Tests/integration/fuzz.sh run
 * it under egg; it also runs natively on Linux, as root, without harm to the host.
 *
 *   syscall_fuzz [SEED [CALLS [TRACE_FROM [avoid-known]]]]
 *
 * It issues CALLS system calls with numbers 0..511 drawn from a xorshift generator seeded by
 * SEED; the sequence of calls and arguments depends on the seed only (never on results), so a
 * run is reproducible. Arguments come from hostile sets: small integers, 0, -1, huge values,
 * pointers into its own arena (small offsets, page edges, the last bytes before a guard page),
 * unmapped, egg's kernel window (0x7f8000000000, see README "Architecture") and non-canonical
 * pointers, and descriptors it opened (files, a directory, pipes, sockets, eventfd, epoll,
 * timerfd, signalfd, inotify, memfd). From TRACE_FROM on, each call is printed before it is
 * made (`I: nr(a0, ..., a5)`), so the last line before a panic is the culprit (TRACE_FROM
 * = -1: never). "avoid-known" keeps away from issue 12's known panics (see
 * avoid_known_issues()).
 *
 * What it does not do, and why (each case is marked SKIP or fixed up in sanitize() below):
 *  - calls that legitimately end or stop it: exit, exit_group, execve(at), fork, vfork,
 *    clone(3), rt_sigreturn, pause, rt_sigsuspend, kill/tkill/tgkill/sigqueue of itself
 *    with SIGKILL or SIGSTOP, seccomp and PR_SET_SECCOMP, rseq (a registered area later
 *    unmapped is a SIGSEGV at return to user), ptrace (PTRACE_TRACEME stops it at the next
 *    signal), userfaultfd (a registered range makes the kernel wait for a handler);
 *  - calls that would wait forever: descriptors given to reading/writing calls are made
 *    O_NONBLOCK just before the call, opens carry O_NONBLOCK (a FIFO would wait for its
 *    partner), flock gets LOCK_NB, F_SETLKW becomes F_SETLK, every timeout is zero, 1 ms
 *    or a bad pointer (never NULL, which means "forever"), creat is skipped (it cannot carry
 *    O_NONBLOCK), SysV IPC and POSIX message queues are skipped (they also outlive the process
 *    on a host), io_uring is skipped;
 *  - memory calls (mmap with MAP_FIXED, munmap, mprotect, mremap, madvise, mlock, msync,
 *    mbind, mseal...) only touch its private arena, between two guard mappings, or hostile
 *    addresses with a length that cannot reach its own text, data or stack; brk only grows;
 *    arch_prctl(ARCH_SET_FS) is skipped (its TLS); every signal it can catch is caught, and
 *    a handler installed by a random rt_sigaction is replaced at once;
 *  - damage to a host: reboot, mount and friends, swapon, modules, kexec, clock setting,
 *    sethostname, chroot/chdir, acct, bpf, perf, fanotify, keyrings, namespaces; paths are
 *    relative names inside its own directory (only read-only calls see a few absolute
 *    paths); process ids are itself or ones that do not exist; sockets are AF_UNIX,
 *    AF_INET(6), AF_ALG or AF_VSOCK, never raw or netlink; ioctl requests come from a list
 *    of harmless ones or are random; mknod makes no device nodes; MADV_HWPOISON is skipped.
 *
 * Progress goes to stderr every 10000 calls; the verdict is `PASS syscall_fuzz seed=S
 * calls=N` on stdout. A kernel panic, a hang or a crash shows as no verdict (the runner
 * tells them apart by egg's exit status).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

typedef uint64_t u64;

/* ---- raw system calls: the fuzzer wants the kernel's return value, not libc's errno ---- */

static long raw6(long n, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f)
{
    long ret;
    register u64 r10 __asm__("r10") = d;
    register u64 r8 __asm__("r8") = e;
    register u64 r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
static long raw_n(long n, u64 a, u64 b, u64 c) { return raw6(n, a, b, c, 0, 0, 0); }

/* Output without stdio's buffers or malloc (glibc's dprintf allocates; brk may move). */
__attribute__((format(printf, 2, 3))) static void say(int fd, const char *format, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    if (n > (int)sizeof line - 1) n = sizeof line - 1;
    if (n > 0) raw6(SYS_write, (u64)fd, (u64)line, (u64)n, 0, 0, 0);
}

/* ---- deterministic generator (xorshift64*) ---- */

static u64 rng;
static u64 next64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}
static unsigned below(unsigned n) { return (unsigned)((next64() >> 32) % n); }

/* ---- the fuzzer's memory: an arena between guards, a read-only path page, a scratch page ---- */

#define PAGE 4096UL
#define ARENA_SIZE (256 * PAGE) /* 1 MiB: bounds how much one write can add to a file */
static char *arena;             /* [guard page][arena][guard page] */
static char *paths;             /* 3 read-only pages of path strings, then a guard page */
static char *scratch;           /* structs the fuzzer builds itself: timeouts, open_how... */
static u64 initial_brk;
static long self_pid;

#define OUT_FD 900 /* the real stdout and stderr, saved where no random descriptor reaches */
#define ERR_FD 901

static const char *const relative_names[] = {
    "f0", "f1", "f2", "d0", "d0/f3", "d0/d1", "l0", "p0", "s0", "", ".", "nx/y", "f0/",
    "user.a", "trusted.b", "security.c",
};
static const char *const readonly_absolute[] = {
    "/", "/proc/self/maps", "/proc/self/exe", "/dev/null", "/proc/self/fd/0", "/nonexistent",
};
#define NREL (sizeof relative_names / sizeof *relative_names)
#define NABS (sizeof readonly_absolute / sizeof *readonly_absolute)
static u64 rel_ptr[NREL + 3]; /* + a 255-byte name, a PATH_MAX+ path, an unterminated one */
static u64 abs_ptr[NABS];
#define NRELP (NREL + 3)

static int pool[32];
static int npool;

/* Addresses nothing of the fuzzer's own can be at: NULL and the low page, egg's kernel
 * window and the page below it (egg's user space ends at 0x7f7ffffff000), Linux's user top,
 * non-canonical addresses and the kernel half. */
static const u64 bad_pointers[] = {
    0, 1, 0x1000, 0xfff, 0x7f7ffffff000ULL, 0x7f7ffffffff8ULL, 0x7f8000000000ULL,
    0x7f8000001000ULL, 0x7f8000100000ULL, 0x7f80001fffffULL, 0x7ffffffff000ULL,
    0x7ffffffffff8ULL, 0x800000000000ULL, 0xffff800000000000ULL, 0xffffffff81000000ULL,
    0xdead000000000000ULL, 0x8000000000000000ULL, 0xfffffffffffff000ULL, 0xffffffffffffffffULL,
};
static const u64 huge_values[] = {
    1ULL << 62, 0x7fffffffffffffffULL, 0x7fffffffffffULL, 0xffffffffffffffffULL,
    0x8000000000000000ULL, 0xffffffffULL, 0x7fffffffULL, 0x80000000ULL, 0x100000000ULL,
    1ULL << 47, 0x7f8000000000ULL, 0xfffffffffffff000ULL, 1ULL << 40, 0xfffffffeULL,
    0xffffffff80000000ULL, 1ULL << 31, 65536, 1ULL << 20, 0x7ffff000,
};
/* Lengths for memory calls that, at any user address, cannot succeed (Linux checks
 * len > TASK_SIZE - addr), so they can never reach the fuzzer's own mappings. */
static const u64 failing_lengths[] = {
    1ULL << 62, 0x7fffffffffffffffULL, 0xffffffffffffffffULL, 1ULL << 47,
    0x7fffffffffffULL, 0xfffffffffffff000ULL, 0x8000000000000000ULL,
};
#define N(a) (sizeof(a) / sizeof *(a))

static u64 pick(const u64 *set, unsigned n) { return set[below(n)]; }

static u64 arena_pointer(void)
{
    u64 base = (u64)arena;
    switch (below(6)) {
    case 0: return base;
    case 1: return base + 8 * below(64);
    case 2: return base + PAGE * below(ARENA_SIZE / PAGE);
    case 3: return base + ARENA_SIZE - 1 - below(64);          /* the last bytes before the guard */
    case 4: return base + PAGE * (1 + below(ARENA_SIZE / PAGE - 1)) - 8 * (1 + below(4));
    default: return base + below(ARENA_SIZE);
    }
}

static u64 small_int(void)
{
    static const u64 specials[] = { 0, 1, 2, 3, 4, 8, 16, 32, 64, 100, 255, 256, 4095, 4096, 4097,
                                    0xffffffffffffffffULL, 0xfffffffffffffffeULL };
    return below(2) ? below(65) : pick(specials, N(specials));
}

static u64 generic(void)
{
    switch (below(8)) {
    case 0: case 1: return small_int();
    case 2: return pick(huge_values, N(huge_values));
    case 3: return arena_pointer();
    case 4: return pick(bad_pointers, N(bad_pointers));
    case 5: return pool[below(npool)];
    case 6: return next64();
    default: return next64() & 0xffff;
    }
}

static u64 fd_arg(void)
{
    unsigned r = below(20);
    if (r < 15) return (u64)(long)pool[below(npool)];
    if (r < 18) return below(64);
    static const u64 bad[] = { 0xffffffffffffffffULL, (u64)-100, 1023, 1024, 0x7fffffff,
                               0x80000000ULL, 1ULL << 40 };
    return pick(bad, N(bad));
}

static u64 pointer_arg(void)
{
    unsigned r = below(10);
    if (r < 7) return arena_pointer();
    return pick(bad_pointers, N(bad_pointers));
}

static u64 count_arg(void)
{
    static const u64 counts[] = { 0, 1, 2, 7, 8, 16, 24, 64, 128, 4095, 4096, 4097, 8192, 65536,
                                  ARENA_SIZE, 1 << 20, 0x7ffff000, 0xffffffffULL, 1ULL << 32 };
    switch (below(4)) {
    case 0: return pick(huge_values, N(huge_values));
    case 1: return below(300);
    default: return pick(counts, N(counts));
    }
}

static u64 offset_arg(void)
{
    static const u64 offsets[] = { 0, 0, 1, 512, 4096, 65536, 1ULL << 31, 1ULL << 32, 1ULL << 40,
                                   1ULL << 62, 0x7fffffffffffffffULL, 0xffffffffffffffffULL,
                                   0x7ffffffffffff000ULL, (u64)-4096 };
    return below(3) ? pick(offsets, N(offsets)) : below(100000);
}

static u64 path_arg(int readonly)
{
    unsigned r = below(20);
    if (readonly && r < 4) return abs_ptr[below(NABS)];
    if (r < 17) return rel_ptr[below(NRELP)];
    return pick(bad_pointers, N(bad_pointers));
}

/* Timeouts: zero, 1 ms, a struct on the arena's page edge, or bad pointers — never NULL. */
static u64 timeout_pointer(int slot)
{
    long *ts = (long *)(scratch + 64 * slot);
    switch (below(6)) {
    case 0: ts[0] = 0; ts[1] = 0; return (u64)ts;
    case 1: ts[0] = 0; ts[1] = 1000000; return (u64)ts;
    case 2: ts[0] = 0; ts[1] = 1000; return (u64)ts;
    /* EINVAL for a timespec and a timeval alike: negative parts. (A tv_nsec of 10^9 was
     * here once, but select's timeval carries 10^9 microseconds into 1000 s, a valid wait.) */
    case 3: ts[0] = below(2) ? 0 : -1; ts[1] = ts[0] ? 0 : -1; return (u64)ts;
    default: return pick(bad_pointers + 1, N(bad_pointers) - 1); /* bad_pointers[0] is NULL */
    }
}

static int is_fault_signal(u64 s) { return s == 4 || s == 5 || s == 7 || s == 8 || s == 11 || s == 31; }

static u64 signal_arg(void)
{
    u64 s;
    switch (below(5)) {
    case 0: s = pick(huge_values, N(huge_values)); break;
    case 1: s = 0; break;
    default: s = below(66);
    }
    if (s == SIGKILL || s == SIGSTOP) s = 0;
    return s;
}

/* Process ids: itself, or ids that do not exist (a positive one, a group, INT_MIN). */
static u64 pid_arg(int zero_is_self)
{
    switch (below(zero_is_self ? 5 : 4)) {
    case 0: case 1: return (u64)self_pid;
    case 2: return 0x3ffffff0;
    case 3: return below(2) ? (u64)(long)-0x3ffffff0 : (u64)0xffffffff80000000ULL;
    default: return 0;
    }
}

/* Memory ranges: inside the arena (never past its end), or a bad address with a length that
 * keeps clear of the fuzzer's own mappings. Linux applies mprotect, madvise and mlock to the
 * mapped parts of a range even when it has holes, so only calls that check the whole length
 * first (mmap, munmap, mremap, mseal: `huge`) get lengths past the end of user space, and
 * otherwise a long range starts only where nothing of the fuzzer's can be: past Linux's user
 * space, non-canonical, or (under egg only) in egg's kernel window. */
static int under_egg;

static void memory_range(u64 *addr, u64 *len, int huge)
{
    if (below(5) < 4) {
        u64 a = (u64)arena + PAGE * below(ARENA_SIZE / PAGE);
        if (below(8) == 0) a += 1 + below(PAGE - 1); /* unaligned: EINVAL */
        u64 room = (u64)arena + ARENA_SIZE - a;
        *addr = a;
        switch (below(6)) {
        case 0: *len = 0; break;
        case 1: *len = huge ? pick(failing_lengths, N(failing_lengths)) : room; break;
        case 2: *len = room; break;
        case 3: *len = 1 + below(room < PAGE ? (unsigned)room : PAGE); break;
        default: *len = PAGE * (1 + below((unsigned)(room / PAGE) ? (unsigned)(room / PAGE) : 1));
            if (*len > room) *len = room;
        }
    } else if (below(2)) {
        static const u64 low[] = { 0, 0x10000, 0x7f8000000000ULL, 0x7f8000200000ULL };
        *addr = pick(low, N(low));
        *len = PAGE * below(17);
    } else {
        static const u64 high[] = { 0x7ffffffff000ULL, 0x800000000000ULL, 0xffff800000000000ULL,
                                    1ULL << 62, 0xfffffffffffff000ULL, 0x7f8000000000ULL };
        *addr = pick(high, N(high));
        if (*addr == 0x7f8000000000ULL && !under_egg) *addr = 0x7ffffffff000ULL;
        *len = below(2) ? PAGE * below(17) : below(2) ? pick(failing_lengths, N(failing_lengths))
                                                      : pick(huge_values, N(huge_values));
    }
}

/* ---- per-call signatures: one character per argument ----
 *  x any value        f descriptor       d directory descriptor (AT_FDCWD too)
 *  p buffer pointer   n count/length     i integer or flags     o file offset
 *  s path (relative)  S path (read-only call: absolute ones too)
 *  t timeout pointer  T timeout in ms    P pid (itself or none) Q pid, 0 = itself
 *  k signal           a/l memory range (A: lengths past user space too)   c bounded copy count   q ioctl request
 *  z socket domain    y socket type      M madvise advice       r rlimit resource
 *  g siginfo pointer (si_code < 0)       I itimer pointer       E sigevent pointer
 *  O open_how pointer                    b brk address
 * A call not listed gets six `x`. */
enum { SKIP = 1, NONBLOCK = 2 };
struct spec {
    const char *args;
    unsigned char flags;
};
static struct spec specs[512];

#define DEF(nr, a, f) specs[nr] = (struct spec){ a, f }
static void define_specs(void)
{
    DEF(0, "fpn", NONBLOCK);        DEF(1, "fpn", NONBLOCK);        DEF(2, "sii", 0);
    DEF(3, "f", 0);                 DEF(4, "Sp", 0);                DEF(5, "fp", 0);
    DEF(6, "Sp", 0);                DEF(7, "pnT", 0);               DEF(8, "foi", 0);
    DEF(9, "Aliifo", 0);            DEF(10, "ali", 0);              DEF(11, "Al", 0);
    DEF(12, "b", 0);                DEF(13, "kppn", 0);             DEF(14, "ippn", 0);
    DEF(15, "", SKIP);              DEF(16, "fqp", NONBLOCK);       DEF(17, "fpno", NONBLOCK);
    DEF(18, "fpno", NONBLOCK);      DEF(19, "fpn", NONBLOCK);       DEF(20, "fpn", NONBLOCK);
    DEF(21, "Si", 0);               DEF(22, "p", 0);                DEF(23, "npppt", 0);
    DEF(24, "", 0);                 DEF(25, "Allia", 0);            DEF(26, "ali", 0);
    DEF(27, "alp", 0);              DEF(28, "alM", 0);              DEF(29, "", SKIP);
    DEF(30, "", SKIP);              DEF(31, "", SKIP);              DEF(32, "f", 0);
    DEF(33, "ff", 0);               DEF(34, "", SKIP);              DEF(35, "tp", 0);
    DEF(36, "ip", 0);               DEF(37, "i", 0);                DEF(38, "iIp", 0);
    DEF(39, "", 0);                 DEF(40, "ffpc", NONBLOCK);      DEF(41, "zyi", 0);
    DEF(42, "fpn", NONBLOCK);       DEF(43, "fpp", NONBLOCK);       DEF(44, "fpnipn", NONBLOCK);
    DEF(45, "fpnipp", NONBLOCK);    DEF(46, "fpi", NONBLOCK);       DEF(47, "fpi", NONBLOCK);
    DEF(48, "fi", 0);               DEF(49, "fpn", 0);              DEF(50, "fi", 0);
    DEF(51, "fpp", 0);              DEF(52, "fpp", 0);              DEF(53, "zyip", 0);
    DEF(54, "fiipn", 0);            DEF(55, "fiipp", 0);            DEF(56, "", SKIP);
    DEF(57, "", SKIP);              DEF(58, "", SKIP);              DEF(59, "", SKIP);
    DEF(60, "", SKIP);              DEF(61, "xpip", 0);             DEF(62, "Pk", 0);
    DEF(63, "p", 0);
    for (int n = 64; n <= 71; n++) DEF(n, "", SKIP); /* SysV IPC: outlives the process on a host */
    DEF(72, "fix", 0);              DEF(73, "fi", 0);               DEF(74, "f", 0);
    DEF(75, "f", 0);                DEF(76, "so", 0);               DEF(77, "fo", 0);
    DEF(78, "fpn", 0);              DEF(79, "pn", 0);               DEF(80, "", SKIP);
    DEF(81, "", SKIP);              DEF(82, "ss", 0);               DEF(83, "si", 0);
    DEF(84, "s", 0);                DEF(85, "", SKIP);              DEF(86, "ss", 0);
    DEF(87, "s", 0);                DEF(88, "ss", 0);               DEF(89, "Spn", 0);
    DEF(90, "si", 0);               DEF(91, "fi", 0);               DEF(92, "sii", 0);
    DEF(93, "fii", 0);              DEF(94, "sii", 0);              DEF(95, "i", 0);
    DEF(96, "pp", 0);               DEF(97, "ip", 0);               DEF(98, "ip", 0);
    DEF(99, "p", 0);                DEF(100, "p", 0);               DEF(101, "", SKIP);
    DEF(102, "", 0);                DEF(103, "", SKIP);             DEF(104, "", 0);
    DEF(105, "i", 0);               DEF(106, "i", 0);               DEF(107, "", 0);
    DEF(108, "", 0);                DEF(109, "QQ", 0);              DEF(110, "", 0);
    DEF(111, "", 0);                DEF(112, "", 0);                DEF(113, "ii", 0);
    DEF(114, "ii", 0);              DEF(115, "np", 0);              DEF(116, "np", 0);
    DEF(117, "iii", 0);             DEF(118, "ppp", 0);             DEF(119, "iii", 0);
    DEF(120, "ppp", 0);             DEF(121, "Q", 0);               DEF(122, "i", 0);
    DEF(123, "i", 0);               DEF(124, "Q", 0);               DEF(125, "pp", 0);
    DEF(126, "pp", 0);              DEF(127, "pn", 0);              DEF(128, "pptn", 0);
    DEF(129, "Pkg", 0);             DEF(130, "", SKIP);             DEF(131, "pp", 0);
    DEF(132, "sp", 0);              DEF(133, "sii", 0);             DEF(134, "", SKIP);
    DEF(135, "i", 0);               DEF(136, "ip", 0);              DEF(137, "Sp", 0);
    DEF(138, "fp", 0);              DEF(139, "ipp", 0);             DEF(140, "iQ", 0);
    DEF(141, "iQi", 0);             DEF(142, "Qp", 0);              DEF(143, "Qp", 0);
    DEF(144, "", SKIP);             DEF(145, "Q", 0);               DEF(146, "i", 0);
    DEF(147, "i", 0);               DEF(148, "Qp", 0);              DEF(149, "al", 0);
    DEF(150, "al", 0);              DEF(151, "i", 0);               DEF(152, "", 0);
    DEF(153, "", SKIP);             DEF(154, "ipn", 0);             DEF(155, "", SKIP);
    DEF(156, "p", 0);               DEF(157, "ixxxx", 0);           DEF(158, "ix", 0);
    DEF(159, "", SKIP);             DEF(160, "rp", 0);              DEF(161, "", SKIP);
    DEF(162, "", 0);
    for (int n = 163; n <= 180; n++) DEF(n, "", SKIP); /* acct, clocks, mount, swap, reboot,
                                                          hostname, iopl, modules, quotactl */
    DEF(177, "p", 0);               DEF(186, "", 0);                DEF(187, "fon", 0);
    DEF(188, "sspni", 0);           DEF(189, "sspni", 0);           DEF(190, "fspni", 0);
    DEF(191, "Sspn", 0);            DEF(192, "Sspn", 0);            DEF(193, "fspn", 0);
    DEF(194, "Spn", 0);             DEF(195, "Spn", 0);             DEF(196, "fpn", 0);
    DEF(197, "ss", 0);              DEF(198, "ss", 0);              DEF(199, "fs", 0);
    DEF(200, "Pk", 0);              DEF(201, "p", 0);               DEF(202, "piitpi", 0);
    DEF(203, "Qnp", 0);             DEF(204, "Qnp", 0);             DEF(205, "p", 0);
    DEF(206, "ip", 0);              DEF(207, "x", 0);               DEF(208, "xiipt", 0);
    DEF(209, "xnp", 0);             DEF(210, "xpp", 0);             DEF(211, "p", 0);
    DEF(212, "xpn", 0);             DEF(213, "i", 0);               DEF(216, "aliii", 0);
    DEF(217, "fpn", 0);             DEF(218, "p", 0);               DEF(219, "", 0);
    DEF(220, "", SKIP);             DEF(221, "foni", 0);            DEF(222, "iEp", 0);
    DEF(223, "xiIp", 0);            DEF(224, "xp", 0);              DEF(225, "x", 0);
    DEF(226, "x", 0);               DEF(227, "", SKIP);             DEF(228, "ip", 0);
    DEF(229, "ip", 0);              DEF(230, "iitp", 0);            DEF(231, "", SKIP);
    DEF(232, "fpnT", 0);            DEF(233, "fifp", 0);            DEF(234, "PPk", 0);
    DEF(235, "sp", 0);              DEF(237, "alipni", 0);          DEF(238, "ipn", 0);
    DEF(239, "ppnxi", 0);
    for (int n = 240; n <= 246; n++) DEF(n, "", SKIP); /* mqueues (persist on a host), kexec */
    DEF(247, "xxpip", 0);           DEF(248, "", SKIP);             DEF(249, "", SKIP);
    DEF(250, "", SKIP);             DEF(251, "iQi", 0);             DEF(252, "iQ", 0);
    DEF(253, "", 0);                DEF(254, "fsi", 0);             DEF(255, "fi", 0);
    DEF(256, "Qnpp", 0);            DEF(257, "dsii", 0);            DEF(258, "dsi", 0);
    DEF(259, "dsii", 0);            DEF(260, "dsiii", 0);           DEF(261, "dsp", 0);
    DEF(262, "dSpi", 0);            DEF(263, "dsi", 0);             DEF(264, "dsds", 0);
    DEF(265, "dsdsi", 0);           DEF(266, "sds", 0);             DEF(267, "dSpn", 0);
    DEF(268, "dsi", 0);             DEF(269, "dSi", 0);             DEF(270, "nppptp", 0);
    DEF(271, "pntpn", 0);           DEF(272, "", SKIP);             DEF(273, "pn", 0);
    DEF(274, "Qpp", 0);             DEF(275, "fpfpci", NONBLOCK);   DEF(276, "ffci", NONBLOCK);
    DEF(277, "fooi", 0);            DEF(278, "fpni", NONBLOCK);     DEF(279, "Qnpppi", 0);
    DEF(280, "dspi", 0);            DEF(281, "fpnTpn", 0);          DEF(282, "fpn", 0);
    DEF(283, "ii", 0);              DEF(284, "i", 0);               DEF(285, "fioo", 0);
    DEF(286, "fipp", 0);            DEF(287, "fp", 0);              DEF(288, "fppi", NONBLOCK);
    DEF(289, "fpni", 0);            DEF(290, "ii", 0);              DEF(291, "i", 0);
    DEF(292, "ffi", 0);             DEF(293, "pi", 0);              DEF(294, "i", 0);
    DEF(295, "fpno", NONBLOCK);     DEF(296, "fpno", NONBLOCK);     DEF(297, "PPkg", 0);
    DEF(298, "", SKIP);             DEF(299, "fpnit", NONBLOCK);    DEF(300, "", SKIP);
    DEF(301, "", SKIP);             DEF(302, "Qrpp", 0);            DEF(303, "dsppi", 0);
    DEF(304, "", SKIP);             DEF(305, "", SKIP);             DEF(306, "f", 0);
    DEF(307, "fpni", NONBLOCK);     DEF(308, "", SKIP);             DEF(309, "ppp", 0);
    DEF(310, "Qpnpni", 0);          DEF(311, "Qpnpni", 0);          DEF(312, "QQixx", 0);
    DEF(313, "", SKIP);             DEF(314, "", SKIP);             DEF(315, "Qpni", 0);
    DEF(316, "dsdsi", 0);           DEF(317, "", SKIP);             DEF(318, "pni", 0);
    DEF(319, "si", 0);              DEF(320, "", SKIP);             DEF(321, "", SKIP);
    DEF(322, "", SKIP);             DEF(323, "", SKIP);             DEF(324, "iii", 0);
    DEF(325, "ali", 0);             DEF(326, "fpfpci", NONBLOCK);   DEF(327, "fpnooi", NONBLOCK);
    DEF(328, "fpnooi", NONBLOCK);   DEF(329, "alii", 0);            DEF(330, "ii", 0);
    DEF(331, "i", 0);               DEF(332, "dSiip", 0);           DEF(333, "xiiptp", 0);
    DEF(334, "", SKIP);
    DEF(335, "", SKIP); /* unassigned, but the Firecracker host kernel here answers it with SIGILL */
    DEF(424, "fkgi", 0);
    for (int n = 425; n <= 433; n++) DEF(n, "", SKIP); /* io_uring, the new mount API */
    DEF(434, "Pi", 0);              DEF(435, "", SKIP);             DEF(436, "iii", 0);
    DEF(437, "dsOn", 0);            DEF(438, "ffi", 0);             DEF(439, "dSii", 0);
    DEF(440, "fpnMi", 0);           DEF(441, "fpntpn", 0);          DEF(442, "", SKIP);
    DEF(443, "", SKIP);             DEF(444, "pni", 0);             DEF(445, "fipi", 0);
    DEF(446, "", SKIP);             DEF(447, "i", 0);               DEF(448, "fi", 0);
    DEF(449, "pniti", 0);           DEF(450, "alii", 0);            DEF(451, "fppi", 0);
    DEF(452, "dsii", 0);            DEF(453, "ali", 0);             DEF(454, "piii", 0);
    DEF(455, "piiiti", 0);          DEF(456, "piii", 0);            DEF(457, "ppni", 0);
    DEF(458, "ppni", 0);            DEF(459, "ippi", 0);            DEF(460, "", SKIP);
    DEF(461, "ppi", 0);             DEF(462, "Ali", 0);
    /* Newer than egg's table (ENOSYS there); typed so that natively their paths stay ours. */
    DEF(463, "dsispn", 0);          DEF(464, "dSispn", 0);          DEF(465, "dSipn", 0);
    DEF(466, "dsis", 0);            DEF(467, "", SKIP);             DEF(468, "dSpni", 0);
    DEF(469, "", SKIP);
}

/* Requests that only read, or act on the descriptor itself (never SIOCS*, FS_IOC_SETFLAGS
 * or TIOCSTI): a terminal's, a framebuffer's, a socket's and a file's. */
static const u64 ioctl_requests[] = {
    0x5401, 0x5402, 0x5403, 0x5404, 0x540B, 0x540F, 0x5411, 0x5413, 0x5414, 0x541B, 0x5421,
    0x5429, 0x5450, 0x5451, 0x5452, 0x4600, 0x4601, 0x4602, 0x4606, 0x8905, 0x8906, 0x8912,
    0x8913, 0x8915, 0x8921, 0x8927, 0x8933, 2, 0x80086601, 0x80081272, 0x40049409,
};

static u64 gen(char type, u64 *args, int index)
{
    long *scr;
    switch (type) {
    case 'f': return fd_arg();
    case 'd': return below(4) == 0 ? (u64)(long)AT_FDCWD : fd_arg();
    case 'p': return pointer_arg();
    case 'n': return count_arg();
    case 'i': switch (below(5)) {
        case 0: return small_int();
        case 1: return next64() & 0xffffffff;
        case 2: return 1ULL << below(32);
        case 3: return pick(huge_values, N(huge_values));
        default: return below(16);
        }
    case 'o': return offset_arg();
    case 's': return path_arg(0);
    case 'S': return path_arg(1);
    case 't': return timeout_pointer(index);
    case 'T': return below(2);
    case 'P': return pid_arg(0);
    case 'Q': return pid_arg(1);
    case 'k': return signal_arg();
    case 'c': { static const u64 c[] = { 0, 1, 100, 4096, 65536, 1 << 20 }; return pick(c, N(c)); }
    case 'q': return below(3) ? pick(ioctl_requests, N(ioctl_requests)) : generic();
    case 'z': { static const u64 d[] = { 1, 1, 2, 2, 10, 38, 40 };
        return below(8) ? pick(d, N(d)) : pick(huge_values, N(huge_values)); }
    case 'y': { static const u64 t[] = { 1, 2, 5 };
        return pick(t, N(t)) | (below(2) ? SOCK_NONBLOCK : 0) | (below(2) ? SOCK_CLOEXEC : 0); }
    case 'M': { u64 m = below(6) ? below(30) : generic();
        return (m == 100 || m == 101) ? 4 : m; } /* no MADV_HWPOISON, MADV_SOFT_OFFLINE */
    case 'r': { static const u64 r[] = { 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 1ULL << 40,
                                         0xffffffffULL };
        return pick(r, N(r)); } /* not RLIMIT_CPU, RLIMIT_STACK, RLIMIT_RTTIME */
    case 'g': if (below(4) == 0) return pick(bad_pointers, N(bad_pointers));
        scr = (long *)(scratch + 512);
        for (int i = 0; i < 16; i++) scr[i] = (long)generic();
        ((int *)scr)[2] = below(2) ? -1 : -6; /* si_code SI_QUEUE / SI_TKILL: never a "fault" */
        return (u64)scr;
    case 'I': if (below(4) == 0) return below(2) ? 0 : pick(bad_pointers, N(bad_pointers));
        scr = (long *)(scratch + 1024); /* itimerval/itimerspec: one shot, <= 20 ms */
        scr[0] = 0; scr[1] = 0; scr[2] = 0; scr[3] = below(20000) * (below(2) ? 1 : 1000);
        return (u64)scr;
    case 'E': if (below(3) == 0) return below(2) ? 0 : pick(bad_pointers, N(bad_pointers));
        scr = (long *)(scratch + 1536); /* sigevent: value, signo, notify, tid */
        memset(scr, 0, 64);
        { u64 s = signal_arg(); if (is_fault_signal(s)) s = SIGUSR1;
          ((int *)scr)[2] = (int)s; ((int *)scr)[3] = below(3) == 2 ? 4 : below(2);
          ((int *)scr)[4] = (int)self_pid; }
        return (u64)scr;
    case 'O': if (below(4) == 0) return pick(bad_pointers, N(bad_pointers));
        scr = (long *)(scratch + 2048); /* open_how: flags, mode, resolve */
        scr[0] = (long)((next64() & 0x3fffff) | O_NONBLOCK); scr[1] = below(2) ? 0644 : (long)generic();
        scr[2] = below(2) ? 0 : (long)below(32);
        return (u64)scr;
    case 'b': { static const u64 b[] = { 0, 0xffffffffffffffffULL, 0x7f8000000000ULL, 0x800000000000ULL,
                                         1ULL << 62 };
        return below(2) ? pick(b, N(b)) : initial_brk + PAGE * below(16); }
    case 'a': case 'A': { u64 a, l; memory_range(&a, &l, type == 'A'); args[index + 1] = l; return a; }
    case 'l': return args[index]; /* set with the 'a' before it */
    default: (void)args; return generic();
    }
}

/* Fix-ups that need more than one argument, and the few data-dependent skips.
 * Returns 0 to skip the call. */
static int avoid_known; /* the 4th argument "avoid-known" */

/* Issue 12's known kernel panics (being fixed elsewhere): a kernel buffer sized by a guest's
 * count, and file growth to huge sizes. With "avoid-known" counts stay within the arena and
 * file offsets and sizes below 16 MiB, the readv/writev family is left out, so that a run goes on to find what is not known yet. */
static int avoid_known_issues(long nr, u64 *a)
{
    const u64 most = ARENA_SIZE, far = 1 << 24;
    switch (nr) {
    case 19: case 20: case 295: case 296: case 327: case 328:
        return 0; /* readv/writev family: a kernel buffer sized by the iovecs' total */
    case 0: case 1: case 17: case 18: case 44: case 45: case 89: case 217: case 78: case 79:
    case 318: case 267:
        { int k = (nr == 267) ? 3 : 2; if (a[k] > most) a[k] = most; }
        if ((nr == 17 || nr == 18) && a[3] > far) a[3] = far;
        break;
    case 8: case 77: case 76: if (a[1] > far) a[1] = far; break;            /* lseek, (f)truncate */
    case 285: if (a[2] > far) a[2] = far; if (a[3] > far) a[3] = far; break; /* fallocate */
    }
    return 1;
}

static int sanitize(long nr, u64 *a)
{
    if (avoid_known && !avoid_known_issues(nr, a)) return 0;
    switch (nr) {
    case 2: a[1] |= O_NONBLOCK; break;                        /* open */
    case 257: a[2] |= O_NONBLOCK; break;                      /* openat */
    case 9:                                                    /* mmap: MAP_POPULATE only small */
        if ((a[3] & MAP_POPULATE) && a[1] > ARENA_SIZE) a[3] &= ~(u64)MAP_POPULATE;
        a[3] &= ~(u64)MAP_GROWSDOWN;
        break;
    case 25:                                                   /* mremap: new range inside too */
        {   /* new_len keeps both the grown-in-place and the MREMAP_FIXED range inside */
            u64 addr, len; memory_range(&addr, &len, 1); a[4] = addr;
            u64 end = (u64)arena + ARENA_SIZE, in = a[0] >= (u64)arena && a[0] < end;
            u64 room = in ? end - a[0] : 16 * PAGE;
            a[2] = below(3) ? (below(2) ? a[1] : PAGE * (1 + below(4))) : len;
            if (a[2] > room && a[2] < (1ULL << 47)) a[2] = room;
            if (a[2] > len && a[2] < (1ULL << 47) && (a[3] & 2 /* MREMAP_FIXED */)) a[2] = len;
        }
        break;
    case 72: {                                                 /* fcntl */
        static const u64 cmds[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 36, 37, 38, 1025,
                                    1026, 1030, 1031, 1032, 1033, 1034, 1035, 1036, 1037, 1038 };
        if (below(6)) a[1] = pick(cmds, N(cmds));
        if (a[1] == 7) a[1] = 6;                               /* F_SETLKW: F_SETLK */
        if (a[1] == 38) a[1] = 37;                             /* F_OFD_SETLKW: F_OFD_SETLK */
        if (a[1] == 1024) a[1] = 1025;                         /* F_SETLEASE: a break waits 45 s */
        if (a[1] == 15) a[1] = 16;                             /* F_SETOWN_EX: F_GETOWN_EX */
        if (a[1] == 8) a[2] = pid_arg(1);                      /* F_SETOWN: only itself */
        if (a[1] == 10 && (a[2] == SIGKILL || a[2] == SIGSTOP || is_fault_signal(a[2]))) a[2] = 0;
        break;
    }
    case 73: a[1] |= LOCK_NB; break;                           /* flock */
    case 133: case 259: {                                      /* mknod(at): no device nodes */
        u64 *mode = nr == 133 ? &a[1] : &a[2];
        u64 kind = *mode & S_IFMT;
        if (kind == S_IFCHR || kind == S_IFBLK) { if (nr == 133) a[2] = 0; else a[3] = 0; }
        break;
    }
    /* setpriority and ioprio_set on itself only, and at the default priority: nice 19 on a
     * busy host makes a native run crawl, and -20 would take the CPU from others. */
    case 141: a[0] = 0; a[2] = 0; break;                       /* PRIO_PROCESS, nice 0 */
    case 251: a[0] = 1; a[2] = 0; break;                       /* IOPRIO_WHO_PROCESS, class none */
    case 151: a[0] &= ~(u64)MCL_FUTURE; break;                 /* mlockall: no future populate */
    case 157:                                                  /* prctl */
        if (a[0] == 22 || a[0] == 26 || a[0] == 35 || a[0] == 59 || (a[0] >= 74 && a[0] <= 76))
            return 0;                                          /* seccomp, TSC, MM, SUD, shstk */
        if (a[0] == 1 && (a[1] == SIGKILL || a[1] == SIGSTOP)) a[1] = 0;
        if (a[0] == 29 && a[1] > 1000000) a[1] = 1000000; /* PR_SET_TIMERSLACK: 1 ms sleeps stay short */
        break;
    case 158: {                                                /* arch_prctl */
        static const u64 codes[] = { 0x1001, 0x1003, 0x1004, 0x1011, 0x1012, 0x1021, 0x1022,
                                     0x1023, 0x2001, 0x2002, 0x2003, 0x4001, 0x4002, 0x4003 };
        if (below(4)) a[0] = pick(codes, N(codes));
        if (a[0] == 0x1002 || (a[0] >= 0x5001 && a[0] <= 0x5005)) return 0; /* its TLS, shstk */
        break;
    }
    case 285:                                                  /* fallocate: host disks */
        if (a[3] > (64u << 20) && a[3] < (1ULL << 62)) a[3] = 64u << 20;
        break;
    case 436:                                                  /* close_range: not its stdio */
        if ((unsigned)a[0] <= ERR_FD && (unsigned)a[1] >= OUT_FD && !(a[2] & 4)) return 0;
        break;
    case 424: if (a[1] == SIGKILL || a[1] == SIGSTOP) a[1] = 0; break;
    case 162: case 306: if (!under_egg) return 0; break;       /* sync, syncfs: a busy host's
                                                                  disks make each take seconds */
    }
    return 1;
}

/* A few calls write the fuzzer's own addresses (its TLS, its stack through the auxv) into the
 * arena; a later readv or recvmsg taking that word as iov_base would write into the fuzzer
 * itself. Such a word is zeroed right after the call (the call succeeded, so it is writable). */
static void scrub_leaked_pointers(long nr, const u64 *a, long r)
{
    u64 at = 0, bytes = 8;
    if (nr == 158 && (a[0] == 0x1003 || a[0] == 0x1004)) at = a[1];        /* ARCH_GET_FS/GS */
    if (nr == 157 && a[0] == 40) at = a[1];                                  /* PR_GET_TID_ADDRESS */
    if (nr == 157 && a[0] == 0x41555856) { at = a[1]; bytes = a[2] < (u64)r ? a[2] : (u64)r; } /* PR_GET_AUXV */
    if (nr == 274) at = a[1];                                                /* get_robust_list */
    if (at >= (u64)arena && at < (u64)arena + ARENA_SIZE) {
        if (bytes > (u64)arena + ARENA_SIZE - at) bytes = (u64)arena + ARENA_SIZE - at;
        memset((void *)at, 0, bytes);
    }
}

static long call_with_trace(long nr, const u64 *a, u64 index, int trace)
{
    if (trace) {
        char line[256];
        int n = snprintf(line, sizeof line, "%llu: %ld(0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx)\n",
                         (unsigned long long)index, nr, (unsigned long long)a[0], (unsigned long long)a[1],
                         (unsigned long long)a[2], (unsigned long long)a[3], (unsigned long long)a[4],
                         (unsigned long long)a[5]);
        raw_n(SYS_write, ERR_FD, (u64)line, (u64)n);
    }
    return raw6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- signals: every catchable one is caught ---- */

static volatile long signals_seen;
static volatile u64 current_call;

static void on_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    signals_seen++;
    /* A fault signal with si_code > 0 is a real fault (the fuzzer never queues such a code):
     * back to the default action so that returning re-faults and ends the run as a crash. */
    if (is_fault_signal((u64)sig) && info && info->si_code > 0) {
        say(ERR_FD, "syscall_fuzz: fault: signal %d code %d address %p after call %llu\n", sig,
            info->si_code, info->si_addr, (unsigned long long)current_call);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, 0);
    }
}

/* The kernel needs a restorer; glibc's and musl's sigaction() add their own, but signals 32
 * and 33 are reserved by the C libraries, so the fuzzer installs everything itself. */
__attribute__((naked)) static void restore_rt(void)
{
    __asm__ volatile("mov $15, %eax\n\tsyscall\n\thlt");
}

static void install_handlers(void)
{
    struct { u64 handler, flags, restorer, mask; } act = {
        (u64)on_signal, SA_SIGINFO | SA_RESTART | 0x04000000 /* SA_RESTORER */, (u64)restore_rt, 0,
    };
    for (int s = 1; s <= 64; s++)
        if (s != SIGKILL && s != SIGSTOP) raw6(SYS_rt_sigaction, s, (u64)&act, 0, 8, 0, 0);
    u64 none = 0;
    raw6(SYS_rt_sigprocmask, SIG_SETMASK, (u64)&none, 0, 8, 0, 0);
}

/* ---- state set up at the start and again every EPOCH calls ---- */

#define EPOCH 1024

static void fill_arena(void)
{
    u64 *w = (u64 *)arena;
    for (u64 i = 0; i < ARENA_SIZE / 8; i++) {
        u64 v;
        switch (below(10)) {
        case 0: case 1: case 2: v = small_int(); break;
        case 3: case 4: v = arena_pointer(); break;
        case 5: v = pick(huge_values, N(huge_values)); break;
        case 6: v = pick(bad_pointers, N(bad_pointers)); break;
        default: v = next64();
        }
        /* No '/' bytes: nothing read from the arena can name an absolute path. */
        for (int b = 0; b < 64; b += 8)
            if (((v >> b) & 0xff) == '/') v ^= 1ULL << b;
        w[i] = v;
    }
}

static void open_pool(void)
{
    /* Descriptors 0-2 are one file of its own (never the host's terminal: O_NONBLOCK on a
     * shared terminal would reach the shell too). */
    int io = (int)raw6(SYS_openat, (u64)AT_FDCWD, (u64)"stdio", O_RDWR | O_CREAT | O_TRUNC, 0600, 0, 0);
    for (int fd = 0; fd < 3; fd++) if (io != fd) raw_n(SYS_dup2, (u64)io, (u64)fd, 0);
    if (io > 2) raw_n(SYS_close, (u64)io, 0, 0);
    npool = 0;
    pool[npool++] = 0; pool[npool++] = 1; pool[npool++] = 2;
    int fd = (int)raw6(SYS_openat, (u64)AT_FDCWD, (u64)"f0", O_RDWR | O_CREAT, 0644, 0, 0);
    pool[npool++] = fd;
    raw_n(SYS_mkdir, (u64)"d0", 0755, 0);
    pool[npool++] = (int)raw6(SYS_openat, (u64)AT_FDCWD, (u64)".", O_RDONLY | O_DIRECTORY, 0, 0, 0);
    pool[npool++] = (int)raw6(SYS_openat, (u64)AT_FDCWD, (u64)"d0", O_PATH, 0, 0, 0);
    int p[2] = { -1, -1 };
    raw_n(SYS_pipe2, (u64)p, O_NONBLOCK, 0);
    pool[npool++] = p[0]; pool[npool++] = p[1];
    int sp[2] = { -1, -1 };
    raw6(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, (u64)sp, 0, 0);
    pool[npool++] = sp[0]; pool[npool++] = sp[1];
    raw6(SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, (u64)sp, 0, 0);
    pool[npool++] = sp[0]; pool[npool++] = sp[1];
    pool[npool++] = (int)raw_n(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int tcp = (int)raw_n(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    pool[npool++] = tcp;
    {   /* a listening TCP socket on loopback, any port */
        struct { unsigned short family, port; unsigned addr; char zero[8]; } sin = { AF_INET, 0, 0x0100007f, {0} };
        int l = (int)raw_n(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        raw_n(SYS_bind, (u64)l, (u64)&sin, sizeof sin);
        raw_n(SYS_listen, (u64)l, 4, 0);
        pool[npool++] = l;
    }
    pool[npool++] = (int)raw_n(SYS_eventfd2, 0, O_NONBLOCK /* EFD_NONBLOCK */, 0);
    pool[npool++] = (int)raw_n(SYS_epoll_create1, 0, 0, 0);
    pool[npool++] = (int)raw_n(SYS_timerfd_create, 1 /* CLOCK_MONOTONIC */, O_NONBLOCK, 0);
    u64 usr2 = 1ULL << (SIGUSR2 - 1);
    pool[npool++] = (int)raw6(SYS_signalfd4, (u64)-1, (u64)&usr2, 8, O_NONBLOCK, 0, 0);
    pool[npool++] = (int)raw_n(SYS_inotify_init1, O_NONBLOCK, 0, 0);
    pool[npool++] = (int)raw_n(SYS_memfd_create, (u64)"fuzz", 0, 0);
    for (int i = 0; i < npool; i++)
        if (pool[i] < 0) pool[i] = -1 - i; /* a failed open stays a (bad) descriptor value */
}

static void new_epoch(void)
{
    /* Fresh descriptors (the same numbers every epoch), emptied files, a fresh arena, the
     * signal mask cleared: an epoch starts from the same state whatever came before. */
    if (raw_n(SYS_close_range, 0, OUT_FD - 1, 0) < 0) /* without close_range: where random */
        for (int fd = 0; fd < 128; fd++) raw_n(SYS_close, (u64)fd, 0, 0); /* calls put fds */
    if (raw_n(SYS_close_range, ERR_FD + 1, ~0U, 0) < 0)
        for (int fd = 1020; fd < 1024; fd++) raw_n(SYS_close, (u64)fd, 0, 0);
    for (unsigned i = 0; i < NREL; i++) raw_n(SYS_truncate, rel_ptr[i], 0, 0);
    long r = raw6(SYS_mmap, (u64)arena, ARENA_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (u64)-1, 0);
    if (r == (long)arena) fill_arena();
    else for (u64 i = 0; i < ARENA_SIZE / 8; i++) (void)next64(); /* the sequence goes on alike */
    open_pool();
    install_handlers();
}

static void setup_memory(void)
{
    char *region = mmap(0, ARENA_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *p = mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    scratch = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || p == MAP_FAILED || scratch == MAP_FAILED) {
        say(ERR_FD, "FAIL syscall_fuzz: setting up its memory\n");
        _exit(1);
    }
    arena = region + PAGE;
    paths = p;
    char *w = p;
    for (unsigned i = 0; i < NREL; i++) { rel_ptr[i] = (u64)w; strcpy(w, relative_names[i]); w += strlen(w) + 1; }
    for (unsigned i = 0; i < NABS; i++) { abs_ptr[i] = (u64)w; strcpy(w, readonly_absolute[i]); w += strlen(w) + 1; }
    rel_ptr[NREL] = (u64)w; memset(w, 'a', 255); w[255] = 0; w += 256;
    rel_ptr[NREL + 1] = (u64)w; /* 4100 bytes: past PATH_MAX, so ENAMETOOLONG */
    for (int i = 0; i < 4100; i++) w[i] = (i % 3 == 2) ? 'b' : 'c';
    w[4100] = 0;
    char *end = p + 3 * PAGE;       /* unterminated: the string runs into the guard page */
    memset(end - 16, 'e', 16);
    rel_ptr[NREL + 2] = (u64)(end - 16);
    mprotect(p, 3 * PAGE, PROT_READ);
    mprotect(end, PAGE, PROT_NONE);
}

int main(int argc, char **argv)
{
    u64 seed = argc > 1 ? strtoull(argv[1], 0, 0) : 1;
    u64 calls = argc > 2 ? strtoull(argv[2], 0, 0) : 10000;
    u64 trace_from = argc > 3 ? strtoull(argv[3], 0, 0) : ~0ULL;
    avoid_known = argc > 4 && strcmp(argv[4], "avoid-known") == 0;

    /* Save stdout/stderr out of reach, drop everything else inherited. */
    dup2(1, OUT_FD);
    dup2(2, ERR_FD);
    self_pid = getpid();
    struct utsname host;
    under_egg = uname(&host) == 0 && strcmp(host.nodename, "egg") == 0; /* egg's hostname */
    initial_brk = (u64)raw_n(SYS_brk, 0, 0, 0);

    /* Its own directory, relative to the working directory (egg: the in-memory root;
     * natively: a throwaway directory the caller chose). */
    char dir[64];
    snprintf(dir, sizeof dir, "fuzz-%llu.%ld", (unsigned long long)seed, self_pid);
    if (mkdir(dir, 0755) != 0 || chdir(dir) != 0) {
        say(ERR_FD, "FAIL syscall_fuzz: cannot make its directory %s: %s\n", dir, strerror(errno));
        return 1;
    }
    rng = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
    if (rng == 0) rng = 1;
    define_specs();
    setup_memory();

    u64 skipped = 0;
    for (u64 i = 0; i < calls; i++) {
        if (i % EPOCH == 0) new_epoch();
        if (i % 10000 == 0 && i > 0)
            say(ERR_FD, "syscall_fuzz seed=%llu call=%llu skipped=%llu signals=%ld\n",
                    (unsigned long long)seed, (unsigned long long)i, (unsigned long long)skipped, signals_seen);
        long nr = (long)below(512);
        const struct spec *s = &specs[nr];
        u64 a[6];
        for (int k = 0; k < 6; k++) a[k] = 0;
        const char *sig = s->args ? s->args : "xxxxxx";
        for (int k = 0; sig[k] && k < 6; k++) a[k] = gen(sig[k], a, k);
        if ((s->flags & SKIP) || !sanitize(nr, a)) { skipped++; continue; }
        if (s->flags & NONBLOCK) {
            for (int k = 0; sig[k] && k < 6; k++) {
                if (sig[k] != 'f' || (long)a[k] < 0 || a[k] >= 1024) continue;
                long fl = raw_n(SYS_fcntl, a[k], F_GETFL, 0);
                if (fl >= 0 && !(fl & O_NONBLOCK)) raw_n(SYS_fcntl, a[k], F_SETFL, (u64)fl | O_NONBLOCK);
            }
        }
        current_call = i;
        /* A random rt_sigaction installs a random handler until install_handlers() puts the
         * fuzzer's back: no signal may arrive in between. */
        u64 all = ~0ULL, before = 0;
        if (nr == 13) raw6(SYS_rt_sigprocmask, SIG_BLOCK, (u64)&all, (u64)&before, 8, 0, 0);
        long r = call_with_trace(nr, a, i, i >= trace_from);
        if (nr == 13) {
            install_handlers();
            raw6(SYS_rt_sigprocmask, SIG_SETMASK, (u64)&before, 0, 8, 0, 0);
        }
        if (current_call != i) { /* a call wrote into the fuzzer's own data: stop and say so */
            say(ERR_FD, "FAIL syscall_fuzz seed=%llu: call %llu (nr %ld) wrote into the fuzzer's data\n",
                (unsigned long long)seed, (unsigned long long)i, nr);
            return 1;
        }
        if (r >= 0) scrub_leaked_pointers(nr, a, r);
        /* Clean-ups that keep the address space bounded (no RNG, so the sequence is the
         * same whatever the results): a mapping placed outside the arena goes again. */
        int outside = r >= 0 && ((u64)r < (u64)arena || (u64)r >= (u64)arena + ARENA_SIZE) && (r & (PAGE - 1)) == 0;
        if ((nr == 9 || nr == 453) && outside) raw_n(SYS_munmap, (u64)r, a[1], 0);
        if (nr == 25 && outside) raw_n(SYS_munmap, (u64)r, a[2], 0);
    }
    char line[128];
    int n = snprintf(line, sizeof line, "\nPASS syscall_fuzz seed=%llu calls=%llu\n",
                     (unsigned long long)seed, (unsigned long long)calls);
    raw_n(SYS_write, OUT_FD, (u64)line, (u64)n);
    say(ERR_FD, "syscall_fuzz seed=%llu done: calls=%llu skipped=%llu signals=%ld\n",
            (unsigned long long)seed, (unsigned long long)calls, (unsigned long long)skipped, signals_seen);
    return 0;
}
