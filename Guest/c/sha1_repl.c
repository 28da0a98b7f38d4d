/*
 * sha1_repl.c — the REPL example: reads lines from standard input and prints the SHA-1 of
 * each (without its newline) as 40 hex digits, then one verdict line.
 *
 * Layer: guest programs (Guest/c, built by Guest/Makefile). Tests/integration/run.sh pipes
 * the same input into the native run and into egg and compares the output byte for byte;
 * the program first checks its SHA-1 against the FIPS 180-4 examples ("abc" and the empty
 * string). SHA-1 is written here from FIPS 180-4 §6.1 (no library).
 */
#include "check.h"
#include <stdint.h>

const char *const test_name = "sha1_repl";

struct sha1 {
    uint32_t h[5];
    uint64_t length;
    unsigned char block[64];
    size_t used;
};

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(struct sha1 *s, const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6; }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d; d = c; c = rol(b, 30); b = a; a = t;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
    static const uint32_t init[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(s->h, init, sizeof init);
    s->length = 0;
    s->used = 0;
}

static void sha1_update(struct sha1 *s, const unsigned char *p, size_t n)
{
    s->length += n;
    while (n > 0) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) {
            sha1_block(s, s->block);
            s->used = 0;
        }
    }
}

static void sha1_hex(struct sha1 *s, char out[41])
{
    uint64_t bits = s->length * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    sha1_update(s, &pad, 1);
    while (s->used != 56)
        sha1_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(s, len, 8);
    for (int i = 0; i < 5; i++)
        snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

static void digest(const char *text, size_t n, char out[41])
{
    struct sha1 s;
    sha1_init(&s);
    sha1_update(&s, (const unsigned char *)text, n);
    sha1_hex(&s, out);
}

int main(void)
{
    char hex[41];
    digest("abc", 3, hex);
    if (strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d") != 0)
        fail("SHA-1(\"abc\") = %s", hex);
    digest("", 0, hex);
    if (strcmp(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709") != 0)
        fail("SHA-1(\"\") = %s", hex);

    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\n')
            n--;
        digest(line, n, hex);
        printf("%s\n", hex);
        lines++;
    }
    if (ferror(stdin))
        fail("reading stdin: %s", strerror(errno));
    fflush(stdout);
    return pass("%d lines", lines);
}
