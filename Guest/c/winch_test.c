/*
 * winch_test.c — a program on a terminal that is resized and then asked to stop: it prints
 * "winch_test: ready ROWSxCOLS", reports every SIGWINCH with the size TIOCGWINSZ then gives
 * ("winch_test: resized ROWSxCOLS"), and on SIGTERM prints its verdict: PASS when at least
 * one SIGWINCH came and the size changed since the start (tty_ioctl(4) TIOCGWINSZ; Linux's
 * tty_do_resize sends SIGWINCH to the terminal's foreground process group).
 *
 * Layer: guest test programs (check.h). Tests/integration/tty_cases.py (case
 * tty-winch-sigterm) runs it under a pseudo-terminal natively and under egg, resizes the
 * terminal from the master side and sends SIGTERM to egg (Sources/EggHost/HostStreams.swift
 * forwards both over the control port in terminal mode).
 */
#include "check.h"

#include <signal.h>
#include <sys/ioctl.h>

const char *const test_name = "winch_test";

static volatile sig_atomic_t winches, terminated;

static void on_winch(int s) { (void)s; winches++; }
static void on_term(int s) { (void)s; terminated = 1; }

static void say(const char *what, const struct winsize *w)
{
    char line[96];
    int n = snprintf(line, sizeof line, "winch_test: %s %dx%d\n", what, w->ws_row, w->ws_col);
    verdict_write(line, (size_t)n);
}

int main(void)
{
    struct winsize first, now;
    CHECK(isatty(0) && isatty(1), "stdin and stdout must be a terminal");
    CHECK(ioctl(1, TIOCGWINSZ, &first) == 0, "TIOCGWINSZ: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    CHECK(sigaction(SIGWINCH, &sa, NULL) == 0, "sigaction SIGWINCH: %s", strerror(errno));
    sa.sa_handler = on_term;
    CHECK(sigaction(SIGTERM, &sa, NULL) == 0, "sigaction SIGTERM: %s", strerror(errno));
    /* Block both while checking the flags, so none arrives between the check and the wait. */
    sigset_t both, old;
    sigemptyset(&both);
    sigaddset(&both, SIGWINCH);
    sigaddset(&both, SIGTERM);
    sigprocmask(SIG_BLOCK, &both, &old);
    alarm(120);  /* a test that is never stopped fails instead of hanging */
    say("ready", &first);
    int seen = 0;
    while (!terminated) {
        if (winches != seen) {
            seen = winches;
            CHECK(ioctl(1, TIOCGWINSZ, &now) == 0, "TIOCGWINSZ after SIGWINCH: %s", strerror(errno));
            say("resized", &now);
            continue;
        }
        sigsuspend(&old);
    }
    CHECK(seen > 0, "SIGTERM came but no SIGWINCH before it");
    CHECK(ioctl(1, TIOCGWINSZ, &now) == 0, "TIOCGWINSZ: %s", strerror(errno));
    CHECK(now.ws_row != first.ws_row || now.ws_col != first.ws_col, "SIGWINCH but the size stayed %dx%d",
          now.ws_row, now.ws_col);
    return pass("%d SIGWINCH, %dx%d -> %dx%d, SIGTERM handled", seen, first.ws_row, first.ws_col, now.ws_row,
                now.ws_col);
}
