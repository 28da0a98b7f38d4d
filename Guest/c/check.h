/*
 * check.h — tiny self-check helpers shared by the C guest test programs (the .c files in Guest/c).
 *
 * Layer: guest test programs. These are ordinary static Linux executables that egg runs
 * under QEMU; Tests/integration/run.sh runs each one natively first and then under egg.
 * Every program prints exactly one verdict line, "PASS <name>" or "FAIL <name>: <why>",
 * and exits 0 only on PASS. The line is written with one write(2) so that nothing is left
 * in a stdio buffer if the program later dies.
 */
#ifndef EGG_GUEST_CHECK_H
#define EGG_GUEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The test name used in the verdict line; each program defines it. */
extern const char *const test_name;

__attribute__((unused))
static void verdict_write(const char *line, size_t len)
{
    while (len > 0) {
        ssize_t n = write(1, line, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return;
        }
        line += n;
        len -= (size_t)n;
    }
}

/* Print "FAIL <name>: <why>" and exit 1. */
__attribute__((noreturn, unused, format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "FAIL %s: ", test_name);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    verdict_write(line, (size_t)n);
    _exit(1);
}

/* Print "PASS <name>" (with an optional detail after a colon) and return 0 for main. */
__attribute__((unused, format(printf, 1, 2)))
static int pass(const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "PASS %s", test_name);
    if (fmt != NULL && fmt[0] != '\0') {
        n += snprintf(line + n, sizeof line - (size_t)n, ": ");
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        va_end(ap);
    }
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    verdict_write(line, (size_t)n);
    return 0;
}

/* CHECK(cond, fmt, ...): fail with the message unless cond holds. */
#define CHECK(cond, ...)      \
    do {                      \
        if (!(cond))          \
            fail(__VA_ARGS__); \
    } while (0)

/* CHECK_ERRNO(call, err): the call must return -1 with errno == err. */
#define CHECK_ERRNO(call, err)                                                          \
    do {                                                                                \
        errno = 0;                                                                      \
        long check_rc_ = (long)(call);                                                  \
        int check_errno_ = errno;                                                       \
        CHECK(check_rc_ == -1 && check_errno_ == (err),                                 \
              "%s: expected -1/%s, got %ld/errno %d (%s)", #call, #err, check_rc_,      \
              check_errno_, strerror(check_errno_));                                    \
    } while (0)

#endif
