/*
 * prctl_rlimit_test.c — process controls (issue 15 item 7): prctl options, personality,
 * resource limits where Linux enforces them, getrusage and times.
 *
 * Layer: guest test program (runs natively on Linux and under egg; Tests/integration/run.sh).
 * Follows prctl(2), getrlimit(2), getrusage(2), times(2) and kernel/sys.c: values set are
 * read back, bad arguments give EINVAL, RLIMIT_NOFILE gives EMFILE, RLIMIT_FSIZE cuts a
 * write short at the limit and then gives EFBIG with SIGXFSZ, CPU time spent shows up.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>

const char *const test_name = "prctl_rlimit_test";

static volatile sig_atomic_t xfsz_seen;
static void on_xfsz(int s) { (void)s; xfsz_seen++; }

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void)
{
    char name[32], comm[64];

    /* PR_SET_NAME keeps 15 bytes; PR_GET_NAME and /proc/self/comm show them. */
    if (prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz", 0, 0, 0) != 0)
        fail("PR_SET_NAME: %s", strerror(errno));
    memset(name, 'x', sizeof name);
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0 || strcmp(name, "abcdefghijklmno") != 0)
        fail("PR_GET_NAME '%s'", name);
    int fd = open("/proc/self/comm", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, comm, sizeof comm - 1) : -1;
    if (n != 16 || memcmp(comm, "abcdefghijklmno\n", 16) != 0)
        fail("/proc/self/comm after PR_SET_NAME (%zd bytes)", n);
    close(fd);

    /* PDEATHSIG: set, read back; an invalid signal is EINVAL. */
    int sig = -1;
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) != 0 || prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) != 0 || sig != SIGUSR1)
        fail("PDEATHSIG round trip gave %d", sig);
    errno = 0;
    if (prctl(PR_SET_PDEATHSIG, 1000, 0, 0, 0) != -1 || errno != EINVAL)
        fail("PR_SET_PDEATHSIG 1000: %s", strerror(errno));
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);

    /* DUMPABLE: 0 and 1 accepted, 2 refused. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        fail("PR_SET_DUMPABLE 0 not read back");
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
        fail("PR_SET_DUMPABLE 1 not read back");
    errno = 0;
    if (prctl(PR_SET_DUMPABLE, 2, 0, 0, 0) != -1 || errno != EINVAL)
        fail("PR_SET_DUMPABLE 2: %s", strerror(errno));

    /* TIMERSLACK, CHILD_SUBREAPER, THP_DISABLE, NO_NEW_PRIVS. */
    if (prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0) != 0 || prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != 123456)
        fail("PR_SET_TIMERSLACK not read back");
    int reaper = 0;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 || prctl(PR_GET_CHILD_SUBREAPER, &reaper, 0, 0, 0) != 0 || reaper != 1)
        fail("PR_SET_CHILD_SUBREAPER not read back (%d)", reaper);
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0 || prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
        fail("PR_SET_THP_DISABLE not read back");
    errno = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0) != -1 || errno != EINVAL)
        fail("PR_SET_NO_NEW_PRIVS with arg3 set: %s", strerror(errno));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        fail("PR_SET_NO_NEW_PRIVS not read back");

    /* Capability queries: a valid capability reads 0 or 1, a too-large one is EINVAL. */
    int r = prctl(PR_CAPBSET_READ, 0, 0, 0, 0);
    if (r != 0 && r != 1)
        fail("PR_CAPBSET_READ 0 = %d (%s)", r, strerror(errno));
    errno = 0;
    if (prctl(PR_CAPBSET_READ, 1000, 0, 0, 0) != -1 || errno != EINVAL)
        fail("PR_CAPBSET_READ 1000: %s", strerror(errno));
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0) != 0)
        fail("an ambient capability is set at start");
    errno = 0;
    if (prctl(PR_CAP_AMBIENT, 99, 0, 0, 0) != -1 || errno != EINVAL)
        fail("PR_CAP_AMBIENT 99: %s", strerror(errno));

    /* Unknown option. */
    errno = 0;
    if (prctl(0x7fff1234, 0, 0, 0, 0) != -1 || errno != EINVAL)
        fail("unknown prctl option: %s", strerror(errno));

    /* personality: query, set PER_LINUX, query again. */
    int persona = personality(0xffffffff);
    if (persona < 0 || personality(PER_LINUX) != persona || personality(0xffffffff) != PER_LINUX)
        fail("personality round trip (%d)", persona);

    /* RLIMIT_NOFILE 16: the 17th descriptor is EMFILE. */
    struct rlimit old_nofile, lim;
    if (getrlimit(RLIMIT_NOFILE, &old_nofile) != 0)
        fail("getrlimit NOFILE: %s", strerror(errno));
    lim.rlim_cur = 16;
    lim.rlim_max = old_nofile.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail("setrlimit NOFILE 16: %s", strerror(errno));
    int opened[32], count = 0, last = -1;
    for (;;) {
        int d = open("/dev/null", O_RDONLY);
        if (d < 0) {
            if (errno != EMFILE)
                fail("open past RLIMIT_NOFILE: %s, want EMFILE", strerror(errno));
            break;
        }
        if (count == 32)
            fail("RLIMIT_NOFILE 16 not enforced");
        opened[count++] = d;
        last = d;
    }
    if (last != 15)
        fail("highest descriptor under RLIMIT_NOFILE 16 is %d", last);
    for (int i = 0; i < count; i++)
        close(opened[i]);
    if (setrlimit(RLIMIT_NOFILE, &old_nofile) != 0)
        fail("restoring RLIMIT_NOFILE: %s", strerror(errno));

    /* soft > hard is EINVAL; lowering is allowed; prlimit reports the old value. */
    lim.rlim_cur = 100;
    lim.rlim_max = 50;
    errno = 0;
    if (setrlimit(RLIMIT_CORE, &lim) != -1 || errno != EINVAL)
        fail("setrlimit soft > hard: %s", strerror(errno));
    struct rlimit core, previous;
    if (getrlimit(RLIMIT_CORE, &core) != 0)
        fail("getrlimit CORE: %s", strerror(errno));
    rlim_t hard = core.rlim_max;
    core.rlim_cur = 0;
    if (prlimit(0, RLIMIT_CORE, &core, NULL) != 0)
        fail("prlimit CORE: %s", strerror(errno));
    struct rlimit core2 = { 0, hard > 2048 ? 2048 : hard };
    if (prlimit(0, RLIMIT_CORE, &core2, &previous) != 0 || previous.rlim_max != hard || previous.rlim_cur != 0)
        fail("prlimit did not report the previous limit");
    errno = 0;
    if (getrlimit(99, &lim) != -1 || errno != EINVAL)
        fail("getrlimit 99: %s", strerror(errno));

    /* RLIMIT_FSIZE 1000: a 2000-byte write stops at 1000, the next is EFBIG + SIGXFSZ. */
    signal(SIGXFSZ, on_xfsz);
    char path[] = "/tmp/prctl_rlimit.XXXXXX";
    int f = mkstemp(path);
    if (f < 0)
        fail("mkstemp: %s", strerror(errno));
    unlink(path);
    struct rlimit fsize = { 1000, RLIM_INFINITY };
    if (setrlimit(RLIMIT_FSIZE, &fsize) != 0)
        fail("setrlimit FSIZE: %s", strerror(errno));
    static char block[2000];
    n = write(f, block, sizeof block);
    if (n != 1000)
        fail("write across RLIMIT_FSIZE wrote %zd, want 1000", n);
    errno = 0;
    n = write(f, block, 10);
    if (n != -1 || errno != EFBIG || xfsz_seen != 1)
        fail("write at RLIMIT_FSIZE: %zd, %s, %d SIGXFSZ", n, strerror(errno), (int)xfsz_seen);
    errno = 0;
    if (ftruncate(f, 5000) != -1 || errno != EFBIG)
        fail("ftruncate past RLIMIT_FSIZE: %s", strerror(errno));
    close(f);
    fsize.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &fsize);

    /* CPU time: spin until getrusage reports 100 ms more CPU (at most 30 s of wall time,
     * so a loaded machine only slows the test); times() sees the same time. */
    struct tms t0, t1;
    struct rusage self, thread;
    times(&t0);
    if (getrusage(RUSAGE_SELF, &self) != 0)
        fail("getrusage: %s", strerror(errno));
    long long base_us = (self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000LL + self.ru_utime.tv_usec + self.ru_stime.tv_usec;
    long long start = now_ns(), used_us = 0;
    volatile uint64_t x = 1;
    while (used_us < 100000) {
        if (now_ns() - start > 30000000000LL)
            fail("getrusage counts %lld us of CPU after 30 s of spinning", used_us);
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1;
        if (getrusage(RUSAGE_SELF, &self) != 0)
            fail("getrusage: %s", strerror(errno));
        used_us = (self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000LL + self.ru_utime.tv_usec + self.ru_stime.tv_usec - base_us;
    }
    times(&t1);
    if (getrusage(RUSAGE_THREAD, &thread) != 0 || thread.ru_utime.tv_sec + thread.ru_stime.tv_sec + thread.ru_utime.tv_usec + thread.ru_stime.tv_usec == 0)
        fail("RUSAGE_THREAD reports no CPU time");
    long ticks = (long)((t1.tms_utime + t1.tms_stime) - (t0.tms_utime + t0.tms_stime));
    if (ticks * 1000000LL / sysconf(_SC_CLK_TCK) < 60000)
        fail("times counts %ld ticks for 100 ms of CPU", ticks);
    errno = 0;
    if (getrusage(5, &self) != -1 || errno != EINVAL)
        fail("getrusage 5: %s", strerror(errno));
    return pass(NULL);
}
