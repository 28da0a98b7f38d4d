/*
 * winsize_test.c — the terminal size a program sees: `winsize_test ROWS COLS` passes when
 * stdout is a terminal whose TIOCGWINSZ is ROWSxCOLS; `winsize_test pipe` passes when
 * stdout is not a terminal and TIOCGWINSZ fails with ENOTTY (tty_ioctl(4)).
 * Tests/integration/stdio.sh runs it under a pseudo-terminal of a chosen size, natively and
 * under egg (egg passes its own terminal's size: Sources/EggHost/ConsoleMode.swift).
 *
 * Layer: guest test programs (check.h).
 */
#include "check.h"

#include <sys/ioctl.h>

const char *const test_name = "winsize_test";

int main(int argc, char **argv)
{
    struct winsize w;
    memset(&w, 0, sizeof w);
    if (argc == 2 && strcmp(argv[1], "pipe") == 0) {
        if (isatty(1))
            fail("stdout is a terminal");
        if (ioctl(1, TIOCGWINSZ, &w) == 0)
            fail("TIOCGWINSZ on a pipe succeeded (%dx%d)", w.ws_row, w.ws_col);
        if (errno != ENOTTY)
            fail("TIOCGWINSZ on a pipe: %s, want ENOTTY", strerror(errno));
        return pass("pipe");
    }
    if (argc != 3)
        fail("usage: winsize_test ROWS COLS | pipe");
    if (!isatty(1))
        fail("stdout is not a terminal");
    if (ioctl(1, TIOCGWINSZ, &w) != 0)
        fail("TIOCGWINSZ: %s", strerror(errno));
    if (w.ws_row != atoi(argv[1]) || w.ws_col != atoi(argv[2]))
        fail("size %dx%d, want %sx%s", w.ws_row, w.ws_col, argv[1], argv[2]);
    return pass("%dx%d", w.ws_row, w.ws_col);
}
