/*
 * signalfd_test — signalfd/signalfd4, rt_sigtimedwait and queued signals (rt_sigqueueinfo,
 * rt_tgsigqueueinfo), checked against what Linux does (signalfd(2), sigtimedwait(2),
 * rt_sigqueueinfo(2), kernel/signal.c, fs/signalfd.c).
 *
 * Layer: guest test program (see check.h). The kernel side is
 * Sources/KernelCore/Signals/SignalFD.swift and QueuedSignals.swift. Every wait has a
 * timeout and alarm(20) ends a hang.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

const char *const test_name = "signalfd_test";

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll(&p, 1, timeout_ms);
    CHECK(n >= 0, "poll: %s", strerror(errno));
    return n == 1 && (p.revents & POLLIN);
}

static volatile sig_atomic_t usr2_handled;
static void on_usr2(int s) { (void)s; usr2_handled = 1; }

static long queueinfo(pid_t pid, int sig, int code, int value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = code;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = value;
    return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

int main(void)
{
    alarm(20);
    int rt = SIGRTMIN + 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, rt);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGKILL);  /* silently dropped from the mask, as Linux */
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask: %s", strerror(errno));

    /* Argument checks. */
    CHECK_ERRNO(syscall(SYS_signalfd4, -1, &set, 4, 0), EINVAL);
    CHECK_ERRNO(syscall(SYS_signalfd4, -1, &set, 8, 1), EINVAL);
    CHECK_ERRNO(signalfd(-2, &set, 0), EBADF);
    int pfd[2];
    CHECK(pipe(pfd) == 0, "pipe");
    CHECK_ERRNO(signalfd(pfd[0], &set, 0), EINVAL);

    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(sfd >= 0, "signalfd: %s", strerror(errno));
    CHECK(fcntl(sfd, F_GETFD) == FD_CLOEXEC, "SFD_CLOEXEC not set");
    CHECK(fcntl(sfd, F_GETFL) & O_NONBLOCK, "SFD_NONBLOCK not set");

    struct signalfd_siginfo info[3];
    CHECK_ERRNO(read(sfd, info, sizeof info), EAGAIN);
    CHECK(!readable(sfd, 0), "readable with nothing pending");

    /* kill: SI_USER with the sender's pid; a short buffer is EINVAL. */
    CHECK(kill(getpid(), SIGUSR1) == 0, "kill");
    CHECK(readable(sfd, 1000), "not readable after kill");
    CHECK_ERRNO(read(sfd, info, sizeof info[0] - 1), EINVAL);
    ssize_t n = read(sfd, info, sizeof info);
    CHECK(n == (ssize_t)sizeof info[0], "read after kill gave %zd (%s)", n, strerror(errno));
    CHECK(info[0].ssi_signo == SIGUSR1 && info[0].ssi_code == SI_USER && info[0].ssi_pid == (uint32_t)getpid(),
          "kill record: signo %u code %d pid %u", info[0].ssi_signo, info[0].ssi_code, info[0].ssi_pid);
    CHECK(!readable(sfd, 0), "still readable after the read");

    /* A real-time signal queues one instance per send, FIFO, each with its value. */
    union sigval v = { .sival_int = 7 };
    CHECK(sigqueue(getpid(), rt, v) == 0, "sigqueue: %s", strerror(errno));
    v.sival_int = 8;
    CHECK(sigqueue(getpid(), rt, v) == 0, "sigqueue 2: %s", strerror(errno));
    /* A standard signal already pending is not queued twice. */
    CHECK(sigqueue(getpid(), SIGUSR1, v) == 0, "sigqueue usr1");
    CHECK(sigqueue(getpid(), SIGUSR1, v) == 0, "sigqueue usr1 again");
    n = read(sfd, info, sizeof info);
    CHECK(n == 3 * (ssize_t)sizeof info[0], "three records expected, read gave %zd", n);
    CHECK(info[0].ssi_signo == SIGUSR1 && info[0].ssi_code == SI_QUEUE && info[0].ssi_int == 8,
          "first record: signo %u code %d int %d", info[0].ssi_signo, info[0].ssi_code, info[0].ssi_int);
    CHECK(info[1].ssi_signo == (uint32_t)rt && info[1].ssi_int == 7 && info[1].ssi_code == SI_QUEUE,
          "second record: signo %u int %d", info[1].ssi_signo, info[1].ssi_int);
    CHECK(info[2].ssi_signo == (uint32_t)rt && info[2].ssi_int == 8, "third record: signo %u int %d",
          info[2].ssi_signo, info[2].ssi_int);
    CHECK_ERRNO(read(sfd, info, sizeof info), EAGAIN);

    /* epoll readiness, and a new mask through the same descriptor. */
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 42 }, out;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == 0, "epoll_ctl: %s", strerror(errno));
    CHECK(epoll_wait(ep, &out, 1, 0) == 0, "epoll ready with nothing pending");
    raise(rt);
    CHECK(epoll_wait(ep, &out, 1, 1000) == 1 && out.data.u32 == 42, "epoll did not report the signal");
    sigset_t only_usr1;
    sigemptyset(&only_usr1);
    sigaddset(&only_usr1, SIGUSR1);
    CHECK(signalfd(sfd, &only_usr1, 0) == sfd, "signalfd mask update: %s", strerror(errno));
    CHECK(!readable(sfd, 0), "readable for a signal no longer in the mask");
    CHECK(epoll_wait(ep, &out, 1, 0) == 0, "epoll ready for a signal no longer in the mask");
    CHECK(signalfd(sfd, &set, 0) == sfd, "signalfd mask back");
    CHECK(read(sfd, info, sizeof info) == (ssize_t)sizeof info[0] && info[0].ssi_signo == (uint32_t)rt,
          "raise(rt) record");

    /* A blocking read wakes when another process sends; SIGCHLD, blocked with its default
     * (ignore) disposition, stays pending and reports the child. */
    CHECK(fcntl(sfd, F_SETFL, 0) == 0, "clear O_NONBLOCK");
    pid_t parent = getpid();
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        usleep(50000);
        kill(parent, SIGUSR1);
        _exit(3);
    }
    n = read(sfd, info, sizeof info[0]);
    CHECK(n == (ssize_t)sizeof info[0] && info[0].ssi_signo == SIGUSR1 && info[0].ssi_pid == (uint32_t)child,
          "blocking read: %zd signo %u pid %u", n, info[0].ssi_signo, info[0].ssi_pid);
    n = read(sfd, info, sizeof info[0]);
    CHECK(n == (ssize_t)sizeof info[0] && info[0].ssi_signo == SIGCHLD && info[0].ssi_code == CLD_EXITED &&
          info[0].ssi_pid == (uint32_t)child && info[0].ssi_status == 3,
          "SIGCHLD record: signo %u code %d pid %u status %d", info[0].ssi_signo, info[0].ssi_code,
          info[0].ssi_pid, info[0].ssi_status);
    int st;
    CHECK(waitpid(child, &st, 0) == child, "waitpid");
    close(sfd);

    /* sigtimedwait: EAGAIN at once with a zero timeout, EAGAIN after the timeout, the
     * queued siginfo when something is pending. */
    struct timespec zero = { 0, 0 }, short_wait = { 0, 100 * 1000 * 1000 };
    siginfo_t si;
    CHECK_ERRNO(sigtimedwait(&set, &si, &zero), EAGAIN);
    long long t0 = now_ms();
    CHECK_ERRNO(sigtimedwait(&set, &si, &short_wait), EAGAIN);
    CHECK(now_ms() - t0 >= 90, "sigtimedwait returned after %lld ms of 100", now_ms() - t0);
    v.sival_int = 99;
    CHECK(sigqueue(getpid(), rt, v) == 0, "sigqueue");
    CHECK(sigtimedwait(&set, &si, &zero) == rt && si.si_code == SI_QUEUE && si.si_value.sival_int == 99 &&
          si.si_pid == getpid(), "sigtimedwait: signo %d code %d value %d", si.si_signo, si.si_code,
          si.si_value.sival_int);

    /* rt_tgsigqueueinfo to this thread. */
    memset(&si, 0, sizeof si);
    si.si_code = SI_QUEUE;
    si.si_value.sival_int = 5;
    CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), rt, &si) == 0,
          "rt_tgsigqueueinfo: %s", strerror(errno));
    memset(&si, 0, sizeof si);
    CHECK(sigwaitinfo(&set, &si) == rt && si.si_value.sival_int == 5, "sigwaitinfo: %d value %d", si.si_signo,
          si.si_value.sival_int);

    /* A signal sent while the caller waits wakes sigtimedwait. Another, handled signal that
     * is not in the set interrupts it with EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction");
    child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        usleep(50000);
        kill(parent, SIGUSR1);
        usleep(100000);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    struct timespec long_wait = { 5, 0 };
    CHECK(sigtimedwait(&only_usr1, &si, &long_wait) == SIGUSR1 && si.si_pid == child,
          "sigtimedwait woken by kill: %s", strerror(errno));
    t0 = now_ms();
    /* The raw call: musl's sigtimedwait() retries after EINTR. */
    CHECK_ERRNO(syscall(SYS_rt_sigtimedwait, &only_usr1, &si, &long_wait, 8), EINTR);
    CHECK(usr2_handled && now_ms() - t0 < 4000, "EINTR without the handler, or late");
    CHECK(waitpid(child, &st, 0) == child, "waitpid 2");
    while (sigtimedwait(&set, &si, &zero) > 0) {}  /* the child's SIGCHLD */

    /* Pretending to be the kernel (si_code >= 0) or tkill towards another process is EPERM;
     * SI_QUEUE is allowed, and so is any code to oneself. */
    child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        int ok = queueinfo(parent, SIGUSR1, SI_USER, 1) == -1 && errno == EPERM &&
                 queueinfo(parent, SIGUSR1, SI_TKILL, 1) == -1 && errno == EPERM &&
                 queueinfo(parent, SIGUSR1, SI_QUEUE, 11) == 0;
        _exit(ok ? 0 : 1);
    }
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "child's rt_sigqueueinfo checks failed (status %#x)", st);
    CHECK(sigtimedwait(&only_usr1, &si, &long_wait) == SIGUSR1 && si.si_value.sival_int == 11 &&
          si.si_code == SI_QUEUE, "the child's SI_QUEUE signal");
    CHECK(queueinfo(getpid(), SIGUSR1, SI_USER, 12) == 0, "SI_USER to oneself: %s", strerror(errno));
    CHECK(sigtimedwait(&only_usr1, &si, &zero) == SIGUSR1 && si.si_code == SI_USER, "SI_USER to oneself");
    CHECK_ERRNO(queueinfo(0, SIGUSR1, SI_QUEUE, 1), ESRCH);
    CHECK_ERRNO(syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR1, &si), EINVAL);
    /* A pending SIGCHLD whose action is to ignore does not cut a ppoll short when its
     * temporary mask unblocks it: Linux drops it and the call goes on to its timeout. */
    while (sigtimedwait(&set, &si, &zero) > 0) {}
    child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0)
        _exit(0);
    sigset_t pending;
    for (int i = 0; i < 500; i++) {
        sigpending(&pending);
        if (sigismember(&pending, SIGCHLD))
            break;
        usleep(10000);
    }
    CHECK(sigismember(&pending, SIGCHLD), "blocked SIGCHLD with SIG_DFL is not pending");
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    struct timespec ppoll_wait = { 0, 100 * 1000 * 1000 };
    t0 = now_ms();
    int r = ppoll(NULL, 0, &ppoll_wait, &none);
    CHECK(r == 0, "ppoll with an ignored signal pending gave %d (%s)", r, strerror(errno));
    CHECK(now_ms() - t0 >= 90, "ppoll returned after %lld ms of 100", now_ms() - t0);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGCHLD), "the ignored SIGCHLD is still pending");
    waitpid(child, &st, 0);

    /* sigtimedwait takes a SIGCHLD (default action: ignore) that arrives while it waits. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        usleep(50000);
        _exit(4);
    }
    CHECK(sigtimedwait(&chld, &si, &long_wait) == SIGCHLD && si.si_pid == child && si.si_status == 4,
          "sigtimedwait for SIGCHLD: %s", strerror(errno));
    waitpid(child, &st, 0);
    return pass(NULL);
}
