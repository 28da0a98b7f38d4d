/*
 * sha1.c — SHA-1 following FIPS 180-4: §5.1.1 padding, §6.1.2 the 80-round compression with
 * the message schedule kept in a 16-word ring. Layer: guest programs (Guest/bench); used by
 * bench.c for the CPU-bound comparison (same code natively, under egg, in the Linux VM).
 */
#include "sha1.h"

#include <string.h>

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void compress(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[16];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        if (t >= 16)
            w[t & 15] = rotl(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);          /* Ch */
            k = 0x5a827999;
        } else if (t < 40) {
            f = b ^ c ^ d;                   /* Parity */
            k = 0x6ed9eba1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d); /* Maj */
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t temp = rotl(a, 5) + f + e + k + w[t & 15];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sha1_init(struct sha1 *s)
{
    static const uint32_t initial[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
    memcpy(s->h, initial, sizeof initial);
    s->length = 0;
    s->used = 0;
}

void sha1_update(struct sha1 *s, const void *data, size_t count)
{
    const uint8_t *p = data;
    s->length += count;
    if (s->used > 0) {
        size_t take = 64 - s->used < count ? 64 - s->used : count;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        count -= take;
        if (s->used < 64)
            return;
        compress(s->h, s->block);
        s->used = 0;
    }
    for (; count >= 64; p += 64, count -= 64)
        compress(s->h, p);
    memcpy(s->block, p, count);
    s->used = count;
}

void sha1_final(struct sha1 *s, uint8_t digest[20])
{
    uint64_t bits = s->length * 8;
    uint8_t pad[72] = { 0x80 };
    size_t padding = (s->used < 56 ? 56 : 120) - s->used;  /* 0x80, zeros, to 56 mod 64 */
    uint8_t length[8];
    for (int i = 0; i < 8; i++)
        length[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(s, pad, padding);
    sha1_update(s, length, 8);
    for (int i = 0; i < 20; i++)
        digest[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void sha1_hex(const uint8_t digest[20], char hex[41])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[40] = 0;
}
