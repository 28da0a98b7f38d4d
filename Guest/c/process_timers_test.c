/*
 * process_timers_test.c — interval and POSIX timers belong to one process (issue 15 item 3;
 * found by LTP's alarm02/getitimer01 under egg, whose library arms alarm(300) in the parent
 * of every test): fork(2) says the child inherits none of them. The parent arms alarm(100)
 * and a POSIX timer; the child sees no alarm, no ITIMER_REAL and EINVAL for the parent's
 * timer id, arms its own 50 ms ITIMER_REAL and gets SIGALRM; the parent gets no SIGALRM
 * from it and still finds its own alarm near 100 s afterwards. One verdict line; passes
 * natively. Kernel side: Sources/KernelCore/Threads/IntervalTimers.swift, PosixTimers.swift.
 */
#define _GNU_SOURCE
#include "check.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

const char *const test_name = "process_timers_test";

static volatile sig_atomic_t alarms;
static void on_alarm(int s) { (void)s; alarms++; }

static int child(int parent_timer)
{
    if (alarm(0) != 0) return 10;                       /* no alarm inherited */
    struct itimerval v;
    if (getitimer(ITIMER_REAL, &v) != 0 || v.it_value.tv_sec || v.it_value.tv_usec) return 11;
    struct itimerspec ts;
    if (syscall(SYS_timer_gettime, parent_timer, &ts) != -1 || errno != EINVAL) return 12;
    struct itimerval arm = { { 0, 0 }, { 0, 50000 } };
    if (setitimer(ITIMER_REAL, &arm, NULL) != 0) return 13;
    for (int i = 0; i < 500 && !alarms; i++) usleep(10000);
    if (alarms != 1) return 14;                         /* its own alarm fired, in it */
    return 0;
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_alarm };
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    CHECK(alarm(100) == 0, "alarm(100)");
    struct sigevent ev = { .sigev_notify = SIGEV_NONE };
    int timer = -1;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &timer) == 0, "timer_create: %s", strerror(errno));
    struct itimerspec ts = { { 0, 0 }, { 60, 0 } };
    CHECK(syscall(SYS_timer_settime, timer, 0, &ts, NULL) == 0, "timer_settime");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(child(timer));
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %#x (10 alarm inherited, 11 itimer inherited, "
          "12 POSIX timer inherited, 13 setitimer, 14 its SIGALRM)", status);
    usleep(100000);
    CHECK(alarms == 0, "the parent got %d SIGALRM from the child's timer", (int)alarms);
    unsigned left = alarm(0);
    CHECK(left >= 90 && left <= 100, "the parent's alarm reads %u s left, want about 100", left);
    CHECK(syscall(SYS_timer_gettime, timer, &ts) == 0 && ts.it_value.tv_sec >= 50, "the parent's POSIX timer");
    return pass(NULL);
}
