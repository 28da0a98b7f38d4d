/*
 * tty_raw.c — raw mode on a terminal: tcgetattr sees a cooked terminal (ICANON, ECHO,
 * ISIG, VERASE DEL), tcsetattr switches to raw mode (no ICANON/ECHO/ISIG/IEXTEN, no
 * ICRNL/IXON, VMIN 1 VTIME 0), and single-byte reads then return the typed bytes unchanged:
 * 'q', DEL, ^C and CR (no erase, no SIGINT, no CR→NL). Then VMIN 0 VTIME 2 makes a read
 * with nothing typed return 0 after about 0.2 s, and the saved settings come back.
 *
 * Layer: guest test programs (Guest/c). Driven by Tests/integration/tty.sh, which runs it
 * under a pseudo-terminal natively and under egg, types the four bytes after the "ready"
 * line and checks the verdict. With stdin not a terminal (the native piped run) it checks
 * that tcgetattr fails with ENOTTY and says the raw part was not run.
 */
#include "check.h"

#include <termios.h>
#include <time.h>

const char *const test_name = "tty_raw";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    struct termios saved, raw, check;
    if (!isatty(0)) {
        CHECK(tcgetattr(0, &saved) < 0 && errno == ENOTTY, "tcgetattr on a non-terminal: %s", strerror(errno));
        return pass("stdin is not a terminal, raw mode not checked");
    }
    CHECK(tcgetattr(0, &saved) == 0, "tcgetattr: %s", strerror(errno));
    CHECK((saved.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG), "not cooked: c_lflag %#o",
          (unsigned)saved.c_lflag);
    CHECK(saved.c_cc[VERASE] == 0x7f && saved.c_cc[VINTR] == 3 && saved.c_cc[VEOF] == 4,
          "control characters %#x %#x %#x", saved.c_cc[VERASE], saved.c_cc[VINTR], saved.c_cc[VEOF]);

    raw = saved;
    raw.c_iflag &= ~(tcflag_t)(ICRNL | INLCR | IGNCR | IXON | ISTRIP);
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    CHECK(tcsetattr(0, TCSAFLUSH, &raw) == 0, "tcsetattr raw: %s", strerror(errno));
    CHECK(tcgetattr(0, &check) == 0 && !(check.c_lflag & ICANON) && check.c_cc[VMIN] == 1,
          "raw settings did not stick");

    static const char ready[] = "tty_raw: ready\n";
    verdict_write(ready, sizeof ready - 1);
    static const unsigned char want[4] = {'q', 0x7f, 0x03, '\r'};
    for (int i = 0; i < 4; i++) {
        unsigned char c;
        ssize_t n;
        do n = read(0, &c, 1); while (n < 0 && errno == EINTR);
        if (n != 1 || c != want[i]) {
            tcsetattr(0, TCSANOW, &saved);
            fail("byte %d: read returned %zd, byte %#x, expected %#x", i, n, n == 1 ? c : 0, want[i]);
        }
    }

    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 2;
    CHECK(tcsetattr(0, TCSANOW, &raw) == 0, "tcsetattr VTIME: %s", strerror(errno));
    double start = now();
    char c;
    ssize_t n = read(0, &c, 1);
    double waited = now() - start;
    CHECK(tcsetattr(0, TCSANOW, &saved) == 0, "tcsetattr restore: %s", strerror(errno));
    CHECK(n == 0, "VMIN 0 VTIME 2 read with nothing typed returned %zd", n);
    CHECK(waited >= 0.15 && waited < 5, "VTIME 2 waited %.3f s", waited);
    CHECK(tcgetattr(0, &check) == 0 && (check.c_lflag & ICANON) && (check.c_lflag & ECHO), "not restored");
    return pass("q 7f 03 0d read raw, VTIME timeout after %.2f s, cooked mode restored", waited);
}
