/*
 * support.c — the one runtime symbol the Embedded Swift guest (hello.swift beside this file)
 * needs that musl does not provide: arc4random_buf, used by Embedded Swift to seed
 * Dictionary/Set hashing. Filled from getrandom(2). Everything else (putchar,
 * posix_memalign, free, memcpy, ...) comes from musl, linked with `musl-gcc -static`.
 * Layer: guest test programs (Guest/); built by Guest/Makefile.
 */
#include <stddef.h>
#include <sys/random.h>
#include <errno.h>
#include <unistd.h>

void arc4random_buf(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            _exit(127); /* no randomness: nothing sensible to return */
        }
        p += n;
        len -= (size_t)n;
    }
}
