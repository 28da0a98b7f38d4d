/*
 * spawn_test.c — starting other programs the ways libraries do (issue 16): posix_spawn (musl
 * and glibc use clone(CLONE_VM|CLONE_VFORK) and execve), fork + pipe + dup2 + execve with the
 * child's output read back, system() and popen() through /bin/sh, and the wait status of a
 * child killed by a signal. The child role is this same program (/proc/self/exe) run with
 * "child MODE". Run with "--need-shell" the /bin/sh cases must run (egg gets busybox as
 * /bin/sh through --files; natively the host's shell answers).
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

const char *const test_name = "spawn_test";
extern char **environ;

static int child_role(int argc, char **argv)
{
    if (argc < 3)
        return 100;
    if (strcmp(argv[2], "exit") == 0)
        return atoi(argv[3]);
    if (strcmp(argv[2], "echo") == 0) {
        /* stdout is the parent's pipe; stderr must still be the parent's own. */
        const char *env = getenv("SPAWN_TEST_VALUE");
        printf("child says %s, env %s\n", argv[3], env ? env : "(none)");
        fflush(stdout);
        return 0;
    }
    if (strcmp(argv[2], "segv") == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
        return 101;
    }
    return 102;
}

static void check_posix_spawn(void)
{
    char *args[] = { "spawn_test", "child", "exit", "7", NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ);
    if (rc != 0)
        fail("posix_spawn: %s", strerror(rc));
    int status;
    if (waitpid(pid, &status, 0) != pid)
        fail("waitpid after posix_spawn: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
        fail("posix_spawn child status 0x%x, want exit 7", status);

    /* A missing program: posix_spawn reports the exec error to the parent. */
    char *none[] = { "nothing", NULL };
    rc = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, none, environ);
    if (rc == 0) {
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
            fail("posix_spawn of a missing file: status 0x%x", status);
    } else if (rc != ENOENT) {
        fail("posix_spawn of a missing file gave %s, want ENOENT", strerror(rc));
    }
}

static void check_fork_exec_pipe(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        fail("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        char *args[] = { "spawn_test", "child", "echo", "hello", NULL };
        char *env[] = { "SPAWN_TEST_VALUE=42", NULL };
        execve("/proc/self/exe", args, env);
        _exit(99);
    }
    close(fds[1]);
    char buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("fork+exec child status 0x%x", status);
    if (strcmp(buf, "child says hello, env 42\n") != 0)
        fail("fork+exec child wrote \"%s\"", buf);
}

static void check_killed_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *args[] = { "spawn_test", "child", "segv", NULL };
        execve("/proc/self/exe", args, environ);
        _exit(99);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        fail("waitpid: %s", strerror(errno));
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
        fail("child killed by SIGSEGV: status 0x%x", status);
}

static void check_shell(void)
{
    int status = system("exit 3");
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 3)
        fail("system(\"exit 3\") = 0x%x", status);
    FILE *p = popen("echo one; echo two", "r");
    if (!p)
        fail("popen: %s", strerror(errno));
    char line[64], all[128] = "";
    while (fgets(line, sizeof line, p))
        strncat(all, line, sizeof all - strlen(all) - 1);
    status = pclose(p);
    if (strcmp(all, "one\ntwo\n") != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("popen read \"%s\", pclose 0x%x", all, status);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child_role(argc, argv);
    int need_shell = argc > 1 && strcmp(argv[1], "--need-shell") == 0;
    check_posix_spawn();
    check_fork_exec_pipe();
    check_killed_child();
    if (need_shell || access("/bin/sh", X_OK) == 0)
        check_shell();
    return pass("posix_spawn, fork+exec+pipe, signal status%s",
                need_shell ? ", system and popen" : "");
}
