/*
 * sa_restart.c — a blocking read interrupted by a signal: with SA_RESTART the read goes on
 * and returns the data written later; without it the read fails with EINTR; an ignored
 * signal never interrupts it (signal(7), "Interruption of system calls ... by signal
 * handlers"). Guest test program; Guest/c/check.h gives the verdict helpers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include "check.h"

const char *const test_name = "sa_restart";

static int fds[2];
static pthread_t reader;
static volatile sig_atomic_t handled;

static void on_signal(int s) { (void)s; handled++; }

static void pause_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

/* Signals the reader after 100 ms, then writes "x" after another 100 ms. */
static void *poker(void *arg)
{
    int signal_number = *(int *)arg;
    pause_ms(100);
    pthread_kill(reader, signal_number);
    pause_ms(100);
    if (write(fds[1], "x", 1) != 1) fail("write: %s", strerror(errno));
    return NULL;
}

/* One round: returns read's result and leaves errno; the pipe is drained afterwards. */
static ssize_t round_trip(int signal_number, char *out)
{
    if (pipe(fds) != 0) fail("pipe: %s", strerror(errno));
    reader = pthread_self();
    pthread_t t;
    if (pthread_create(&t, NULL, poker, &signal_number) != 0) fail("pthread_create");
    ssize_t n = read(fds[0], out, 1);
    int saved = errno;
    pthread_join(t, NULL);
    close(fds[0]);
    close(fds[1]);
    errno = saved;
    return n;
}

static void install(int s, void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(s, &sa, NULL) != 0) fail("sigaction: %s", strerror(errno));
}

int main(void)
{
    char c = 0;
    install(SIGUSR1, on_signal, SA_RESTART);
    ssize_t n = round_trip(SIGUSR1, &c);
    if (n != 1 || c != 'x') fail("SA_RESTART: read gave %zd (%s), want the byte written later", n, n < 0 ? strerror(errno) : "");
    if (handled != 1) fail("SA_RESTART: handler ran %d times", (int)handled);

    install(SIGUSR2, on_signal, 0);
    n = round_trip(SIGUSR2, &c);
    if (n != -1 || errno != EINTR) fail("no SA_RESTART: read gave %zd, want -1 EINTR", n);
    if (handled != 2) fail("no SA_RESTART: handler ran %d times", (int)handled);

    install(SIGURG, SIG_IGN, 0);
    c = 0;
    n = round_trip(SIGURG, &c);
    if (n != 1 || c != 'x') fail("ignored signal: read gave %zd, want the byte", n);
    return pass("restarted with SA_RESTART, EINTR without, ignored signal transparent");
}
