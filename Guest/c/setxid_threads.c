/*
 * setxid_threads.c — credentials are per thread in the kernel, as in Linux; the libc makes
 * setresuid process-wide by repeating it on every thread (musl's __synccall, glibc's
 * SIGSETXID). A thread started before the call must see the new effective uid afterwards
 * through the raw geteuid system call.
 *
 * Layer: guest test program (Tests/integration/run.sh runs it natively, then under egg).
 * Needs root natively (SKIP line and status 77 otherwise). credentials(7), nptl(7).
 */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <sys/syscall.h>

const char *const test_name = "setxid_threads";

static volatile int go, seen = -1;

static void *thread_main(void *arg)
{
    (void)arg;
    while (!go)
        usleep(1000);
    seen = (int)syscall(SYS_geteuid);
    return NULL;
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP setxid_threads: needs root (running as uid %d)\n", (int)geteuid());
        return 77;
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0, "pthread_create");
    usleep(20000);
    CHECK(setresuid(-1, 1000, -1) == 0, "setresuid: %s", strerror(errno));
    go = 1;
    pthread_join(t, NULL);
    CHECK(seen == 1000, "the other thread's euid is %d, expected 1000", seen);
    CHECK(syscall(SYS_geteuid) == 1000, "own euid");
    return pass(NULL);
}
