/*
 * proc_test.c — /proc and /sys as programs read them (issue 14 item 4).
 *
 * Layer: guest test program (runs natively on Linux and under egg; Tests/integration/run.sh).
 * Checks structure and self-consistency against what the process itself knows, never
 * egg-specific text: /proc/self/stat's pid is getpid(), fd/N names the file opened there,
 * a pipe's link carries fstat's inode, fdinfo's pos follows lseek, cmdline is argv,
 * auxv agrees with getauxval, /proc/TID/stat exists for a second thread (libdispatch reads
 * it), thread-self names the thread, task/ lists both threads, each /proc mount has its
 * own st_dev, statfs("/proc") is PROC_SUPER_MAGIC, /proc/sys values agree with uname.
 * Formats: proc(5), Documentation/filesystems/proc.rst.
 */
#define _GNU_SOURCE
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

const char *const test_name = "proc_test";

/* The whole of a small file (a /proc file reports size 0: read until EOF). */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("open %s: %s", path, strerror(errno));
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0)
            fail("read %s: %s", path, strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap - 1)
            break;
    }
    buf[n] = 0;
    close(fd);
    return n;
}

static void readlink_or_fail(const char *path, char *out, size_t cap)
{
    ssize_t n = readlink(path, out, cap - 1);
    if (n < 0)
        fail("readlink %s: %s", path, strerror(errno));
    out[n] = 0;
}

/* Field `index` (1-based) of a stat line: the comm is in parentheses and may hold spaces. */
static long long stat_field(const char *line, int index, char *comm, size_t comm_cap)
{
    const char *open_paren = strchr(line, '(');
    const char *close_paren = strrchr(line, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        fail("stat line without (comm): %s", line);
    if (comm) {
        size_t len = (size_t)(close_paren - open_paren - 1);
        if (len >= comm_cap)
            len = comm_cap - 1;
        memcpy(comm, open_paren + 1, len);
        comm[len] = 0;
    }
    if (index == 1)
        return atoll(line);
    const char *p = close_paren + 2;   /* field 3 starts here */
    for (int f = 3; f < index; f++) {
        p = strchr(p, ' ');
        if (!p)
            fail("stat line has fewer than %d fields", index);
        p++;
    }
    if (index == 3)
        return *p;
    return atoll(p);
}

static int count_fields(const char *line)
{
    const char *p = strrchr(line, ')');
    int n = 2;
    for (; p && *p && *p != '\n'; p++)
        if (*p == ' ')
            n++;
    return n;
}

static int dir_has(const char *path, const char *name)
{
    DIR *d = opendir(path);
    if (!d)
        fail("opendir %s: %s", path, strerror(errno));
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, name) == 0)
            found = 1;
    closedir(d);
    return found;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pid_t worker_tid;
static int worker_done;

static void *worker(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "proc-worker", 0, 0, 0);
    pthread_mutex_lock(&lock);
    worker_tid = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&cond);
    while (!worker_done)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    static char buf[65536], comm[64], link[PATH_MAX], want[PATH_MAX], path[PATH_MAX];
    pid_t pid = getpid();

    /* stat: pid, comm (matching comm), state, ppid, 52 fields. */
    slurp("/proc/self/stat", buf, sizeof buf);
    if (stat_field(buf, 1, comm, sizeof comm) != pid)
        fail("/proc/self/stat pid %lld, getpid %d", stat_field(buf, 1, NULL, 0), pid);
    if (stat_field(buf, 3, NULL, 0) != 'R')
        fail("/proc/self/stat state is '%c' for the running reader", (char)stat_field(buf, 3, NULL, 0));
    if (stat_field(buf, 4, NULL, 0) != getppid())
        fail("/proc/self/stat ppid %lld, getppid %d", stat_field(buf, 4, NULL, 0), getppid());
    if (count_fields(buf) < 52)
        fail("/proc/self/stat has %d fields, want at least 52", count_fields(buf));
    char comm_file[64];
    slurp("/proc/self/comm", comm_file, sizeof comm_file);
    comm_file[strcspn(comm_file, "\n")] = 0;
    if (strcmp(comm, comm_file) != 0)
        fail("stat comm '%s' but comm file '%s'", comm, comm_file);

    /* comm takes a write from the process itself: 15 bytes kept, the whole count written. */
    int wfd = open("/proc/self/comm", O_WRONLY);
    if (wfd < 0 || write(wfd, "0123456789abcdefghij", 20) != 20)
        fail("writing /proc/self/comm: %s", strerror(errno));
    close(wfd);
    slurp("/proc/self/comm", buf, sizeof buf);
    if (strcmp(buf, "0123456789abcde\n") != 0)
        fail("/proc/self/comm after a write: '%s'", buf);
    slurp("/proc/self/stat", buf, sizeof buf);
    stat_field(buf, 1, comm, sizeof comm);
    if (strcmp(comm, "0123456789abcde") != 0)
        fail("stat comm after a write: '%s'", comm);

    /* status: Pid, Tgid, Name. */
    slurp("/proc/self/status", buf, sizeof buf);
    snprintf(want, sizeof want, "\nPid:\t%d\n", pid);
    if (!strstr(buf, want))
        fail("/proc/self/status lacks '%s'", "Pid:\\t<getpid>");
    snprintf(want, sizeof want, "\nTgid:\t%d\n", pid);
    if (!strstr(buf, want) || strncmp(buf, "Name:\t", 6) != 0 || !strstr(buf, "\nThreads:\t1\n"))
        fail("/proc/self/status lacks Tgid/Name/Threads: %.120s", buf);

    /* statm: seven numbers, size >= resident > 0. */
    slurp("/proc/self/statm", buf, sizeof buf);
    long size = 0, resident = 0;
    if (sscanf(buf, "%ld %ld", &size, &resident) != 2 || size <= 0 || resident <= 0 || resident > size)
        fail("/proc/self/statm: %s", buf);

    /* cmdline is argv, NUL-separated; pread and lseek agree with read. */
    size_t n = slurp("/proc/self/cmdline", buf, sizeof buf);
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        if (at >= n || strcmp(buf + at, argv[i]) != 0)
            fail("/proc/self/cmdline argument %d differs from argv", i);
        at += strlen(argv[i]) + 1;
    }
    if (at != n)
        fail("/proc/self/cmdline has %zu bytes, argv %zu", n, at);
    int cfd = open("/proc/self/cmdline", O_RDONLY);
    char two[2];
    if (cfd < 0 || pread(cfd, two, 2, 1) != 2 || memcmp(two, buf + 1, 2) != 0)
        fail("pread of /proc/self/cmdline at 1 differs from read");
    if (lseek(cfd, 0, SEEK_SET) != 0)
        fail("lseek /proc/self/cmdline: %s", strerror(errno));
    close(cfd);

    /* auxv: AT_PAGESZ and AT_ENTRY as getauxval says, then AT_NULL. */
    n = slurp("/proc/self/auxv", buf, sizeof buf);
    int saw_page = 0, saw_null = 0;
    for (size_t i = 0; i + 16 <= n; i += 16) {
        uint64_t key, value;
        memcpy(&key, buf + i, 8);
        memcpy(&value, buf + i + 8, 8);
        if (key == AT_PAGESZ && value == getauxval(AT_PAGESZ))
            saw_page = 1;
        if (key == AT_ENTRY && value != getauxval(AT_ENTRY))
            fail("auxv AT_ENTRY %#llx, getauxval %#lx", (unsigned long long)value, getauxval(AT_ENTRY));
        if (key == AT_NULL) {
            saw_null = 1;
            break;
        }
    }
    if (!saw_page || !saw_null)
        fail("/proc/self/auxv lacks AT_PAGESZ or AT_NULL (%zu bytes)", n);

    /* environ is the environment the program started with. */
    n = slurp("/proc/self/environ", buf, sizeof buf);
    if (environ[0] && (n == 0 || strcmp(buf, environ[0]) != 0))
        fail("/proc/self/environ does not start with the first environment string");

    /* fd/N of a file names its path; fdinfo/N follows lseek and shows O_CLOEXEC. */
    strcpy(path, "/tmp/proc_test.XXXXXX");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        fail("mkostemp: %s", strerror(errno));
    if (write(fd, "0123456789", 10) != 10 || lseek(fd, 5, SEEK_SET) != 5)
        fail("write/lseek on the temporary file");
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    readlink_or_fail(link, buf, sizeof buf);
    if (!realpath(path, want) || strcmp(buf, want) != 0)
        fail("readlink %s = '%s', want '%s'", link, buf, want);
    struct stat st_fd, st_link;
    if (fstat(fd, &st_fd) != 0 || stat(link, &st_link) != 0 || st_fd.st_ino != st_link.st_ino)
        fail("stat through %s is not the open file", link);
    snprintf(link, sizeof link, "/proc/self/fdinfo/%d", fd);
    slurp(link, buf, sizeof buf);
    unsigned long flags = 0;
    char *fl = strstr(buf, "flags:\t");
    if (strncmp(buf, "pos:\t5\n", 7) != 0 || !fl || sscanf(fl + 7, "%lo", &flags) != 1 || !(flags & O_CLOEXEC) || (flags & O_ACCMODE) != O_RDWR)
        fail("fdinfo: '%s'", buf);
    if (dup2(fd, 77) != 77 || !dir_has("/proc/self/fd", "77") || !dir_has("/proc/self/fd", "0"))
        fail("/proc/self/fd does not list 77 and 0");
    close(77);
    if (dir_has("/proc/self/fd", "77"))
        fail("/proc/self/fd still lists closed descriptor 77");
    unlink(path);
    close(fd);

    /* A pipe's link is pipe:[ino] with fstat's inode. */
    int p[2];
    if (pipe(p) != 0)
        fail("pipe: %s", strerror(errno));
    snprintf(link, sizeof link, "/proc/self/fd/%d", p[0]);
    readlink_or_fail(link, buf, sizeof buf);
    fstat(p[0], &st_fd);
    snprintf(want, sizeof want, "pipe:[%llu]", (unsigned long long)st_fd.st_ino);
    if (strcmp(buf, want) != 0)
        fail("readlink of a pipe: '%s', want '%s'", buf, want);
    close(p[0]);
    close(p[1]);

    /* cwd and exe. */
    if (chdir("/tmp") != 0)
        fail("chdir /tmp: %s", strerror(errno));
    readlink_or_fail("/proc/self/cwd", buf, sizeof buf);
    if (!realpath("/tmp", want) || strcmp(buf, want) != 0)
        fail("/proc/self/cwd = '%s', want '%s'", buf, want);
    readlink_or_fail("/proc/self/exe", buf, sizeof buf);
    if (buf[0] != '/')
        fail("/proc/self/exe = '%s'", buf);
    readlink_or_fail("/proc/self", buf, sizeof buf);
    if (atoi(buf) != pid)
        fail("/proc/self -> '%s'", buf);
    snprintf(want, sizeof want, "%d", pid);
    if (!dir_has("/proc", want) || !dir_has("/proc", "self"))
        fail("/proc does not list %d and self", pid);

    /* maps: exact permissions of three neighbouring pieces of one mapping. */
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + 4096, 4096, PROT_READ) != 0)
        fail("mmap/mprotect: %s", strerror(errno));
    slurp("/proc/self/maps", buf, sizeof buf);
    char line[128];
    snprintf(line, sizeof line, "%lx-%lx r--p ", (unsigned long)(m + 4096), (unsigned long)(m + 8192));
    if (!strstr(buf, line))
        fail("/proc/self/maps has no line '%s'", line);
    munmap(m, 3 * 4096);

    /* A second thread: /proc/TID/stat, task/TID, thread-self, its own comm. */
    pthread_t th;
    if (pthread_create(&th, NULL, worker, NULL) != 0)
        fail("pthread_create");
    pthread_mutex_lock(&lock);
    while (!worker_tid)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    snprintf(path, sizeof path, "/proc/%d/stat", worker_tid);
    slurp(path, buf, sizeof buf);
    if (stat_field(buf, 1, comm, sizeof comm) != worker_tid || strcmp(comm, "proc-worker") != 0)
        fail("%s: '%.80s'", path, buf);
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", worker_tid);
    slurp(path, buf, sizeof buf);
    if (strcmp(buf, "proc-worker\n") != 0)
        fail("%s = '%s'", path, buf);
    snprintf(want, sizeof want, "%d", worker_tid);
    if (!dir_has("/proc/self/task", want))
        fail("/proc/self/task does not list thread %d", worker_tid);
    snprintf(want, sizeof want, "%d", pid);
    if (!dir_has("/proc/self/task", want))
        fail("/proc/self/task does not list the main thread");
    slurp("/proc/self/status", buf, sizeof buf);
    if (!strstr(buf, "\nThreads:\t2\n"))
        fail("/proc/self/status does not count 2 threads");
    readlink_or_fail("/proc/thread-self", buf, sizeof buf);
    snprintf(want, sizeof want, "%d/task/%d", pid, pid);
    if (strcmp(buf, want) != 0)
        fail("/proc/thread-self = '%s', want '%s'", buf, want);
    pthread_mutex_lock(&lock);
    worker_done = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(th, NULL);

    /* Mounts: /proc listed; /proc, /sys, /dev and / are different devices; statfs types. */
    slurp("/proc/self/mounts", buf, sizeof buf);
    if (!strstr(buf, " /proc proc "))
        fail("/proc/self/mounts lacks /proc");
    slurp("/proc/self/mountinfo", buf, sizeof buf);
    if (!strstr(buf, " /proc ") || !strstr(buf, " - proc "))
        fail("/proc/self/mountinfo lacks /proc");
    struct stat st_root, st_proc, st_sys;
    if (stat("/", &st_root) || stat("/proc", &st_proc) || stat("/sys", &st_sys))
        fail("stat /, /proc, /sys: %s", strerror(errno));
    if (st_root.st_dev == st_proc.st_dev || st_proc.st_dev == st_sys.st_dev || st_root.st_dev == st_sys.st_dev)
        fail("/, /proc and /sys share a device");
    struct stat st_self;
    if (stat("/proc/self/stat", &st_self) || st_self.st_dev != st_proc.st_dev)
        fail("/proc/self/stat is not on /proc's device");
    struct statfs sf;
    if (statfs("/proc", &sf) != 0 || sf.f_type != 0x9fa0)
        fail("statfs /proc type %#lx", (unsigned long)sf.f_type);
    if (statfs("/sys", &sf) != 0 || sf.f_type != 0x62656572)
        fail("statfs /sys type %#lx", (unsigned long)sf.f_type);

    /* /proc/sys agrees with uname; boot_id is stable, uuid is not. */
    struct utsname u;
    uname(&u);
    slurp("/proc/sys/kernel/ostype", buf, sizeof buf);
    if (strcmp(buf, "Linux\n") != 0)
        fail("ostype '%s'", buf);
    slurp("/proc/sys/kernel/osrelease", buf, sizeof buf);
    buf[strcspn(buf, "\n")] = 0;
    if (strcmp(buf, u.release) != 0)
        fail("osrelease '%s', uname '%s'", buf, u.release);
    slurp("/proc/sys/kernel/hostname", buf, sizeof buf);
    buf[strcspn(buf, "\n")] = 0;
    if (strcmp(buf, u.nodename) != 0)
        fail("hostname '%s', uname '%s'", buf, u.nodename);
    slurp("/proc/sys/kernel/pid_max", buf, sizeof buf);
    if (atol(buf) < pid)
        fail("pid_max %s below our pid", buf);
    char id1[64], id2[64];
    slurp("/proc/sys/kernel/random/boot_id", id1, sizeof id1);
    slurp("/proc/sys/kernel/random/boot_id", id2, sizeof id2);
    if (strlen(id1) != 37 || strcmp(id1, id2) != 0)
        fail("boot_id '%s' then '%s'", id1, id2);
    slurp("/proc/sys/kernel/random/uuid", id1, sizeof id1);
    slurp("/proc/sys/kernel/random/uuid", id2, sizeof id2);
    if (strlen(id1) != 37 || strcmp(id1, id2) == 0 || id1[14] != '4')
        fail("uuid '%s' then '%s'", id1, id2);
    slurp("/proc/sys/kernel/cap_last_cap", buf, sizeof buf);
    if (atoi(buf) < 37)
        fail("cap_last_cap %s", buf);
    slurp("/proc/sys/vm/max_map_count", buf, sizeof buf);
    if (atol(buf) <= 0)
        fail("max_map_count %s", buf);

    /* loadavg, uptime, sys cpu. */
    double l1, l5, l15, up, idle;
    int running, total, last;
    slurp("/proc/loadavg", buf, sizeof buf);
    if (sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total, &last) != 6 || running < 1 || total < running)
        fail("/proc/loadavg '%s'", buf);
    slurp("/proc/uptime", buf, sizeof buf);
    if (sscanf(buf, "%lf %lf", &up, &idle) != 2 || up <= 0)
        fail("/proc/uptime '%s'", buf);
    slurp("/sys/devices/system/cpu/online", buf, sizeof buf);
    if (buf[0] != '0')
        fail("/sys/devices/system/cpu/online '%s'", buf);
    slurp("/proc/filesystems", buf, sizeof buf);
    if (!strstr(buf, "\tproc\n") || !strstr(buf, "\ttmpfs\n"))
        fail("/proc/filesystems '%s'", buf);
    slurp("/proc/stat", buf, sizeof buf);
    if (strncmp(buf, "cpu ", 4) != 0 || !strstr(buf, "\nbtime "))
        fail("/proc/stat '%.80s'", buf);
    slurp("/proc/self/limits", buf, sizeof buf);
    if (strncmp(buf, "Limit ", 6) != 0 || !strstr(buf, "\nMax open files "))
        fail("/proc/self/limits '%.80s'", buf);

    /* Nothing for a process that does not exist. */
    struct stat st_none;
    if (stat("/proc/999999999", &st_none) == 0 || errno != ENOENT)
        fail("/proc/999999999 exists");
    return pass(NULL);
}
