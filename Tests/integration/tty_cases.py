#!/usr/bin/env python3
"""Tests/integration/tty_cases.py — the console as a terminal, driven like a person at a
keyboard: each program runs under a pseudo-terminal (python's pty), natively and under egg,
and the test types into it.

Layer: tests. Called by Tests/integration/tty.sh (which checks what it needs and passes the
paths); prints one "STATUS name detail" line per case and returns 1 if any case failed.

Cases (the kernel side is Sources/KernelCore/Devices/Terminal.swift and ConsoleTerminal.swift):
  tty-echo-backspace   sha1_repl: "abc", DEL, "d", Enter, ^D — the echo ("abc\\b \\bd") and the
                       SHA-1 of "abd", byte for byte what the same program prints natively
  tty-raw              tty_raw: tcsetattr raw mode, single-byte reads of q DEL ^C CR, VTIME
  tty-ctrl-c           ^C in sha1_repl: SIGINT, egg exits 130 (natively the program dies of
                       signal 2), "^C" echoed
  tty-piped            piped input reaches the program unchanged, no echo (CR, DEL, ^U, ^C as
                       data), compared with the native run
  tty-keyboard         the REPL from the PS/2 keyboard: QEMU's monitor `sendkey` types
                       "Abc", Backspace, "d", Enter, Ctrl-D; echo and SHA-1 on the serial line
  tty-job-control      interactive busybox sh: `sleep 100 &`, `jobs`, `fg` then ^Z (the
                       foreground group stops, the shell takes the terminal back), `bg`,
                       `kill %1`; the shell's reports (Running, Stopped, Terminated) natively
                       and under egg
  tty-winch-sigterm    winch_test on a 30x100 terminal: the terminal is resized to 41x120 from
                       the master side (the way tmux or a terminal window does), the program
                       gets SIGWINCH and reads 41x120; then `kill -TERM` of the process (egg)
                       runs its SIGTERM handler and its PASS line and status 0 come back
"""
import fcntl
import struct
import hashlib
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import termios
import time

EGG = os.environ.get("EGG", ".build/release/egg")
GUEST = os.environ.get("GUEST", "build/guest")
WORK = os.environ.get("WORK", "build/integration/tty")
QEMU = os.environ.get("EGG_QEMU", "qemu-system-x86_64")
LIMIT = 60
EGG_RUN = [EGG, "run", "--accel", "tcg", "--timeout", str(LIMIT)]

results = []


def report(status, name, detail):
    results.append(status)
    print(f"{status:<5} {name:<22} {detail}", flush=True)


class Session:
    """A program on the slave side of a new pseudo-terminal; we hold the master."""

    def __init__(self, argv, env=None, size=None):
        self.started = time.time()
        self.out = b""
        self.status = None
        self.closed = False
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                if size:  # set on the child's own terminal before the program starts: no race
                    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
                if env:
                    os.environ.update(env)
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)

    def pump(self, seconds):
        end = time.time() + seconds
        while not self.closed:
            left = end - time.time()
            if left <= 0:
                return
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    self.closed = True
                    return
                self.out += data

    def wait_for(self, text, timeout=LIMIT):
        end = time.time() + timeout
        while text not in self.out and time.time() < end and not self.closed:
            self.pump(0.1)
        return text in self.out

    def wait_until_raw(self, timeout=LIMIT):
        """QEMU puts its stdio terminal in raw mode when it starts: typing earlier would be
        echoed and edited by the host's own line discipline instead of the guest's."""
        end = time.time() + timeout
        while time.time() < end and not self.closed:
            try:
                if not termios.tcgetattr(self.fd)[3] & termios.ICANON:
                    return True
            except termios.error:
                pass
            self.pump(0.05)
        return False

    def send(self, data):
        os.write(self.fd, data)

    def finish(self, timeout=LIMIT):
        """Read to the end, reap the child; returns ("exit", n) or ("signal", n)."""
        end = time.time() + timeout
        while time.time() < end:
            self.pump(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pump(0.2)
                self.status = status
                break
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            _, self.status = os.waitpid(self.pid, 0)
            self.out += b"\n[killed after the time limit]"
        os.close(self.fd)
        if os.WIFSIGNALED(self.status):
            return ("signal", os.WTERMSIG(self.status))
        return ("exit", os.WEXITSTATUS(self.status))

    def elapsed(self):
        return f"{time.time() - self.started:.1f}s"


def save(name, data):
    with open(os.path.join(WORK, name), "wb") as f:
        f.write(data)


def sha1_line(text):
    return hashlib.sha1(text.encode()).hexdigest().encode()


# ---- typing "abc", DEL, "d", Enter into the SHA-1 REPL --------------------------------------
def echo_backspace():
    name = "tty-echo-backspace"
    outputs = {}
    for where, argv in (("native", [f"{GUEST}/sha1_repl-musl"]), ("egg", EGG_RUN + [f"{GUEST}/sha1_repl-musl"])):
        s = Session(argv)
        if where == "egg":
            s.wait_until_raw()
            s.pump(1.0)  # the guest boots
        for chunk in (b"abc", b"\x7f", b"d", b"\r"):
            s.send(chunk)
            s.pump(0.2)
        s.wait_for(sha1_line("abd"), 30)
        s.send(b"\x04")
        outcome = s.finish()
        save(f"echo-backspace.{where}.out", s.out)
        outputs[where] = (outcome, s.out, s.elapsed())
    expected = b"abc\b \bd\r\n" + sha1_line("abd") + b"\r\nPASS sha1_repl: 1 lines\r\n"
    (native_outcome, native_out, _), (egg_outcome, egg_out, t) = outputs["native"], outputs["egg"]
    if native_outcome != ("exit", 0) or native_out != expected:
        report("FAIL", name, f"natively: {native_outcome}, output {native_out!r} (expected {expected!r})")
    elif egg_outcome != ("exit", 0):
        report("FAIL", name, f"egg: {egg_outcome}, output {egg_out!r}")
    elif egg_out != native_out:
        report("FAIL", name, f"egg printed {egg_out!r}, Linux {native_out!r}")
    else:
        report("PASS", name, f"{t}, echo and SHA-1 of 'abd' as on Linux")


# ---- raw mode --------------------------------------------------------------------------------
def raw_mode():
    name = "tty-raw"
    for where, argv in (("native", [f"{GUEST}/tty_raw-musl"]), ("egg", EGG_RUN + [f"{GUEST}/tty_raw-musl"])):
        s = Session(argv)
        if not s.wait_for(b"tty_raw: ready", 45):
            s.finish(5)
            save(f"raw.{where}.out", s.out)
            report("FAIL", name, f"{where}: no ready line: {s.out[-200:]!r}")
            return
        s.send(b"q\x7f\x03\r")
        outcome = s.finish()
        save(f"raw.{where}.out", s.out)
        after = s.out.split(b"tty_raw: ready", 1)[1]
        if outcome != ("exit", 0) or b"PASS tty_raw" not in after:
            report("FAIL", name, f"{where}: {outcome}, output {s.out[-300:]!r}")
            return
        if b"q" in after.split(b"PASS")[0] or b"^C" in after:
            report("FAIL", name, f"{where}: raw mode echoed: {after!r}")
            return
        detail = after.decode(errors="replace").strip().splitlines()[-1]
    report("PASS", name, f"{s.elapsed()}, {detail}")


# ---- ^C -----------------------------------------------------------------------------------------
def ctrl_c():
    name = "tty-ctrl-c"
    s = Session([f"{GUEST}/sha1_repl-musl"])
    s.send(b"xy")
    s.pump(0.3)
    s.send(b"\x03")
    native = s.finish(20)
    if native != ("signal", 2):
        report("FAIL", name, f"natively: {native}, expected death by SIGINT")
        return
    s = Session(EGG_RUN + [f"{GUEST}/sha1_repl-musl"])
    s.wait_until_raw()
    s.pump(1.0)
    s.send(b"xy")
    s.pump(0.5)
    s.send(b"\x03")
    outcome = s.finish()
    save("ctrl-c.egg.out", s.out)
    if outcome != ("exit", 130):
        report("FAIL", name, f"egg: {outcome}, expected exit 130; output {s.out!r}")
    elif not s.out.startswith(b"xy^C"):
        report("FAIL", name, f"echo {s.out[:40]!r}, expected 'xy^C' first")
    else:
        report("PASS", name, f"{s.elapsed()}, SIGINT, exit 130, 'xy^C' echoed")


# ---- piped input -----------------------------------------------------------------------------
def piped():
    name = "tty-piped"
    data = b"plain line\ncr\rinside\nerase\x7f kill\x15 word\x17 intr\x03 quit\x1c\nlast line without newline"
    cases = [("stdin_echo", data), ("sha1_repl", b"abc\n\nhello world\n")]
    t = time.time()
    for program, stdin in cases:
        native = subprocess.run([f"{GUEST}/{program}-musl"], input=stdin, capture_output=True, timeout=30)
        egg = subprocess.run(EGG_RUN + [f"{GUEST}/{program}-musl"], input=stdin, capture_output=True, timeout=LIMIT + 10)
        save(f"piped.{program}.egg.out", egg.stdout)
        if native.returncode != 0 or egg.returncode != 0 or native.stdout != egg.stdout:
            report("FAIL", name, f"{program}: native {native.returncode} {native.stdout!r}, "
                                 f"egg {egg.returncode} {egg.stdout!r}")
            return
    report("PASS", name, f"{time.time() - t:.1f}s, control bytes in a pipe arrive unchanged, no echo")


# ---- the REPL from the PS/2 keyboard ---------------------------------------------------------
def monitor_command(sock_path, commands, pause=0.15):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.settimeout(5)
    time.sleep(0.2)
    for c in commands:
        s.send(c.encode() + b"\n")
        time.sleep(pause)
    time.sleep(0.3)
    s.close()


def keyboard():
    name = "tty-keyboard"
    sock = os.path.join(WORK, "monitor.sock")
    wrapper = os.path.join(WORK, "qemu-with-monitor")
    if os.path.exists(sock):
        os.unlink(sock)
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\n# QEMU as egg starts it, plus a monitor for sendkey\n"
                f"exec {QEMU} \"$@\" -monitor unix:{sock},server,nowait\n")
    os.chmod(wrapper, 0o755)
    s = Session(EGG_RUN + [f"{GUEST}/sha1_repl-musl"], env={"EGG_QEMU": wrapper})
    s.wait_until_raw()
    end = time.time() + 30
    while not os.path.exists(sock) and time.time() < end:
        s.pump(0.1)
    s.pump(1.5)  # the guest boots
    if not os.path.exists(sock):
        s.finish(5)
        report("FAIL", name, f"no QEMU monitor socket; output {s.out!r}")
        return
    monitor_command(sock, ["sendkey shift-a", "sendkey b", "sendkey c", "sendkey backspace", "sendkey d",
                           "sendkey ret"])
    found = s.wait_for(sha1_line("Abd"), 30)
    monitor_command(sock, ["sendkey ctrl-d"])
    outcome = s.finish()
    save("keyboard.egg.out", s.out)
    expected = b"Abc\b \bd\r\n" + sha1_line("Abd") + b"\r\nPASS sha1_repl: 1 lines\r\n"
    if not found:
        report("FAIL", name, f"no SHA-1 of 'Abd' on the serial console: {s.out!r}")
    elif outcome != ("exit", 0) or s.out != expected:
        report("FAIL", name, f"{outcome}, output {s.out!r}, expected {expected!r}")
    else:
        report("PASS", name, f"{s.elapsed()}, typed on the PS/2 keyboard: echo and SHA-1 of 'Abd'")


# ---- busybox sh job control ------------------------------------------------------------------
BUSYBOX = os.environ.get("BUSYBOX", "/bin/busybox")


def job_control():
    name = "tty-job-control"
    if not os.access(BUSYBOX, os.X_OK):
        report("FAIL", name, f"{BUSYBOX} missing")
        return
    root = os.path.join(WORK, "jobroot")
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    subprocess.run(["cp", BUSYBOX, os.path.join(root, "bin", "busybox")], check=True)
    for applet in ("sh", "sleep"):
        link = os.path.join(root, "bin", applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    # Each step: what to type, then what the shell must print before the next one.
    steps = [(b"sleep 100 &\r", b"$ "), (b"jobs\r", b"Running"), (b"fg\r", b"sleep 100"),
             (b"\x1a", b"Stopped"), (b"bg\r", b"$ "), (b"jobs\r", b"Running"),
             (b"kill %1\r", b"$ "), (b"jobs\r", b"$ "), (b"echo job-control-done\r", b"job-control-done\r\n")]
    env = {"PS1": "$ ", "PATH": "/bin", "ENV": ""}
    native = [BUSYBOX, "sh", "-i"]
    egg = EGG_RUN + ["-e", "PS1=$ ", "-e", "PATH=/bin", "--files", root, BUSYBOX, "--", "sh", "-i"]
    for where, argv in (("native", native), ("egg", egg)):
        s = Session(argv, env=env if where == "native" else None)
        if where == "egg":
            s.wait_until_raw()
        ok = s.wait_for(b"$ ", 60)
        failed_step = None if ok else "the first prompt"
        for typed, expected in steps:
            if failed_step:
                break
            mark = len(s.out)
            s.send(typed)
            end = time.time() + 40
            while expected not in s.out[mark:] and time.time() < end and not s.closed:
                s.pump(0.1)
            if expected not in s.out[mark:]:
                failed_step = f"{typed!r} (waiting for {expected!r})"
            elif expected == b"Stopped" or typed.startswith(b"fg"):
                s.pump(0.5)
        s.send(b"exit\r")
        outcome = s.finish(20)
        save(f"job-control.{where}.out", s.out)
        if failed_step:
            report("FAIL", name, f"{where}: no answer to {failed_step}; output {s.out[-400:]!r}")
            return
        # ash reports the killed job at the prompt after `kill` or at the `jobs` after it.
        if b"Terminated" not in s.out.split(b"kill %1", 1)[-1]:
            report("FAIL", name, f"{where}: the killed job was never reported Terminated; output {s.out[-300:]!r}")
            return
        if where == "egg" and outcome != ("exit", 0):
            report("FAIL", name, f"egg: {outcome} after exit; output {s.out[-300:]!r}")
            return
    report("PASS", name, f"{s.elapsed()}, &, jobs, fg, ^Z (Stopped), bg, kill %1 (Terminated) as natively")
# ---- resize, then SIGTERM -------------------------------------------------------------------
def winch_sigterm():
    name = "tty-winch-sigterm"
    program = f"{GUEST}/winch_test-musl"
    if not os.path.exists(program):
        report("FAIL", name, f"{program} missing (make all)")
        return
    for where, argv in (("native", [program]), ("egg", EGG_RUN + [program])):
        s = Session(argv, size=(30, 100))
        if not s.wait_for(b"winch_test: ready", 60):
            s.finish(5)
            save(f"winch.{where}.out", s.out)
            report("FAIL", name, f"{where}: no ready line: {s.out[-300:]!r}")
            return
        if b"ready 30x100" not in s.out:
            s.finish(5)
            report("FAIL", name, f"{where}: started with the wrong size: {s.out[-300:]!r}")
            return
        s.pump(0.5)
        # TIOCSWINSZ on the master: the kernel's pty_resize sends SIGWINCH to the foreground
        # process group of the terminal (egg and QEMU here; egg forwards it to the guest).
        fcntl.ioctl(s.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 41, 120, 0, 0))
        resized = s.wait_for(b"resized 41x120", 30)
        s.pump(0.3)
        os.kill(s.pid, signal.SIGTERM)
        outcome = s.finish()
        save(f"winch.{where}.out", s.out)
        if not resized:
            report("FAIL", name, f"{where}: no SIGWINCH with 41x120 seen: {s.out[-300:]!r}")
            return
        if outcome != ("exit", 0) or b"PASS winch_test" not in s.out:
            report("FAIL", name, f"{where}: {outcome} after SIGTERM, output {s.out[-300:]!r}")
            return
    report("PASS", name, f"{s.elapsed()}, SIGWINCH with 41x120 and the SIGTERM handler ran, natively and under egg")


def main():
    os.makedirs(WORK, exist_ok=True)
    wanted = sys.argv[1:]
    for name, case in (("tty-echo-backspace", echo_backspace), ("tty-raw", raw_mode), ("tty-ctrl-c", ctrl_c),
                       ("tty-piped", piped), ("tty-keyboard", keyboard),
                       ("tty-job-control", job_control), ("tty-winch-sigterm", winch_sigterm)):
        if wanted and not any(w in name for w in wanted):
            continue
        try:
            case()
        except Exception as error:  # a broken case must not hide the others
            report("FAIL", name, f"exception: {error!r}")
    failed = results.count("FAIL")
    print(f"tty: {results.count('PASS')} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
