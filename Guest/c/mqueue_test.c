/*
 * mqueue_test — POSIX message queues as Linux has them (mq_overview(7), mq_open(3),
 * mq_send(3), mq_receive(3), mq_notify(3), mq_getattr(3), ipc/mqueue.c): creation and
 * limits, priority order, blocking with absolute timeouts, O_NONBLOCK, poll/epoll
 * readiness, mq_notify with a signal, a queue outliving its opener, and mq_unlink.
 *
 * Layer: guest test program (see check.h). The kernel side is
 * Sources/KernelCore/IPC/PosixMessageQueue*.swift. Every wait has a timeout; alarm(20)
 * ends a hang.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

const char *const test_name = "mqueue_test";

static char qname[64];

static struct timespec in_ms(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cleanup(void) { mq_unlink(qname); }

int main(void)
{
    alarm(20);
    snprintf(qname, sizeof qname, "/egg-mq-test-%d", (int)getpid());
    atexit(cleanup);
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 }, got;

    /* Creation and the limits of /proc/sys/fs/mqueue for an unprivileged-sized request. */
    CHECK_ERRNO(mq_open(qname, O_RDWR), ENOENT);
    struct mq_attr bad = { .mq_maxmsg = 0, .mq_msgsize = 64 };
    CHECK_ERRNO(mq_open(qname, O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    bad.mq_maxmsg = 4;
    bad.mq_msgsize = -1;
    CHECK_ERRNO(mq_open(qname, O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    CHECK_ERRNO(mq_open("/bad/name", O_RDWR | O_CREAT, 0600, &attr), EACCES);
    mqd_t q = mq_open(qname, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    CHECK(q != (mqd_t)-1, "mq_open: %s", strerror(errno));
    CHECK(fcntl(q, F_GETFD) & FD_CLOEXEC, "mq descriptor is not close-on-exec");
    CHECK_ERRNO(mq_open(qname, O_RDWR | O_CREAT | O_EXCL, 0600, &attr), EEXIST);
    CHECK(mq_getattr(q, &got) == 0 && got.mq_maxmsg == 4 && got.mq_msgsize == 64 && got.mq_curmsgs == 0 &&
          got.mq_flags == 0, "mq_getattr: %ld %ld %ld %ld", got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs,
          got.mq_flags);
    struct stat st;
    CHECK(fstat(q, &st) == 0 && (st.st_mode & 0777) == 0600, "fstat mode %o", st.st_mode);

    /* Priority order, FIFO within a priority. */
    char buf[128];
    unsigned prio;
    CHECK(mq_send(q, "low1", 4, 1) == 0, "mq_send: %s", strerror(errno));
    CHECK(mq_send(q, "high", 4, 9) == 0, "mq_send");
    CHECK(mq_send(q, "low2", 4, 1) == 0, "mq_send");
    CHECK(mq_send(q, "zero", 4, 0) == 0, "mq_send");
    CHECK_ERRNO(mq_send(q, buf, 65, 0), EMSGSIZE);
    CHECK_ERRNO(mq_send(q, "x", 1, 32768), EINVAL);
    CHECK(mq_getattr(q, &got) == 0 && got.mq_curmsgs == 4, "curmsgs %ld", got.mq_curmsgs);
    /* Full: a timed send times out at its absolute deadline. */
    struct timespec deadline = in_ms(100);
    long long t0 = now_ms();
    CHECK_ERRNO(mq_timedsend(q, "late", 4, 0, &deadline), ETIMEDOUT);
    CHECK(now_ms() - t0 >= 90, "timed send returned after %lld ms", now_ms() - t0);
    struct timespec invalid = { 0, 1000000000 };
    CHECK_ERRNO(mq_timedsend(q, "late", 4, 0, &invalid), EINVAL);
    CHECK_ERRNO(mq_receive(q, buf, 63, &prio), EMSGSIZE);
    const char *want[] = { "high", "low1", "low2", "zero" };
    unsigned want_prio[] = { 9, 1, 1, 0 };
    for (int i = 0; i < 4; i++) {
        ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
        CHECK(n == 4 && memcmp(buf, want[i], 4) == 0 && prio == want_prio[i], "message %d: %zd '%.*s' prio %u", i,
              n, (int)(n > 0 ? n : 0), buf, prio);
    }
    deadline = in_ms(100);
    CHECK_ERRNO(mq_timedreceive(q, buf, sizeof buf, &prio, &deadline), ETIMEDOUT);

    /* O_NONBLOCK through mq_setattr; only O_NONBLOCK may change. */
    struct mq_attr nb = { .mq_flags = O_NONBLOCK };
    CHECK(mq_setattr(q, &nb, &got) == 0 && got.mq_flags == 0, "mq_setattr");
    CHECK_ERRNO(mq_receive(q, buf, sizeof buf, &prio), EAGAIN);
    CHECK(mq_getattr(q, &got) == 0 && got.mq_flags == O_NONBLOCK, "O_NONBLOCK not reported");
    for (int i = 0; i < 4; i++)
        CHECK(mq_send(q, "fill", 4, 0) == 0, "fill %d", i);
    CHECK_ERRNO(mq_send(q, "over", 4, 0), EAGAIN);

    /* poll and epoll readiness. */
    struct pollfd p = { .fd = q, .events = POLLIN | POLLOUT };
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLIN, "full queue revents %#x", p.revents);
    for (int i = 0; i < 4; i++)
        CHECK(mq_receive(q, buf, sizeof buf, NULL) == 4, "drain %d", i);
    CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "empty queue revents %#x", p.revents);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 }, out;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev) == 0, "epoll_ctl: %s", strerror(errno));
    CHECK(epoll_wait(ep, &out, 1, 0) == 0, "epoll ready on an empty queue");
    nb.mq_flags = 0;
    CHECK(mq_setattr(q, &nb, NULL) == 0, "mq_setattr 0");

    /* A blocked receive wakes when another process sends; the queue outlives the sender. */
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        mqd_t c = mq_open(qname, O_WRONLY);
        if (c == (mqd_t)-1)
            _exit(2);
        usleep(50000);
        mq_send(c, "from child", 10, 3);
        _exit(0);  /* exits with the queue still open */
    }
    CHECK(epoll_wait(ep, &out, 1, 5000) == 1 && out.data.u32 == 7, "epoll did not see the child's message");
    deadline = in_ms(5000);
    ssize_t n = mq_timedreceive(q, buf, sizeof buf, &prio, &deadline);
    CHECK(n == 10 && memcmp(buf, "from child", 10) == 0 && prio == 3, "child's message: %zd (%s)", n,
          strerror(errno));
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x",
          status);

    /* mq_notify with a signal: sent when a message reaches the empty queue; one owner at a time. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    sev.sigev_value.sival_int = 1234;
    CHECK(mq_notify(q, &sev) == 0, "mq_notify: %s", strerror(errno));
    CHECK_ERRNO(mq_notify(q, &sev), EBUSY);
    struct sigevent badsev = { .sigev_notify = 99 };
    CHECK_ERRNO(mq_notify(q, &badsev), EINVAL);
    CHECK(mq_send(q, "ping", 4, 0) == 0, "mq_send ping");
    siginfo_t si;
    struct timespec wait1 = { 1, 0 };
    sigdelset(&set, SIGCHLD);
    CHECK(sigtimedwait(&set, &si, &wait1) == SIGUSR1 && si.si_code == SI_MESGQ && si.si_value.sival_int == 1234 &&
          si.si_pid == getpid(), "notification: code %d value %d", si.si_code, si.si_value.sival_int);
    /* The registration is gone after one notification. */
    CHECK(mq_notify(q, &sev) == 0, "mq_notify again: %s", strerror(errno));
    CHECK(mq_notify(q, NULL) == 0, "mq_notify(NULL)");
    CHECK(mq_receive(q, buf, sizeof buf, NULL) == 4, "receive ping");

    /* Permissions: a read-only descriptor cannot send, a write-only one cannot receive. */
    mqd_t ro = mq_open(qname, O_RDONLY);
    CHECK(ro != (mqd_t)-1, "open O_RDONLY: %s", strerror(errno));
    CHECK_ERRNO(mq_send(ro, "x", 1, 0), EBADF);
    mqd_t wo = mq_open(qname, O_WRONLY);
    CHECK_ERRNO(mq_receive(wo, buf, sizeof buf, NULL), EBADF);
    CHECK_ERRNO(mq_send(0 + 1000, "x", 1, 0), EBADF);

    /* mq_unlink: the name goes, open descriptors keep working. */
    CHECK(mq_unlink(qname) == 0, "mq_unlink: %s", strerror(errno));
    CHECK_ERRNO(mq_unlink(qname), ENOENT);
    CHECK_ERRNO(mq_open(qname, O_RDWR), ENOENT);
    CHECK(mq_send(wo, "still", 5, 0) == 0, "send after unlink: %s", strerror(errno));
    CHECK(mq_receive(ro, buf, sizeof buf, NULL) == 5, "receive after unlink");
    mq_close(ro);
    mq_close(wo);
    mq_close(q);
    return pass(NULL);
}
