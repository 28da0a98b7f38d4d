/*
 * exec_thread_test.c — execve from a thread that is not the thread group leader: the new
 * image runs with the leader's TID (getpid() == gettid(), the pid unchanged), the other
 * threads are gone, and the parent's waitpid sees the same pid exit with the new image's
 * status.
 *
 * Layer: guest test program (issue 16 item 3; kernel side Syscalls/ExecSyscalls.swift
 * commit, as fs/exec.c de_thread). It re-executes itself through /proc/self/exe.
 * Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

const char *const test_name = "exec_thread_test";

static char pid_text[32], tid_text[32];

static void *exec_from_thread(void *unused)
{
    (void)unused;
    snprintf(tid_text, sizeof tid_text, "%ld", (long)syscall(SYS_gettid));
    char *argv[] = { "exec_thread_test", "after", pid_text, tid_text, NULL };
    char *envp[] = { NULL };
    execve("/proc/self/exe", argv, envp);
    _exit(90);   /* execve failed */
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "after") == 0) {
        /* The new image: the leader's TID, the old pid, one thread. */
        long pid = getpid(), tid = syscall(SYS_gettid);
        if (pid != atol(argv[2])) _exit(91);
        if (tid != pid) _exit(92);
        if (atol(argv[3]) == pid) _exit(93);   /* the exec really came from another thread */
        _exit(42);
    }
    pid_t c = fork();
    if (c < 0) fail("fork: errno %d", errno);
    if (c == 0) {
        snprintf(pid_text, sizeof pid_text, "%ld", (long)getpid());
        pthread_t t;
        if (pthread_create(&t, NULL, exec_from_thread, NULL) != 0) _exit(94);
        for (;;) pause();   /* the leader waits here until the exec ends it */
    }
    int status;
    pid_t got = waitpid(c, &status, 0);
    if (got != c) fail("waitpid returned %d (errno %d), expected the child %d", got, errno, c);
    if (!WIFEXITED(status)) fail("child status %#x", status);
    switch (WEXITSTATUS(status)) {
    case 42: break;
    case 90: fail("execve from the thread failed");
    case 91: fail("the pid changed across the exec");
    case 92: fail("after exec from a non-leader thread gettid() != getpid()");
    case 93: fail("the exec'ing thread was the leader");
    default: fail("child exited %d", WEXITSTATUS(status));
    }
    return pass("exec from a second thread: the leader's TID, the same pid, waitpid sees its status");
}
