/*
 * stdin_echo.c — reads fd 0 with read(2) until end of file and reports the byte count and
 * a 32-bit FNV-1a checksum of what it read. With arguments `N` or `N HEX` it also checks
 * the count (and checksum) against them. The runner pipes known input in, so this pins
 * that a pipe's data and its EOF reach the guest.
 * Layer: guest test programs (Guest/); runner: Tests/integration/run.sh.
 */
#include "check.h"

#include <stdint.h>

const char *const test_name = "stdin_echo";

int main(int argc, char **argv)
{
    unsigned char buf[4096];
    uint32_t hash = 2166136261u; /* FNV-1a offset basis */
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n >= 0, "read(0) after %llu bytes: %s", total, strerror(errno));
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            hash ^= buf[i];
            hash *= 16777619u; /* FNV prime */
        }
        total += (unsigned long long)n;
    }
    if (argc >= 2) {
        unsigned long long want = strtoull(argv[1], NULL, 10);
        CHECK(total == want, "read %llu bytes, expected %llu", total, want);
    }
    if (argc >= 3) {
        unsigned long want = strtoul(argv[2], NULL, 16);
        CHECK(hash == want, "checksum %08x, expected %08lx", (unsigned)hash, want);
    }
    return pass("%llu bytes, fnv1a %08x", total, (unsigned)hash);
}
