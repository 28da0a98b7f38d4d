/*
 * exec_test.c — execve(2) without fork: the program replaces itself, three times over.
 *
 * Layer: guest test program (run natively, then under egg, by Tests/integration/run.sh).
 * Kernel side: Sources/KernelCore/Syscalls/ExecSyscalls.swift.
 *
 * Stage 1 (no arguments) checks the errors execve gives while the caller survives: ENOENT,
 * EACCES (a directory; a file without an x bit), ENOEXEC (garbage; a "#!" line naming no
 * interpreter), ELOOP (a script that is its own interpreter), E2BIG (one string over
 * MAX_ARG_STRLEN; all of them over the byte limit), EFAULT (bad path, bad argv). Then it
 * prepares what exec must change or keep — a close-on-exec descriptor and a plain one, a
 * caught signal that is also blocked and pending, an ignored signal, an alternate signal
 * stack, two extra threads (one asleep, one spinning) — and execs /proc/self/exe.
 * Stage 2 ("child") checks its argv, environment and auxv (AT_EXECFN, AT_RANDOM, AT_PHDR),
 * that the close-on-exec descriptor is gone and the other open, that the caught signal is
 * back to SIG_DFL but still blocked and pending, that the ignored one stays ignored, the
 * alternate stack is off and MXCSR's rounding mode is back to nearest; then it execs a "#!"
 * script whose interpreter line is "/proc/self/exe interp" (the magic link: this binary).
 * Stage 3 ("interp") checks the argv a script's interpreter gets (interpreter, its one
 * argument, the script path, the script's own arguments) and AT_EXECFN, and prints PASS.
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

const char *const test_name = "exec_test";

extern char **environ;

#define KEEP_FD 11
#define CLOEXEC_FD 10
/* Files under /tmp carry the pid (which exec keeps), so that the native runs of the three
 * builds, which run.sh starts side by side, never exec a file another one is writing. */
static const char *tmp(const char *name)
{
    static char paths[8][64];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "/tmp/exec_test.%d.%s", (int)getpid(), name);
    return p;
}
#define SCRIPT tmp("script")

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    CHECK(write(fd, text, n) == (ssize_t)n, "write %s: %s", path, strerror(errno));
    close(fd);
    CHECK(chmod(path, mode) == 0, "chmod %s: %s", path, strerror(errno));
}

static long raw_execve(const void *path, const void *argv, const void *envp)
{
    return syscall(SYS_execve, path, argv, envp);
}

static void on_usr1(int s) { (void)s; }

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void *spinner(void *arg)
{
    volatile unsigned long *counter = arg;
    for (;;)
        (*counter)++;
    return NULL;
}

static void stage_errors(void)
{
    char *args[] = {"x", NULL};
    char *env[] = {NULL};

    CHECK_ERRNO(raw_execve("/nonexistent/exec_test", args, env), ENOENT);
    CHECK_ERRNO(raw_execve("/", args, env), EACCES);
    CHECK_ERRNO(raw_execve("", args, env), ENOENT);

    write_file(tmp("noexec"), "#!/proc/self/exe interp\n", 0644);
    CHECK_ERRNO(raw_execve(tmp("noexec"), args, env), EACCES);
    write_file(tmp("garbage"), "\x01\x02\x03 this is not a program\n", 0755);
    CHECK_ERRNO(raw_execve(tmp("garbage"), args, env), ENOEXEC);
    write_file(tmp("empty_shebang"), "#!   \nrest\n", 0755);
    CHECK_ERRNO(raw_execve(tmp("empty_shebang"), args, env), ENOEXEC);
    char loop_line[96];
    snprintf(loop_line, sizeof loop_line, "#!%s\n", tmp("loop"));
    write_file(tmp("loop"), loop_line, 0755);
    CHECK_ERRNO(raw_execve(tmp("loop"), args, env), ELOOP);
    write_file(tmp("missing_interp"), "#!/nonexistent/interpreter -x\n", 0755);
    CHECK_ERRNO(raw_execve(tmp("missing_interp"), args, env), ENOENT);
    const char *made[] = {"noexec", "garbage", "empty_shebang", "loop", "missing_interp"};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        unlink(tmp(made[i]));

    /* One string longer than MAX_ARG_STRLEN (32 pages). */
    size_t big = 33 * 4096;
    char *huge = malloc(big + 1);
    CHECK(huge != NULL, "malloc");
    memset(huge, 'a', big);
    huge[big] = '\0';
    char *one_huge[] = {"x", huge, NULL};
    CHECK_ERRNO(raw_execve("/proc/self/exe", one_huge, env), E2BIG);
    /* Many strings, 8 MB in all: over a quarter of an 8 MiB stack limit (and over
     * Linux's 6 MiB cap when the stack limit is larger). */
    enum { PIECES = 80, PIECE = 100 * 1024 };
    char **many = calloc(PIECES + 2, sizeof *many);
    CHECK(many != NULL, "calloc");
    huge[PIECE] = '\0';
    many[0] = "x";
    for (int i = 1; i <= PIECES; i++)
        many[i] = huge;
    CHECK_ERRNO(raw_execve("/proc/self/exe", many, env), E2BIG);
    free(many);
    free(huge);

    CHECK_ERRNO(raw_execve((const void *)8, args, env), EFAULT);
    CHECK_ERRNO(raw_execve("/proc/self/exe", (const void *)8, env), EFAULT);
    char *bad_string[] = {"x", (char *)8, NULL};
    CHECK_ERRNO(raw_execve("/proc/self/exe", bad_string, env), EFAULT);
    CHECK_ERRNO(raw_execve("/proc/self/exe", args, (const void *)8), EFAULT);
    /* execveat: unknown flags are EINVAL. */
    CHECK_ERRNO(syscall(SYS_execveat, AT_FDCWD, "/proc/self/exe", args, env, 0x4), EINVAL);
}

static void stage_one(void)
{
    stage_errors();

    write_file(tmp("data"), "kept across exec", 0644);
    int fd = open(tmp("data"), O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0, "open %s: %s", tmp("data"), strerror(errno));
    CHECK(dup3(fd, CLOEXEC_FD, O_CLOEXEC) == CLOEXEC_FD, "dup3: %s", strerror(errno));
    CHECK(dup2(fd, KEEP_FD) == KEEP_FD, "dup2: %s", strerror(errno));
    close(fd);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction USR1");
    sa.sa_handler = SIG_IGN;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction USR2");
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask");
    CHECK(raise(SIGUSR1) == 0, "raise");

    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: %s", strerror(errno));

    pthread_t a, b;
    static volatile unsigned long spins;
    CHECK(pthread_create(&a, NULL, sleeper, NULL) == 0, "pthread_create sleeper");
    CHECK(pthread_create(&b, NULL, spinner, (void *)&spins) == 0, "pthread_create spinner");
    while (spins == 0)
        sched_yield();

    /* Round toward zero: exec must give the next image MXCSR's default (0x1F80, round to
     * nearest) back. */
    unsigned int mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    mxcsr |= 0x6000;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));

    char *args[] = {"exec_test", "child", "two words", "", NULL};
    char *env[] = {"EXEC_TEST_A=1", "EXEC_TEST_B=two", NULL};
    execve("/proc/self/exe", args, env);
    fail("execve /proc/self/exe: %s", strerror(errno));
}

static void stage_child(int argc, char **argv)
{
    CHECK(argc == 4, "child argc %d, expected 4", argc);
    CHECK(strcmp(argv[0], "exec_test") == 0 && strcmp(argv[2], "two words") == 0 && argv[3][0] == '\0',
          "child argv wrong: '%s' '%s' '%s'", argv[0], argv[2], argv[3]);
    CHECK(argv[4] == NULL, "argv not NULL-terminated");
    int envc = 0;
    for (char **e = environ; *e; e++)
        envc++;
    CHECK(envc == 2 && strcmp(environ[0], "EXEC_TEST_A=1") == 0 && strcmp(environ[1], "EXEC_TEST_B=two") == 0,
          "child environment wrong (%d entries)", envc);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(execfn != NULL && strcmp(execfn, "/proc/self/exe") == 0, "AT_EXECFN is '%s'", execfn ? execfn : "(null)");
    CHECK(getauxval(AT_RANDOM) != 0, "no AT_RANDOM");
    CHECK(getauxval(AT_PHDR) != 0 && getauxval(AT_ENTRY) != 0, "no AT_PHDR/AT_ENTRY");
    CHECK(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ %lu", getauxval(AT_PAGESZ));

    errno = 0;
    CHECK(fcntl(CLOEXEC_FD, F_GETFD) == -1 && errno == EBADF, "close-on-exec descriptor %d survived exec", CLOEXEC_FD);
    CHECK(fcntl(KEEP_FD, F_GETFD) == 0, "descriptor %d did not survive exec: %s", KEEP_FD, strerror(errno));
    char head[4];
    CHECK(pread(KEEP_FD, head, 4, 0) == 4 && memcmp(head, "kept", 4) == 0, "kept descriptor unreadable");
    unlink(tmp("data"));

    struct sigaction sa;
    CHECK(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL, "caught SIGUSR1 not reset to SIG_DFL");
    CHECK(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN, "ignored SIGUSR2 not kept ignored");
    sigset_t mask, pending;
    CHECK(sigprocmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, SIGUSR1), "blocked mask not kept");
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1), "pending SIGUSR1 lost");
    stack_t ss;
    CHECK(sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE), "alternate signal stack kept");

    unsigned int mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    CHECK((mxcsr & 0x6000) == 0, "MXCSR rounding mode survived exec (MXCSR %#x)", mxcsr);

    /* The old threads are gone: had one survived it would now run in this image. */
    struct timespec pause_time = {0, 50 * 1000 * 1000};
    nanosleep(&pause_time, NULL);

    write_file(SCRIPT, "#!/proc/self/exe interp\nexit 3\n", 0755);
    char *args[] = {"ignored-argv0", "script-arg", NULL};
    char *env[] = {"EXEC_TEST_STAGE=3", NULL};
    execve(SCRIPT, args, env);
    fail("execve %s: %s", SCRIPT, strerror(errno));
}

static void stage_interpreter(int argc, char **argv)
{
    CHECK(argc == 4, "interpreter argc %d, expected 4", argc);
    CHECK(strcmp(argv[0], "/proc/self/exe") == 0, "interpreter argv[0] '%s'", argv[0]);
    CHECK(strcmp(argv[2], SCRIPT) == 0, "script path argument '%s'", argv[2]);
    CHECK(strcmp(argv[3], "script-arg") == 0, "script's own argument '%s'", argv[3]);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(execfn != NULL && strcmp(execfn, SCRIPT) == 0, "AT_EXECFN is '%s'", execfn ? execfn : "(null)");
    CHECK(getenv("EXEC_TEST_STAGE") && strcmp(getenv("EXEC_TEST_STAGE"), "3") == 0, "script environment lost");
    char self[256];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
    self[n] = '\0';
    CHECK(strcmp(self, SCRIPT) != 0, "/proc/self/exe names the script, not its interpreter");
    sigset_t pending;
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1), "pending SIGUSR1 lost on the second exec");
    unlink(SCRIPT);
    pass("three images, errors checked");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "child") == 0)
        stage_child(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "interp") == 0)
        stage_interpreter(argc, argv);
    else
        stage_one();
    return 0;
}
