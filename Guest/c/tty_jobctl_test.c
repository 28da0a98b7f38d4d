/*
 * tty_jobctl_test.c — the terminal job-control ioctls on standard input that is not a
 * terminal: tcgetpgrp/tcsetpgrp (TIOCGPGRP/TIOCSPGRP), tcgetsid (TIOCGSID), TIOCSCTTY and
 * TIOCNOTTY all fail with ENOTTY, in a session leader's child too.
 *
 * Layer: guest test program (issue 16 item 5; kernel side
 * Sources/KernelCore/Devices/ConsoleTerminal.swift jobControl). Tests/integration/run.sh runs
 * it with standard input from a file: natively that is /dev/null or a file, under egg the
 * console with piped input (console=pipe), which no session controls. The same calls on a
 * real terminal are exercised by Tests/integration/tty_cases.py (tty-job-control).
 * Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

const char *const test_name = "tty_jobctl_test";

#define EXPECT_ENOTTY(call) do { errno = 0; long r_ = (long)(call); \
    if (r_ != -1 || errno != ENOTTY) fail("%s: %ld errno %d, expected ENOTTY", #call, r_, errno); } while (0)

static void all_fail(const char *who)
{
    pid_t group = getpgrp();
    int sid = -2;
    (void)who;
    EXPECT_ENOTTY(tcgetpgrp(0));
    EXPECT_ENOTTY(tcsetpgrp(0, group));
    EXPECT_ENOTTY(tcgetsid(0));
    EXPECT_ENOTTY(ioctl(0, TIOCGSID, &sid));
    EXPECT_ENOTTY(ioctl(0, TIOCSCTTY, 0));
    EXPECT_ENOTTY(ioctl(0, TIOCNOTTY));
    if (sid != -2) fail("%s: TIOCGSID wrote %d on failure", who, sid);
}

int main(void)
{
    all_fail("the program");
    /* A new session's leader, which could take a terminal, cannot take this one. */
    pid_t c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) {
        if (setsid() < 0) fail("setsid: errno %d", errno);
        all_fail("a session leader");
        _exit(0);
    }
    int status;
    if (waitpid(c, &status, 0) != c) fail("waitpid: errno %d", errno);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the child failed (status %#x)", status);
    return pass("tcgetpgrp, tcsetpgrp, tcgetsid, TIOCSCTTY, TIOCNOTTY: ENOTTY without a terminal");
}
