#!/usr/bin/env python3
# winsize_pty.py — runs a command with stdin and stdout on a new pseudo-terminal of
# ROWS x COLS and prints what it wrote (Tests/integration/stdio.sh's window-size case).
# Usage: winsize_pty.py ROWS COLS COMMAND...; exit status: the command's.
import fcntl, os, pty, struct, sys, termios

rows, cols = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    # Set in the child, on its terminal, before the command starts: no race with it.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.execvp(sys.argv[3], sys.argv[3:])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
