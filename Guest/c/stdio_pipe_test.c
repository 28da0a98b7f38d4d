/*
 * stdio_pipe_test.c — copies standard input to standard output byte for byte (64 KiB
 * read(2)/write(2) at a time) and checks that descriptors 0, 1 and 2 are not terminals
 * when the runner gives pipes or files: isatty(3) is false and TCGETS fails with ENOTTY
 * (ioctl_tty(2)). The verdict goes to standard error, because standard output carries the
 * data the runner compares by SHA-256 — so a stderr line that leaked into stdout also
 * fails the comparison. Binary-safe: 0x04 and NUL bytes are data like any other.
 * Layer: guest test programs (Guest/); runner: Tests/integration/stdio.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static char verdict[256];

static int say(int status, const char *text)
{
    size_t n = (size_t)snprintf(verdict, sizeof verdict, "%s stdio_pipe_test%s\n", status ? "FAIL" : "PASS", text);
    if (write(2, verdict, n) < 0)
        return 1;
    return status;
}

int main(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        struct termios t;
        if (isatty(fd)) {
            char why[64];
            snprintf(why, sizeof why, ": fd %d is a terminal", fd);
            return say(1, why);
        }
        errno = 0;
        if (ioctl(fd, TCGETS, &t) == 0 || errno != ENOTTY) {
            char why[64];
            snprintf(why, sizeof why, ": TCGETS on fd %d: %s", fd, strerror(errno));
            return say(1, why);
        }
    }
    static unsigned char buffer[65536];
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return say(1, ": read(0) failed");
        if (n == 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buffer + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return say(1, ": write(1) failed");
            done += w;
        }
        total += (unsigned long long)n;
    }
    char text[64];
    snprintf(text, sizeof text, ": %llu bytes copied", total);
    return say(0, text);
}
