/*
 * signals.c — signal delivery as Linux does it: a SIGSEGV handler that recovers with
 * siglongjmp and sees the faulting address, raise() running a handler with SA_SIGINFO,
 * a handler on an alternate stack, a blocked signal staying pending until unblocked, a
 * signal sent to another thread with pthread_kill, SIG_IGN, and the handler's mask.
 * Layer: guest test programs.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include "check.h"

const char *const test_name = "signals";

static sigjmp_buf recover;
static volatile void *fault_address;
static volatile int last_signal, last_code;
static volatile uintptr_t handler_stack;
static volatile int usr2_blocked_in_handler;

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    last_signal = sig;
    fault_address = info->si_addr;
    siglongjmp(recover, 1);
}

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    int probe;
    last_signal = sig;
    last_code = info->si_code;
    handler_stack = (uintptr_t)&probe;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    usr2_blocked_in_handler = sigismember(&now, SIGUSR2);
}

static volatile int thread_got;
static void on_usr2(int sig) { thread_got = sig; }

static void *sleeper(void *arg)
{
    (void)arg;
    while (!thread_got) {
        struct timespec t = {0, 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction SIGSEGV");
    if (sigsetjmp(recover, 1) == 0) {
        volatile int *volatile bad = (volatile int *)0x20;
        *bad = 1;
        fail("the store to 0x20 did not fault");
    }
    CHECK(last_signal == SIGSEGV, "handler saw signal %d", last_signal);
    CHECK(fault_address == (void *)0x20, "si_addr %p, expected 0x20", fault_address);

    /* raise() → SIGUSR1 handler with SA_SIGINFO; its sa_mask (SIGUSR2) is blocked inside. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");
    last_signal = 0;
    raise(SIGUSR1);
    CHECK(last_signal == SIGUSR1, "raise: handler saw %d", last_signal);
    CHECK(last_code == SI_TKILL || last_code == SI_USER, "si_code %d", last_code);
    CHECK(usr2_blocked_in_handler == 1, "sa_mask not applied inside the handler");

    /* The same handler on an alternate stack. */
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: %s", strerror(errno));
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SA_ONSTACK");
    raise(SIGUSR1);
    CHECK(handler_stack >= (uintptr_t)altstack && handler_stack < (uintptr_t)altstack + sizeof altstack,
          "handler ran at %#lx, not on the alternate stack", (unsigned long)handler_stack);

    /* Blocked: pending, delivered at unblock. */
    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    last_signal = 0;
    raise(SIGUSR1);
    CHECK(last_signal == 0, "a blocked signal was delivered");
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGUSR1) == 1, "SIGUSR1 not pending while blocked");
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    CHECK(last_signal == SIGUSR1, "unblocking did not deliver the pending signal");

    /* SIG_IGN drops the signal. */
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);

    /* To another thread. */
    signal(SIGUSR2, on_usr2);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0, "pthread_create");
    CHECK(pthread_kill(t, SIGUSR2) == 0, "pthread_kill");
    pthread_join(t, NULL);
    CHECK(thread_got == SIGUSR2, "the other thread saw %d", thread_got);
    return pass("segv handler, siginfo, altstack, pending, ignore, pthread_kill");
}
