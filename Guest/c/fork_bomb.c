/*
 * fork_bomb.c — a bounded fork bomb: fork until fork refuses (egg caps the number of
 * processes, RLIMIT_NPROC's job: EAGAIN) or until 400 children exist (natively, as root,
 * RLIMIT_NPROC does not bind). Every fork either succeeds or fails with EAGAIN or ENOMEM,
 * never anything else and never a crash; every child is reaped; and fork works again once
 * they are gone.
 *
 * Layer: guest test program (Guest/c, see check.h); the kernel side is
 * Sources/KernelCore/Process/ProcessLifecycle.swift (createProcess).
 */
#include "check.h"
#include <sys/wait.h>

const char *const test_name = "fork_bomb";

enum { MAX_CHILDREN = 400 };

int main(void)
{
    int p[2];
    CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
    int made = 0, refusal = 0;
    while (made < MAX_CHILDREN) {
        pid_t c = fork();
        if (c == 0) {
            /* Each child sleeps until the parent closes the write end. */
            close(p[1]);
            char b;
            while (read(p[0], &b, 1) < 0 && errno == EINTR) {}
            _exit(0);
        }
        if (c < 0) {
            refusal = errno;
            CHECK(errno == EAGAIN || errno == ENOMEM, "fork failed with %s, expected EAGAIN", strerror(errno));
            break;
        }
        made++;
    }
    CHECK(made > 8, "only %d children before %s", made, strerror(refusal));
    close(p[1]);
    close(p[0]);
    int reaped = 0, status;
    while (reaped < made) {
        pid_t r = wait(&status);
        if (r < 0 && errno == EINTR) continue;
        CHECK(r > 0, "wait after %d of %d: %s", reaped, made, strerror(errno));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d status %#x", (int)r, status);
        reaped++;
    }
    CHECK_ERRNO(wait(&status), ECHILD);
    pid_t c = fork();
    CHECK(c >= 0, "fork after the bomb: %s", strerror(errno));
    if (c == 0) _exit(5);
    CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 5, "last child status %#x", status);
    return pass("%d children%s%s", made, refusal ? ", then " : "", refusal ? strerror(refusal) : "");
}
