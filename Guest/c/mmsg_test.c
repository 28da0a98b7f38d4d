/*
 * mmsg_test.c — sendmmsg(2) and recvmmsg(2) on UDP loopback and AF_UNIX datagram sockets,
 * self-checking (guest test program).
 *
 * Layer: guest test programs (Guest/c, built by Guest/Makefile, run natively and under egg by
 * Tests/integration/run.sh). Under egg the calls land in
 * Sources/KernelCore/Sockets/MultipleMessages.swift; natively in Linux's net/socket.c.
 * Covers: msg_len filled per message, datagram boundaries, MSG_WAITFORONE returning what is
 * there, MSG_DONTWAIT with nothing queued (EAGAIN), the timeout written back, and the sender
 * address per message. Prints one verdict line.
 */
#define _GNU_SOURCE
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

const char *const test_name = "mmsg_test";

static void exchange(int tx, int rx, const struct sockaddr *to, socklen_t tolen, const char *kind)
{
    const char *words[3] = { "one", "three", "seventeen" };
    struct iovec iov[3];
    struct mmsghdr out[3];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) {
        iov[i] = (struct iovec){ (void *)words[i], strlen(words[i]) };
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_name = (void *)to;
        out[i].msg_hdr.msg_namelen = tolen;
    }
    CHECK(sendmmsg(tx, out, 3, 0) == 3, "%s sendmmsg: %s", kind, strerror(errno));
    for (int i = 0; i < 3; i++) CHECK(out[i].msg_len == strlen(words[i]), "%s msg_len %u", kind, out[i].msg_len);

    char bufs[5][32];
    struct iovec riov[5];
    struct mmsghdr in[5];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 5; i++) {
        riov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
        in[i].msg_hdr.msg_iov = &riov[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    /* A blocking socket: MSG_WAITFORONE returns the three queued without waiting for five. */
    int n = recvmmsg(rx, in, 5, MSG_WAITFORONE, NULL);
    CHECK(n == 3, "%s recvmmsg WAITFORONE got %d: %s", kind, n, strerror(errno));
    for (int i = 0; i < 3; i++)
        CHECK(in[i].msg_len == strlen(words[i]) && memcmp(bufs[i], words[i], in[i].msg_len) == 0,
              "%s message %d", kind, i);
    CHECK_ERRNO(recvmmsg(rx, in, 5, MSG_DONTWAIT, NULL), EAGAIN);

    /* A timeout: checked between datagrams, the time left written back. */
    CHECK(sendmmsg(tx, out, 2, 0) == 2, "%s sendmmsg 2", kind);
    struct timespec t = { 5, 0 };
    n = recvmmsg(rx, in, 2, 0, &t);
    CHECK(n == 2, "%s recvmmsg with timeout got %d: %s", kind, n, strerror(errno));
    CHECK(t.tv_sec <= 5 && t.tv_sec >= 0, "%s timeout not written back: %ld", kind, (long)t.tv_sec);
}

int main(void)
{
    int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    CHECK(bind(rx, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(rx, (struct sockaddr *)&a, &len) == 0, "udp bind");
    exchange(tx, rx, (struct sockaddr *)&a, sizeof a, "udp");
    close(rx);
    close(tx);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
    exchange(sv[0], sv[1], NULL, 0, "unix");
    close(sv[0]);
    close(sv[1]);
    return pass(NULL);
}
