/*
 * jobctl_test — job control and pidfds (issue 16 items 3-5).
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * Checks: a child stopping itself with raise(SIGSTOP) is seen by waitpid(WUNTRACED) as
 * stopped by SIGSTOP and the parent's SIGCHLD says CLD_STOPPED; SIGCONT resumes it
 * (waitpid(WCONTINUED), CLD_CONTINUED, and the child runs again); a stop report is given
 * once; SIGKILL ends a stopped child; SA_NOCLDSTOP suppresses the stop SIGCHLD while
 * waitid(WSTOPPED) still reports it; pidfd_open (flags, PIDFD_NONBLOCK), poll on a pidfd
 * (readable only once the process ended), pidfd_send_signal, waitid(P_PIDFD),
 * pidfd_getfd; a stop holds every thread of the process, not just the one that took it.
 * The pidfd calls go through syscall(2) (older libcs have no wrappers).
 * Kernel side: Sources/KernelCore/Signals/JobControl.swift, Process/PidFile.swift,
 * Process/WaitSyscalls.swift.
 */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const char *const test_name = "jobctl_test";

static volatile sig_atomic_t chld_count, chld_code, chld_status, chld_pid;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    chld_count++;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid = si->si_pid;
}

static void set_chld_handler(int extra_flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | extra_flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
}

/* A child that stops itself, then reports through `fd` that it runs again, then waits
 * to be killed. */
static pid_t stopping_child(int fd)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        raise(SIGSTOP);
        if (fd >= 0) {
            char c = 'c';
            if (write(fd, &c, 1) != 1)
                _exit(3);
        }
        for (;;)
            pause();
    }
    return pid;
}

/* A second thread of the threaded child: one byte every 5 ms while the process runs. */
static int ticker_fd;
static void *ticker(void *arg)
{
    (void)arg;
    for (;;) {
        if (write(ticker_fd, "t", 1) != 1)
            _exit(4);
        usleep(5000);
    }
    return NULL;
}

/* Stops a two-threaded child with SIGSTOP from outside: neither thread runs until SIGCONT. */
static void threads_stop_together(void)
{
    int t[2];
    CHECK(pipe(t) == 0, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(t[0]);
        ticker_fd = t[1];
        pthread_t th;
        if (pthread_create(&th, NULL, ticker, NULL) != 0)
            _exit(5);
        for (;;)
            pause();
    }
    close(t[1]);
    char buf[64];
    CHECK(read(t[0], buf, 1) == 1, "the ticker thread never ran");
    int status;
    CHECK(kill(pid, SIGSTOP) == 0, "kill(SIGSTOP): %s", strerror(errno));
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP,
          "threaded child not reported stopped (status %#x)", status);
    /* Drain what was written before the stop, then nothing more may come. */
    int fl = fcntl(t[0], F_GETFL);
    CHECK(fcntl(t[0], F_SETFL, fl | O_NONBLOCK) == 0, "fcntl: %s", strerror(errno));
    while (read(t[0], buf, sizeof buf) > 0) {
    }
    usleep(100000);
    CHECK(read(t[0], buf, sizeof buf) < 0 && errno == EAGAIN, "a thread of the stopped process ran");
    CHECK(kill(pid, SIGCONT) == 0, "kill(SIGCONT): %s", strerror(errno));
    CHECK(fcntl(t[0], F_SETFL, fl) == 0, "fcntl: %s", strerror(errno));
    CHECK(read(t[0], buf, 1) == 1, "the ticker thread did not resume");
    CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status),
          "threaded child not reaped");
    close(t[0]);
}

int main(void)
{
    int status;
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
    set_chld_handler(0);

    /* 1. Stop, continue, pidfd. */
    pid_t pid = stopping_child(p[1]);
    CHECK(waitpid(pid, &status, WUNTRACED) == pid, "waitpid(WUNTRACED): %s", strerror(errno));
    CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, "status %#x: not stopped by SIGSTOP", status);
    CHECK((status & 0xffff) == (0x7f | SIGSTOP << 8), "stop status word %#x", status);
    CHECK(chld_count == 1 && chld_code == CLD_STOPPED && chld_status == SIGSTOP && chld_pid == pid,
          "SIGCHLD for the stop: count %d code %d status %d pid %d", (int)chld_count, (int)chld_code,
          (int)chld_status, (int)chld_pid);
    /* The stop was reported once: asking again finds nothing. */
    CHECK(waitpid(pid, &status, WUNTRACED | WNOHANG) == 0, "stop reported twice");
    /* Stopped: the child has not written. */
    struct pollfd rp = { .fd = p[0], .events = POLLIN };
    CHECK(poll(&rp, 1, 100) == 0, "a stopped child ran");

    CHECK(kill(pid, SIGCONT) == 0, "kill(SIGCONT): %s", strerror(errno));
    CHECK(waitpid(pid, &status, WCONTINUED) == pid, "waitpid(WCONTINUED): %s", strerror(errno));
    CHECK(WIFCONTINUED(status) && status == 0xffff, "status %#x: not continued", status);
    char c;
    CHECK(read(p[0], &c, 1) == 1 && c == 'c', "the continued child did not run");
    /* Linux sends the CLD_CONTINUED SIGCHLD when the child runs again (get_signal), so it
     * is checked once the child has written. */
    CHECK(chld_count == 2 && chld_code == CLD_CONTINUED && chld_status == SIGCONT,
          "SIGCHLD for the continue: count %d code %d status %d", (int)chld_count, (int)chld_code,
          (int)chld_status);

    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    CHECK(pidfd >= 0, "pidfd_open: %s", strerror(errno));
    CHECK(fcntl(pidfd, F_GETFD) == FD_CLOEXEC, "pidfd not close-on-exec");
    struct pollfd pp = { .fd = pidfd, .events = POLLIN };
    CHECK(poll(&pp, 1, 0) == 0, "pidfd readable while the process lives");
    /* The child's SIGCHLD (a handler is installed) arrives together with the readiness:
     * poll must report the ready pidfd, not EINTR, as Linux's do_poll scans before it looks
     * at signals (egg gave EINTR once; PollSyscalls.waitUntilReady now scans again). */
    CHECK(syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) == 0, "pidfd_send_signal: %s", strerror(errno));
    int pr = poll(&pp, 1, 10000);
    CHECK(pr == 1 && (pp.revents & POLLIN), "pidfd not readable after the end: poll %d (%s) revents %#x",
          pr, pr < 0 ? strerror(errno) : "-", pp.revents);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) == 0, "waitid(P_PIDFD): %s", strerror(errno));
    CHECK(si.si_pid == pid && si.si_code == CLD_KILLED && si.si_status == SIGTERM,
          "waitid(P_PIDFD): pid %d code %d status %d", si.si_pid, si.si_code, si.si_status);
    CHECK_ERRNO(syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0), ESRCH);
    CHECK_ERRNO(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG), ECHILD);
    close(pidfd);

    /* 2. SIGKILL ends a stopped child. */
    pid = stopping_child(-1);
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status), "second child not stopped");
    CHECK(kill(pid, SIGKILL) == 0, "kill(SIGKILL): %s", strerror(errno));
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid after SIGKILL: %s", strerror(errno));
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x: not killed by SIGKILL", status);

    /* 3. SA_NOCLDSTOP: no SIGCHLD for the stop; waitid(WSTOPPED) still reports it. */
    set_chld_handler(SA_NOCLDSTOP);
    int before = chld_count;
    pid = stopping_child(-1);
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, (id_t)pid, &si, WSTOPPED) == 0, "waitid(WSTOPPED): %s", strerror(errno));
    CHECK(si.si_pid == pid && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP,
          "waitid(WSTOPPED): pid %d code %d status %d", si.si_pid, si.si_code, si.si_status);
    CHECK(chld_count == before, "SIGCHLD sent for a stop despite SA_NOCLDSTOP");
    CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, &status, 0) == pid, "third child not reaped");
    CHECK(chld_count == before + 1 && chld_code == CLD_KILLED, "no SIGCHLD for the kill");

    threads_stop_together();

    /* 4. pidfd_open's flags, pidfd_getfd on oneself. */
    CHECK_ERRNO(syscall(SYS_pidfd_open, getpid(), 1), EINVAL);
    CHECK_ERRNO(syscall(SYS_pidfd_open, 0, 0), EINVAL);
    int self = (int)syscall(SYS_pidfd_open, getpid(), O_NONBLOCK);
    CHECK(self >= 0, "pidfd_open(PIDFD_NONBLOCK): %s", strerror(errno));
    CHECK(fcntl(self, F_GETFL) & O_NONBLOCK, "PIDFD_NONBLOCK not in the status flags");
    int copy = (int)syscall(SYS_pidfd_getfd, self, p[0], 0);
    CHECK(copy >= 0, "pidfd_getfd: %s", strerror(errno));
    /* The copy reads the same pipe. */
    CHECK(write(p[1], "g", 1) == 1, "write: %s", strerror(errno));
    CHECK(read(copy, &c, 1) == 1 && c == 'g', "pidfd_getfd: another file");
    CHECK(fcntl(copy, F_GETFD) == FD_CLOEXEC, "pidfd_getfd's descriptor not close-on-exec");
    CHECK_ERRNO(syscall(SYS_pidfd_getfd, self, 999, 0), EBADF);
    CHECK_ERRNO(syscall(SYS_pidfd_getfd, p[0], 0, 0), EBADF);   /* not a pidfd */
    return pass("stop/continue reports, SIGKILL while stopped, SA_NOCLDSTOP, pidfds");
}
