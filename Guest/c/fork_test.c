/*
 * fork_test.c — processes: fork and wait statuses, copy-on-write isolation both ways,
 * shared mappings and shared file offsets, a pipe between parent and child, WNOHANG,
 * SIGCHLD with its siginfo, waitid, vfork, kill of a process group, and an orphan adopted
 * by the reaper (PID 1 under egg; a child subreaper natively).
 *
 * Layer: guest test program (Guest/c, see check.h). Runs natively first, then under egg
 * (Tests/integration/run.sh). The kernel side is Sources/KernelCore/Process/.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

const char *const test_name = "fork_test";

static int global_value = 100;
static volatile sig_atomic_t chld_count;
static volatile pid_t chld_pid;
static volatile int chld_code, chld_status;

static void on_chld(int sig, siginfo_t *info, void *ctx)
{
    (void)sig; (void)ctx;
    chld_count++;
    chld_pid = info->si_pid;
    chld_code = info->si_code;
    chld_status = info->si_status;
}

static pid_t wait_status(pid_t pid, int *status)
{
    pid_t r;
    do { r = waitpid(pid, status, 0); } while (r < 0 && errno == EINTR);
    return r;
}

static void read_exact(int fd, void *buf, size_t n, const char *what)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        CHECK(r > 0, "%s: read gave %zd (%s)", what, r, strerror(errno));
        done += (size_t)r;
    }
}

int main(void)
{
    pid_t me = getpid();
    int status;

    /* No children yet: ECHILD. */
    CHECK_ERRNO(waitpid(-1, &status, WNOHANG), ECHILD);

    /* 1. fork, exit status, getppid. */
    pid_t c = fork();
    CHECK(c >= 0, "fork: %s", strerror(errno));
    if (c == 0) _exit(getppid() == me && getpid() != me ? 7 : 1);
    CHECK(wait_status(c, &status) == c, "waitpid: %s", strerror(errno));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "child status %#x, expected exit 7", status);
    CHECK_ERRNO(waitpid(c, &status, 0), ECHILD);  /* reaped: gone */

    /* 2. Copy-on-write both ways: data, heap and stack. */
    char *heap = malloc(3 * 4096);
    CHECK(heap != NULL, "malloc");
    memset(heap, 'p', 3 * 4096);
    int on_stack = 5;
    int go[2], back[2];
    CHECK(pipe(go) == 0 && pipe(back) == 0, "pipe: %s", strerror(errno));
    c = fork();
    CHECK(c >= 0, "fork: %s", strerror(errno));
    if (c == 0) {
        close(go[1]); close(back[0]);
        global_value = 200; heap[4096] = 'c'; on_stack = 6;   /* the parent must not see these */
        char b;
        read_exact(go[0], &b, 1, "child go");                  /* the parent wrote its own */
        int ok = global_value == 200 && heap[4096] == 'c' && heap[0] == 'p' && on_stack == 6;
        char r = ok ? 'y' : 'n';
        if (write(back[1], &r, 1) != 1) _exit(2);
        _exit(ok ? 0 : 3);
    }
    close(go[0]); close(back[1]);
    CHECK(global_value == 100 && heap[4096] == 'p' && on_stack == 5, "parent sees the child's writes");
    global_value = 300; heap[0] = 'q'; on_stack = 7;
    CHECK(write(go[1], "x", 1) == 1, "write go");
    char answer = 0;
    read_exact(back[0], &answer, 1, "parent back");
    CHECK(answer == 'y', "the child saw the parent's writes after fork");
    CHECK(wait_status(c, &status) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0, "cow child status %#x", status);
    CHECK(global_value == 300 && heap[0] == 'q' && heap[4096] == 'p', "parent lost its own writes");
    close(go[1]); close(back[0]);

    /* 3. A pipe between parent and child: data, then end of file when the child exits. */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    c = fork();
    if (c == 0) {
        close(p[0]);
        const char msg[] = "hello from the child";
        _exit(write(p[1], msg, sizeof msg) == (ssize_t)sizeof msg ? 0 : 1);
    }
    close(p[1]);
    char buf[64] = {0};
    read_exact(p[0], buf, 21, "pipe message");
    CHECK(strcmp(buf, "hello from the child") == 0, "pipe gave '%s'", buf);
    ssize_t eof = read(p[0], buf, sizeof buf);
    CHECK(eof == 0, "no end of file after the child exited: %zd", eof);
    close(p[0]);
    CHECK(wait_status(c, &status) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0, "pipe child status %#x", status);

    /* 4. WNOHANG while the child is blocked, then a blocking wait. */
    CHECK(pipe(p) == 0, "pipe");
    c = fork();
    if (c == 0) {
        close(p[1]);
        char b;
        _exit(read(p[0], &b, 1) == 1 ? b : 99);
    }
    close(p[0]);
    CHECK(waitpid(c, &status, WNOHANG) == 0, "WNOHANG on a running child did not give 0");
    CHECK(write(p[1], "\x2a", 1) == 1, "write");
    CHECK(wait_status(c, &status) == c && WIFEXITED(status) && WEXITSTATUS(status) == 42, "status %#x, expected 42", status);
    close(p[1]);

    /* 5. Death by signal, SIGCHLD with CLD_KILLED. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction");
    c = fork();
    if (c == 0) { kill(getpid(), SIGTERM); for (;;) pause(); }
    CHECK(wait_status(c, &status) == c, "waitpid");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status %#x, expected SIGTERM", status);
    CHECK(chld_count >= 1 && chld_pid == c && chld_code == CLD_KILLED && chld_status == SIGTERM,
          "SIGCHLD siginfo: count %d pid %d code %d status %d", (int)chld_count, (int)chld_pid, chld_code, chld_status);

    /* 6. waitid(P_PID, WEXITED) with CLD_EXITED; WNOWAIT leaves the zombie. */
    c = fork();
    if (c == 0) _exit(9);
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    int r;
    do { r = waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT); } while (r < 0 && errno == EINTR);
    CHECK(r == 0 && si.si_pid == c && si.si_signo == SIGCHLD && si.si_code == CLD_EXITED && si.si_status == 9,
          "waitid WNOWAIT: r %d pid %d signo %d code %d status %d", r, si.si_pid, si.si_signo, si.si_code, si.si_status);
    memset(&si, 0xff, sizeof si);
    CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0 && si.si_pid == c && si.si_status == 9, "waitid P_ALL");
    CHECK_ERRNO(waitid(P_PID, (id_t)c, &si, WEXITED | WNOHANG), ECHILD);

    /* 7. MAP_SHARED stays shared; an O_APPEND-free file offset is shared too. */
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap shared");
    *shared = 1;
    char path[] = "/tmp/fork_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    c = fork();
    if (c == 0) { *shared = 2; _exit(write(fd, "abc", 3) == 3 ? 0 : 1); }
    CHECK(wait_status(c, &status) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0, "shared child status %#x", status);
    CHECK(*shared == 2, "MAP_SHARED write by the child not seen: %d", *shared);
    CHECK(lseek(fd, 0, SEEK_CUR) == 3, "file offset not shared with the child");
    close(fd);
    unlink(path);

    /* 8. vfork: the parent resumes after the child's _exit; memory is shared meanwhile. */
    volatile int marker = 0;
    c = vfork();
    if (c == 0) { marker = 1; _exit(3); }
    CHECK(c > 0, "vfork: %s", strerror(errno));
    CHECK(marker == 1, "vfork child's write not seen (memory not shared)");
    CHECK(wait_status(c, &status) == c && WIFEXITED(status) && WEXITSTATUS(status) == 3, "vfork status %#x", status);

    /* 9. Process groups: a child in its own group, killed through kill(-pgid). */
    c = fork();
    if (c == 0) {
        if (setpgid(0, 0) != 0) _exit(1);
        for (;;) pause();
    }
    setpgid(c, c);  /* either side may win the race; both ask for the same */
    for (int i = 0; i < 1000 && getpgid(c) != c; i++) sched_yield();
    CHECK(getpgid(c) == c, "child's group %d, expected %d", (int)getpgid(c), (int)c);
    CHECK(getpgid(0) != c, "the parent moved into the child's group");
    CHECK(kill(-c, SIGKILL) == 0, "kill(-pgid): %s", strerror(errno));
    CHECK(wait_status(c, &status) == c && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "group kill status %#x", status);
    CHECK_ERRNO(kill(-c, 0), ESRCH);

    /* 10. An orphan is adopted by the reaper: PID 1 under egg, us natively (subreaper). */
    int reaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? (int)me : 1;
    CHECK(reaper == (int)me || me == 1, "PR_SET_CHILD_SUBREAPER failed and we are not PID 1");
    CHECK(pipe(p) == 0, "pipe");
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            pid_t parent = getppid();
            for (int i = 0; i < 100000 && parent != reaper; i++) { sched_yield(); parent = getppid(); }
            _exit(write(p[1], &parent, sizeof parent) == sizeof parent ? 0 : 1);
        }
        _exit(g > 0 ? 0 : 1);
    }
    close(p[1]);
    CHECK(wait_status(c, &status) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0, "middle child status %#x", status);
    pid_t adopted = 0;
    read_exact(p[0], &adopted, sizeof adopted, "orphan");
    close(p[0]);
    CHECK(adopted == reaper, "orphan's parent is %d, expected %d", (int)adopted, reaper);
    pid_t g = wait_status(-1, &status);
    CHECK(g > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "reaping the orphan: %d status %#x", (int)g, status);
    CHECK_ERRNO(waitpid(-1, &status, WNOHANG), ECHILD);

    return pass(NULL);
}
