/*
 * sha1.h — a small SHA-1 (FIPS 180-4 §6.1) for the CPU-bound benchmark in bench.c.
 * Layer: guest programs (Guest/bench). Written for this project; not for security use.
 */
#ifndef EGG_BENCH_SHA1_H
#define EGG_BENCH_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct sha1 {
    uint32_t h[5];        /* the running hash H0..H4 */
    uint64_t length;      /* message bytes so far */
    uint8_t block[64];    /* a partial block */
    size_t used;          /* bytes in block */
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *data, size_t count);
void sha1_final(struct sha1 *s, uint8_t digest[20]);
void sha1_hex(const uint8_t digest[20], char hex[41]);

#endif
