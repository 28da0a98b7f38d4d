/*
 * sigterm_test.c — a SIGTERM handler runs when the runner sends SIGTERM (to egg, which
 * forwards it to the guest over its control port: Sources/EggHost/HostStreams.swift).
 * Prints "ready" once its handler is installed (the runner waits for that line before
 * sending the signal), then waits in pause(2); the handler sets a flag and main prints the
 * verdict and exits 0 — so the exit status egg reports is the program's own, not 143.
 * With the argument "stubborn" the handler only reports each SIGTERM and the program keeps
 * running: the runner checks that egg then kills it (a second SIGTERM, or --stop-timeout)
 * and exits 137. See signal(7), sigaction(2), pause(2).
 * Layer: guest test programs (Guest/); runner: Tests/integration/stdio.sh.
 */
#include "check.h"

#include <signal.h>

const char *const test_name = "sigterm_test";

static volatile sig_atomic_t terminations;
static int stubborn;

static void on_term(int sig)
{
    (void)sig;
    terminations++;
    if (stubborn) {
        static const char line[] = "got SIGTERM, staying\n";
        if (write(1, line, sizeof line - 1) < 0)
            _exit(3);
    }
}

int main(int argc, char **argv)
{
    stubborn = argc >= 2 && strcmp(argv[1], "stubborn") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGTERM, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
    static const char ready[] = "ready\n";
    CHECK(write(1, ready, sizeof ready - 1) == (ssize_t)(sizeof ready - 1), "write ready");
    for (;;) {
        pause();
        if (terminations > 0 && !stubborn)
            break;
    }
    return pass("handler ran %d time(s)", (int)terminations);
}
