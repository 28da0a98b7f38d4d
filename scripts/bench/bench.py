#!/usr/bin/env python3
"""bench.py — `make bench`: egg side by side with its baselines, measured in one run.

Layer: build tooling (called by scripts/bench/bench.sh, which builds Guest/bench first).
Neighbours: Guest/bench/bench.c (the benchmark program: prints `BENCH name value unit` lines
natively, under egg and as /init of a Linux VM), Guest/bench/empty-kernel.S (QEMU's own
start cost), the egg CLI (.build/release/egg) and kernel (build/kernel/kernel.elf).

Baselines:
  native     the same static binary on this machine
  Linux VM   the same binary as /init of Debian's linux-image-amd64 kernel (downloaded with
             `apt-get download`, only /boot/vmlinuz-* extracted into build/bench/linux/) and an
             initramfs written here (newc cpio: /dev, /dev/console, /init), booted with egg's
             QEMU flags. bench.c powers the VM off when it is PID 1; the hello guest exits, the
             kernel panics and `panic=-1` + `-no-reboot` end QEMU.
  empty      Guest/bench/empty-kernel.S, a multiboot kernel whose first instruction writes to
             isa-debug-exit: QEMU start + firmware + loader + exit, nothing else.

HTTP: wrk against Guest/c/httpd.c (epoll, keep-alive) natively, under `egg run -p`, and in the
Linux VM with the same QEMU network flags (user networking, virtio-net-pci). Debian builds
virtio_net and its dependencies as modules, so that VM's initramfs also holds them (extracted
from the same linux-image package), busybox-static and an /init script that loads them,
configures eth0 as QEMU's user network expects (10.0.2.15/24 via 10.0.2.2) and execs the
server.

Accelerator: egg's own choice (`--accel auto`, which probes KVM), used for all three VMs;
ACCEL=tcg or ACCEL=kvm in the environment forces one.

--only NAME[,NAME] measures only those sections (SECTIONS below: bench, boot, hello,
first_output, min_memory, http, sizes, stdio, forkexec) and writes results/bench-only.json,
so one row can be measured quickly; `make bench` without it measures everything.
stdio: 64 MiB of random bytes through `bench --cat` (stdin to stdout, checked byte for
byte): natively through pipes, under egg through its virtio console streams, and in the
Linux VM through its console, the ttyS0 UART (`-serial stdio`, console=ttyS0), raw mode;
that UART moves about 15 KB/s under TCG, so the VM copies 1 MiB and the row compares MB/s.
forkexec: fork + execve of the same static binary ("--exit") + wait, in bench.c; under egg
the binary is also given with --files (exec_root) so that the children can exec it.

Output: a Markdown table on stdout (progress goes to stderr), results/bench.json and
results/bench.png (matplotlib, if importable). Every ratio is egg / baseline of a cost
(time, memory or bytes), so below 1 means egg is cheaper.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build", "bench")
RESULTS = os.path.join(ROOT, "results")
EGG = os.path.join(ROOT, ".build", "release", "egg")
KERNEL = os.path.join(ROOT, "build", "kernel", "kernel.elf")
HELLO = os.path.join(ROOT, "build", "guest", "hello-musl")
BENCH = os.path.join(BUILD, "bench-musl")
EMPTY = os.path.join(BUILD, "empty-kernel.elf")
QEMU = os.environ.get("EGG_QEMU", "qemu-system-x86_64")
HELLO_TEXT = "hello from egg"
HTTPD = os.path.join(ROOT, "build", "guest", "httpd-musl")
BUSYBOX = "/bin/busybox"
# Load order (each module's "depends=" in Debian's 6.1 kernel): virtio needs virtio_ring,
# virtio_pci the two transport libraries, virtio_net net_failover and the virtio core.
LINUX_NET_MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
                     "failover", "net_failover", "virtio_net"]
# The stdio row's Linux VM with a virtio console (drivers/char/virtio_console.c), as egg has.
LINUX_CONSOLE_MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
                         "virtio_console"]
HTTP_GUEST_PORT = 8000
ECHOD = os.path.join(BUILD, "echod-musl")
BULK_GUEST_PORT = 9000
HTTP_BODY = b"hello from httpd\n"


def log(message):
    print("bench: " + message, file=sys.stderr, flush=True)


def run(cmd, timeout):
    """Run cmd; return (exit status or None on timeout, stdout, stderr, seconds)."""
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        status = p.returncode
        out, err = p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = None, e.stdout or b"", e.stderr or b""
    return (status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
            time.monotonic() - start)


def parse_bench(text):
    """BENCH lines -> {name: (value, unit)}; BENCH-DIGEST lines -> {name: hex}."""
    values, digests = {}, {}
    for m in re.finditer(r"^BENCH (\S+) (\S+) (\S+)\r?$", text, re.M):
        values[m.group(1)] = (float(m.group(2)), m.group(3))
    for m in re.finditer(r"^BENCH-DIGEST (\S+) ([0-9a-f]{40})", text, re.M):
        digests[m.group(1)] = m.group(2)
    return values, digests


# --- the machine ----------------------------------------------------------------------------

def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    qemu = run([QEMU, "--version"], 10)[1].splitlines()
    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], 10)[1].strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], 10)[1].strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "host_kernel": platform.release(),
        "qemu": re.sub(r"^QEMU emulator version (\S+).*", r"QEMU \1", qemu[0]) if qemu else "unknown",
        "commit": commit + ("+dirty" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def choose_accelerator():
    """ACCEL=tcg|kvm forces one; otherwise egg's own choice (--accel auto probes KVM)."""
    forced = os.environ.get("ACCEL", "auto")
    if forced in ("tcg", "kvm"):
        return forced, "ACCEL=" + forced
    status, _, err, _ = run([EGG, "run", "--verbose", "--accel", "auto", HELLO], 120)
    m = re.search(r"accelerator: (\w+) \((.*)\)", err)
    if status == 0 and m:
        return m.group(1), "egg --accel auto: " + re.sub(r"^auto: ", "", m.group(2).split(" (cached")[0])
    return "tcg", "egg --accel auto gave no answer; using tcg"


# --- the Linux VM baseline --------------------------------------------------------------------

def linux_kernel():
    """Path of Debian's vmlinuz in build/bench/linux/, fetched once; or (None, why)."""
    directory = os.path.join(BUILD, "linux")
    found = sorted(glob.glob(os.path.join(directory, "boot", "vmlinuz-*")))
    if found and linux_net_modules() and linux_modules(LINUX_CONSOLE_MODULES):
        return found[-1], None
    if not shutil.which("apt-get"):
        return None, "no apt-get to download linux-image-amd64"
    os.makedirs(directory, exist_ok=True)
    # linux-image-amd64 is a metapackage; the kernel is in the package it depends on.
    depends = run(["apt-cache", "depends", "linux-image-amd64"], 60)[1]
    m = re.search(r"Depends: (linux-image-[0-9][^\s]*)", depends)
    if not m:
        run(["apt-get", "update", "-qq"], 300)
        depends = run(["apt-cache", "depends", "linux-image-amd64"], 60)[1]
        m = re.search(r"Depends: (linux-image-[0-9][^\s]*)", depends)
    if not m:
        return None, "apt-cache does not know linux-image-amd64"
    log("downloading %s (apt-get download; /boot/vmlinuz and the virtio-net modules are extracted)" % m.group(1))
    status, _, err, _ = run(["bash", "-c", "cd '%s' && apt-get download -qq '%s'" % (directory, m.group(1))], 600)
    debs = glob.glob(os.path.join(directory, "*.deb"))
    if not debs:
        return None, "apt-get download failed: " + err.strip()[-200:]
    modules = " ".join("'./lib/modules/*/%s.ko*'" % name for name in
                       ["kernel/drivers/char/virtio_console",
                        "kernel/drivers/virtio/virtio", "kernel/drivers/virtio/virtio_ring",
                        "kernel/drivers/virtio/virtio_pci_modern_dev", "kernel/drivers/virtio/virtio_pci_legacy_dev",
                        "kernel/drivers/virtio/virtio_pci", "kernel/net/core/failover",
                        "kernel/drivers/net/net_failover", "kernel/drivers/net/virtio_net"])
    status, _, err, _ = run(["bash", "-c", "dpkg-deb --fsys-tarfile '%s' | tar -x -C '%s' --wildcards './boot/vmlinuz-*' %s"
                             % (debs[0], directory, modules)], 300)
    for deb in debs:
        os.remove(deb)
    found = sorted(glob.glob(os.path.join(directory, "boot", "vmlinuz-*")))
    return (found[-1], None) if found else (None, "no vmlinuz in the package: " + err.strip()[-200:])


def cpio_entry(name, mode, data=b"", rdev=(0, 0), inode=[1000]):
    """One newc entry (the format of the kernel's Documentation/driver-api/early-userspace/
    buffer-format.rst): a 110-byte ASCII header, the name, data, each padded to 4 bytes."""
    inode[0] += 1
    fields = (inode[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
    head = ("070701" + "".join("%08X" % v for v in fields)).encode() + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def make_initramfs(init_binary, path):
    """/init = init_binary, plus /dev/console (5,1) for the kernel to open fds 0-2."""
    with open(init_binary, "rb") as f:
        program = f.read()
    archive = (cpio_entry("dev", 0o040755) + cpio_entry("dev/console", 0o020600, rdev=(5, 1))
               + cpio_entry("init", 0o100755, program) + cpio_entry("TRAILER!!!", 0))
    with open(path, "wb") as f:
        f.write(archive)
    return path


def linux_net_modules():
    return linux_modules(LINUX_NET_MODULES)


def linux_modules(names):
    """Paths of the modules `names` (decompressed if the package had .ko.xz) in load order,
    or None if any is missing."""
    paths = []
    for name in names:
        found = glob.glob(os.path.join(BUILD, "linux", "lib", "modules", "*", "kernel", "**", name + ".ko*"),
                          recursive=True)
        if not found:
            return None
        path = found[0]
        if path.endswith(".xz"):
            if not os.path.exists(path[:-3]):
                run(["xz", "-dk", path], 60)
            path = path[:-3]
        if not os.path.exists(path):
            return None
        paths.append(path)
    return paths


def make_net_initramfs(server, args, path):
    """/init is a busybox script: load the virtio-net modules, set up eth0 for QEMU's user
    network, exec the server. None when busybox-static or the modules are missing."""
    modules = linux_net_modules()
    if not modules or not os.path.exists(BUSYBOX):
        return None
    script = ["#!/bin/busybox sh"]
    script += ["/bin/busybox insmod /lib/modules/%s" % os.path.basename(m) for m in modules]
    script += ["/bin/busybox ip link set lo up", "/bin/busybox ip link set eth0 up",
               "/bin/busybox ip addr add 10.0.2.15/24 dev eth0", "/bin/busybox ip route add default via 10.0.2.2",
               "exec /server " + " ".join(args), ""]
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    with open(server, "rb") as f:
        program = f.read()
    archive = (cpio_entry("dev", 0o040755) + cpio_entry("dev/console", 0o020600, rdev=(5, 1))
               + cpio_entry("bin", 0o040755) + cpio_entry("bin/busybox", 0o100755, busybox)
               + cpio_entry("lib", 0o040755) + cpio_entry("lib/modules", 0o040755))
    for m in modules:
        with open(m, "rb") as f:
            archive += cpio_entry("lib/modules/" + os.path.basename(m), 0o100644, f.read())
    archive += (cpio_entry("server", 0o100755, program)
                + cpio_entry("init", 0o100755, "\n".join(script).encode()) + cpio_entry("TRAILER!!!", 0))
    with open(path, "wb") as f:
        f.write(archive)
    return path


def make_virtio_console_initramfs(program, args, path):
    """/init is a busybox script: load the virtio console modules, mount devtmpfs, wait for
    the port's node /dev/vport0p1 and exec `program args` with stdin and stdout on it (as PID 1,
    so bench.c powers off at the end). None when busybox-static or a module is missing."""
    modules = linux_modules(LINUX_CONSOLE_MODULES)
    if not modules or not os.path.exists(BUSYBOX):
        return None
    script = ["#!/bin/busybox sh"]
    script += ["/bin/busybox insmod /lib/modules/%s" % os.path.basename(m) for m in modules]
    script += ["/bin/busybox mount -t devtmpfs dev /dev",
               "n=0; while [ ! -e /dev/vport0p1 ] && [ $n -lt 100 ]; do /bin/busybox sleep 0.05; n=$((n+1)); done",
               # One open, read-write: a virtio port takes one opener at a time (EBUSY).
               "exec /program %s 0<>/dev/vport0p1 1>&0" % " ".join(args), ""]
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    with open(program, "rb") as f:
        binary = f.read()
    archive = (cpio_entry("dev", 0o040755) + cpio_entry("dev/console", 0o020600, rdev=(5, 1))
               + cpio_entry("bin", 0o040755) + cpio_entry("bin/busybox", 0o100755, busybox)
               + cpio_entry("lib", 0o040755) + cpio_entry("lib/modules", 0o040755))
    for m in modules:
        with open(m, "rb") as f:
            archive += cpio_entry("lib/modules/" + os.path.basename(m), 0o100644, f.read())
    archive += (cpio_entry("program", 0o100755, binary)
                + cpio_entry("init", 0o100755, "\n".join(script).encode()) + cpio_entry("TRAILER!!!", 0))
    with open(path, "wb") as f:
        f.write(archive)
    return path


def linux_vm_virtio_console_cmd(accel, vmlinuz, initrd):
    """The Linux VM with its serial port discarded and a virtio-serial port on QEMU's stdio."""
    cmd = linux_vm_cmd(accel, vmlinuz, initrd)
    at = cmd.index("-serial")
    cmd[at + 1] = "null"
    return cmd + ["-chardev", "stdio,id=vc", "-device", "virtio-serial-pci,max_ports=2",
                  "-device", "virtserialport,chardev=vc,nr=1,name=bench"]


def qemu_network_flags(host_port, guest_port):
    """What `egg run -p HOST:GUEST` adds (Sources/EggHost/NetworkOptions.swift, GuestNetwork)."""
    return ["-netdev", "user,id=net0,ipv6=off,hostfwd=tcp::%d-:%d" % (host_port, guest_port),
            "-device", "virtio-net-pci,netdev=net0,romfile=,mac=52:54:00:12:34:56"]


def qemu_flags(accel, memory):
    # The same machine egg boots (`egg run --verbose` prints its command line).
    return [QEMU, "-M", "pc", "-accel", accel, "-cpu", "max", "-m", memory, "-smp", "1",
            "-nodefaults", "-no-reboot", "-display", "none", "-vga", "none", "-serial", "stdio"]


def linux_vm_cmd(accel, vmlinuz, initrd, args="", memory="256M"):
    # no_timer_check: on a loaded host TCG can miss Linux's early check that the I/O APIC
    # timer ticks, and the boot then panics ("IO-APIC + timer doesn't work"); virtual
    # machines skip it (Documentation/admin-guide/kernel-parameters.txt).
    append = "console=ttyS0 quiet panic=-1 no_timer_check" + (" -- " + args if args else "")
    return qemu_flags(accel, memory) + ["-kernel", vmlinuz, "-initrd", initrd, "-append", append]


def empty_kernel_cmd(accel):
    return qemu_flags(accel, "256M") + ["-kernel", EMPTY, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def exec_root():
    """A --files directory holding the benchmark binary at /bench-musl, its argv[0] under egg,
    so that forkexec's children find it (egg puts no copy of the program in the guest's
    file system, and /proc/self/exe cannot be exec'd there)."""
    root = os.path.join(BUILD, "exec-root")
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, os.path.basename(BENCH))
    shutil.copy2(BENCH, target)
    return root


def egg_cmd(accel, binary, args=(), memory="256M", verbose=False, files=None):
    cmd = [EGG, "run", "--accel", accel, "-m", memory, "--timeout", "600"]
    if files:
        cmd += ["--files", files]
    if verbose:
        cmd.append("--verbose")
    cmd.append(binary)
    if args:
        cmd += ["--"] + list(args)
    return cmd


# --- measurements ---------------------------------------------------------------------------

def hyperfine(name, cmd, warmup, runs, ignore_failure=False):
    """Median wall time in ms of cmd (hyperfine, no shell, output discarded), or None."""
    if not shutil.which("hyperfine"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        hf = ["hyperfine", "--shell=none", "--style=none", "--warmup", str(warmup), "--runs", str(runs),
              "--export-json", out.name]
        if ignore_failure:
            hf.append("--ignore-failure")
        status, _, err, _ = run(hf + [subprocess.list2cmdline(cmd)], 1200)
        if status != 0:
            log("hyperfine %s failed: %s" % (name, err.strip()[-300:]))
            return None
        with open(out.name) as f:
            result = json.load(f)["results"][0]
    log("%s: median %.1f ms over %d runs" % (name, result["median"] * 1e3, runs))
    return {"median_ms": result["median"] * 1e3, "mean_ms": result["mean"] * 1e3,
            "stddev_ms": (result.get("stddev") or 0) * 1e3, "runs": runs}


def first_output_ms(cmd, text, timeout=120):
    """Milliseconds from launching cmd until `text` appears on its stdout (host-observed)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen, buffer = None, b""
    try:
        while seen is None:
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            buffer += chunk
            if text.encode() in buffer:
                seen = (time.monotonic() - start) * 1e3
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return seen


def median_first_output(name, cmd, count):
    samples = [t for t in (first_output_ms(cmd, HELLO_TEXT) for _ in range(count)) if t is not None]
    if not samples:
        log("%s: no output" % name)
        return None
    log("%s: hello's output after %.1f ms (median of %d)" % (name, statistics.median(samples), len(samples)))
    return statistics.median(samples)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=5):
    """(status, body) of GET path on 127.0.0.1:port, or (None, error text)."""
    import http.client
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def wrk_requests_per_second(name, cmd, port, duration, connections, boot_timeout):
    """Starts the server (cmd), waits for GET / to answer, runs wrk against it, then ends
    the server with GET /exit. Returns {requests_per_s, latency, errors} or None."""
    if not shutil.which("wrk"):
        log("%s: wrk is not installed (scripts/setup.sh installs it)" % name)
        return None
    log("wrk: %s (%d connections, %d s)" % (name, connections, duration))
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + boot_timeout
        while True:
            status, body = http_get(port, "/", 2)
            if status == 200 and body == HTTP_BODY:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                log("%s: the server never answered (%s)" % (name, body[:80] if isinstance(body, str) else status))
                return None
            time.sleep(0.2)
        status, out, err, _ = run(["wrk", "-t", "2", "-c", str(connections), "-d", "%ds" % duration,
                                   "--timeout", "5s", "http://127.0.0.1:%d/" % port], duration + 60)
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        if not m:
            log("%s: no figure from wrk (status %s): %s" % (name, status, (err or out).strip()[-200:]))
            return None
        latency = re.search(r"Latency\s+(\S+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        result = {"requests_per_s": float(m.group(1)), "latency_avg": latency.group(1) if latency else None,
                  "errors": (errors.group(1) if errors else "") + (" non-2xx %s" % non2xx.group(1) if non2xx else "")}
        log("%s: %.0f requests/s, average latency %s%s" % (name, result["requests_per_s"], result["latency_avg"],
                                                          ", " + result["errors"] if result["errors"] else ""))
        return result
    finally:
        http_get(port, "/exit", 5)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def bulk_tcp(name, cmd, port, total, boot_timeout):
    """Starts the echo server (cmd, Guest/bench/echod.c), pushes `total` bytes through one
    connection from the host while a second thread reads the echo, then stops the server
    with a 'Q' connection. Returns {up_mb_s, down_mb_s, seconds} (MB = 10^6 bytes): up is
    `total` over the time until the last byte was handed to the socket, down over the time
    until the last echoed byte came back (the echo is checked byte for byte); None on failure."""
    import socket
    import threading
    log("bulk TCP: %s (%d MiB each way)" % (name, total >> 20))
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + boot_timeout
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                # QEMU's user network accepts on the host side before the guest does: an
                # echo of one byte proves the server is there.
                conn.sendall(b"x")
                if conn.recv(1) == b"x":
                    break
                conn.close()
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log("%s: the echo server never answered" % name)
                return None
            time.sleep(0.2)
        conn.settimeout(120)
        chunk = bytes((i * 7 + 3) & 0xFF for i in range(1 << 16))
        sent_at = [None]
        def send():
            left = total
            while left > 0:
                n = min(left, len(chunk))
                conn.sendall(chunk[:n])
                left -= n
            sent_at[0] = time.monotonic()
            conn.shutdown(socket.SHUT_WR)
        start = time.monotonic()
        sender = threading.Thread(target=send)
        sender.start()
        got, offset, ok = 0, 0, True
        while got < total:
            data = conn.recv(1 << 20)
            if not data:
                break
            # The echo is chunk repeated: compare against it at the running offset.
            view = memoryview(data)
            while view:
                n = min(len(view), len(chunk) - offset)
                if view[:n] != chunk[offset:offset + n]:
                    ok = False
                view = view[n:]
                offset = (offset + n) % len(chunk)
            got += len(data)
        done = time.monotonic()
        sender.join(120)
        conn.close()
        if got != total or not ok or sent_at[0] is None:
            log("%s: echo incomplete or wrong (%d of %d bytes, match %s)" % (name, got, total, ok))
            return None
        result = {"up_mb_s": total / (sent_at[0] - start) / 1e6, "down_mb_s": total / (done - start) / 1e6,
                  "seconds": done - start}
        log("%s: %.1f MB/s up, %.1f MB/s down (%.1f s)" % (name, result["up_mb_s"], result["down_mb_s"], result["seconds"]))
        return result
    except OSError as e:
        log("%s: %s" % (name, e))
        return None
    finally:
        try:
            q = socket.create_connection(("127.0.0.1", port), timeout=5)
            q.sendall(b"Q")
            q.close()
        except OSError:
            pass
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def bisect_memory(name, works, high, step):
    """Smallest -m (MiB, to `step`) at which works(mib) holds, assuming monotonicity."""
    if not works(high):
        log("%s: does not run even with %d MiB" % (name, high))
        return None
    low = 0  # assumed to fail
    while high - low > step:
        middle = (low + high) // 2
        if works(middle):
            high = middle
        else:
            low = middle
    log("%s: minimum %d MiB" % (name, high))
    return high


def stdio_copy(name, cmd, data, timeout=900):
    """Runs `bench --cat N` (cmd), sends `data` once it printed BENCH-READY, and returns the
    guest's seconds for the copy, or None; the bytes that come back must be `data` exactly."""
    import threading
    log("stdio: %s (%d MiB through stdin and stdout)" % (name, len(data) >> 20))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = bytearray()
    ready = threading.Event()

    def reader():
        while True:
            chunk = p.stdout.read1(1 << 16)
            if not chunk:
                break
            out.extend(chunk)
            if not ready.is_set() and b"BENCH-READY\n" in out:
                ready.set()
        ready.set()

    def writer():
        # stdin stays open until the end: QEMU's stdio chardev treats end of input as the
        # host side closing, and a virtio port then stops carrying output too.
        try:
            p.stdin.write(data)
            p.stdin.flush()
        except OSError:
            pass

    threading.Thread(target=reader, daemon=True).start()
    start = time.monotonic()
    ready.wait(timeout)
    threading.Thread(target=writer, daemon=True).start()
    try:
        p.wait(max(timeout - (time.monotonic() - start), 1))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        log("%s: timed out after %d s (%d bytes back)" % (name, timeout, len(out)))
        return None
    try:
        p.stdin.close()
    except OSError:
        pass
    time.sleep(0.2)
    at = out.find(b"BENCH-READY\n")
    if at < 0:
        log("%s: no BENCH-READY (status %s)" % (name, p.returncode))
        return None
    body = bytes(out[at + 12:])
    if body[:len(data)] != data:
        log("%s: the bytes that came back differ from those sent (%d of %d back)" % (name, len(body), len(data)))
        return None
    values, _ = parse_bench(body[len(data):].decode("utf-8", "replace"))
    if "stdio_copy" not in values:
        log("%s: no stdio_copy figure: %r" % (name, body[len(data):][:200]))
        return None
    seconds = values["stdio_copy"][0]
    log("%s: %.2f s, %.1f MB/s" % (name, seconds, len(data) / seconds / 1e6))
    return seconds


LINUX_UART_STDIO_BYTES = 1 << 20
SECTIONS = ["bench", "boot", "hello", "first_output", "min_memory", "http", "sizes", "stdio", "forkexec"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements (make bench QUICK=1)")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help="measure only these (%s); the table has only their rows and goes to "
                             "results/bench-only.json, leaving results/bench.json alone" % ", ".join(SECTIONS))
    options = parser.parse_args()
    quick = options.quick
    only = [name for name in (options.only or "").split(",") if name]
    for name in only:
        if name not in SECTIONS:
            sys.exit("bench: --only %s: expected some of %s" % (name, ", ".join(SECTIONS)))
    want = lambda name: not only or name in only
    started = time.monotonic()
    for path in (EGG, KERNEL, HELLO, BENCH, EMPTY, HTTPD):
        if not os.path.exists(path):
            sys.exit("bench: %s is missing (run `make all` and make -C Guest/bench)" % path)
    os.makedirs(RESULTS, exist_ok=True)

    machine = machine_info()
    accel, accel_reason = choose_accelerator()
    log("accelerator %s (%s); %s, %s cores" % (accel, accel_reason, machine["cpu"], machine["nproc"]))
    bench_args = ["-q"] if quick else []
    raw = {"native": {}, "linux_vm": {}, "egg": {}}
    notes = []

    vmlinuz, why_no_linux = linux_kernel()
    if vmlinuz:
        hello_initrd = make_initramfs(HELLO, os.path.join(BUILD, "initramfs-hello.cpio"))
        bench_initrd = make_initramfs(BENCH, os.path.join(BUILD, "initramfs-bench.cpio"))
        log("Linux VM: %s" % os.path.basename(vmlinuz))
    else:
        log("no Linux VM baseline: " + why_no_linux)
        notes.append("Linux VM baseline unavailable: " + why_no_linux)

    # 1. The benchmark program in the three places; a full run does it twice, interleaved, and
    # keeps each benchmark's best (lowest) figure, which damps noise from other load.
    places = [("native", "natively", [BENCH] + bench_args),
              ("egg", "under egg", egg_cmd(accel, BENCH, bench_args, files=exec_root()))]
    if vmlinuz:
        places.append(("linux_vm", "as /init in the Linux VM",
                       linux_vm_cmd(accel, vmlinuz, bench_initrd, " ".join(bench_args))))
    for env, _, _ in places:
        raw[env]["bench"], raw[env]["digests"] = {}, {}
    for round_number in range(1 if quick else 2):
        if not want("bench"):
            break
        for env, where, cmd in places:
            log("benchmarks %s (round %d)" % (where, round_number + 1))
            status, out, err, _ = run(cmd, 900)
            values, found_digests = parse_bench(out)
            if "done" not in values:
                log("%s: the benchmark program did not finish (status %s): %s"
                    % (env, status, (err or out).strip()[-300:]))
            for name, (value, unit) in values.items():
                best = raw[env]["bench"].get(name)
                if best is None or value < best[0]:
                    raw[env]["bench"][name] = (value, unit)
            raw[env]["digests"].update(found_digests)
    digests = {d for env in raw.values() for d in env.get("digests", {}).values()}
    if len(digests) > 1:
        notes.append("SHA-1 digests differ between environments: %s" % sorted(digests))

    # 1b. fork + execve + wait alone (--only forkexec; a full run has it in the program's list).
    if only and want("forkexec") and not want("bench"):
        forkexec_args = bench_args + ["forkexec"]
        commands = {"native": [BENCH] + forkexec_args, "egg": egg_cmd(accel, BENCH, forkexec_args, files=exec_root())}
        if vmlinuz:
            commands["linux_vm"] = linux_vm_cmd(accel, vmlinuz, bench_initrd, " ".join(forkexec_args))
        for env, where, _ in places:
            log("fork + exec + wait %s" % where)
            status, out, err, _ = run(commands[env], 900)
            values, _ = parse_bench(out)
            if "fork_exec_wait" in values:
                raw[env]["bench"]["fork_exec_wait"] = values["fork_exec_wait"]
            else:
                log("%s: no fork_exec_wait figure (status %s): %s" % (env, status, (err or out).strip()[-300:]))

    # 1c. stdio throughput: 64 MiB through `bench --cat` (16 MiB with --quick).
    # The Linux VM's console is its UART (ttyS0), about 15 KB/s under TCG: it gets 1 MiB.
    if want("stdio"):
        size = (16 if quick else 64) << 20
        data = os.urandom(size)
        for env, name, cmd in (("native", "native", [BENCH, "--cat", str(size)]),
                               ("egg", "egg (virtio console streams)", egg_cmd(accel, BENCH, ["--cat", str(size)]))):
            seconds = stdio_copy(name, cmd, data)
            raw[env]["stdio_mb_per_s"] = size / seconds / 1e6 if seconds else None
        console_initrd = make_virtio_console_initramfs(BENCH, ["--cat", str(size)],
                                                       os.path.join(BUILD, "initramfs-stdio.cpio")) if vmlinuz else None
        if console_initrd:
            seconds = stdio_copy("Linux VM (/init on a virtio console port, /dev/vport0p1)",
                                 linux_vm_virtio_console_cmd(accel, vmlinuz, console_initrd), data)
            raw["linux_vm"]["stdio_mb_per_s"] = size / seconds / 1e6 if seconds else None
            raw["linux_vm"]["stdio_console"] = "virtio"
        elif vmlinuz:
            notes.append("stdio: the Linux VM's virtio console needs busybox-static and virtio_console.ko; "
                         "it used its ttyS0 UART (1 MiB)")
            raw["linux_vm"]["stdio_console"] = "uart"
            small = LINUX_UART_STDIO_BYTES
            seconds = stdio_copy("Linux VM (/init on the ttyS0 UART console)",
                                 linux_vm_cmd(accel, vmlinuz, bench_initrd, "--cat %d" % small), data[:small])
            raw["linux_vm"]["stdio_mb_per_s"] = small / seconds / 1e6 if seconds else None

    # 2. Kernel boot: egg's boot-tsc (kmain to the guest's first instruction) over a few runs.
    boot_ms = []
    for _ in range((3 if quick else 7) if want("boot") else 0):
        status, out, err, _ = run(egg_cmd(accel, HELLO, verbose=True), 120)
        tsc = re.search(r"boot-tsc (\d+)", err)
        mhz = re.search(r"tsc (\d+) MHz", err)
        if tsc and mhz and int(mhz.group(1)) > 0:
            boot_ms.append(int(tsc.group(1)) / int(mhz.group(1)) / 1e3)
    raw["egg"]["boot_ms_samples"] = boot_ms

    # 3. Wall time of hello (and of the empty kernel) with hyperfine, warm cache.
    fast_runs, slow_runs = (5, 2) if quick else (20, 5)
    if want("hello"):
        section_hello(raw, accel, vmlinuz, hello_initrd if vmlinuz else None, fast_runs, slow_runs)
    if want("first_output"):
        section_first_output(raw, accel, vmlinuz, hello_initrd if vmlinuz else None, quick)
    if want("min_memory"):
        section_min_memory(raw, accel, vmlinuz, hello_initrd if vmlinuz else None, quick, notes)
    if want("http"):
        section_http(raw, accel, vmlinuz, quick, notes)
    if want("sizes"):
        section_sizes(raw, vmlinuz, hello_initrd if vmlinuz else None)

    rows = build_rows(raw, quick)
    if only:
        rows = [r for r in rows if r["native"] is not None or r["linux_vm"] is not None or r["egg"] is not None]
    elapsed = time.monotonic() - started
    report = {"machine": machine, "accelerator": accel, "accelerator_reason": accel_reason,
              "quick": quick, "seconds": round(elapsed, 1), "linux_kernel": os.path.basename(vmlinuz) if vmlinuz else None,
              "rows": rows, "raw": raw, "notes": notes, "only": only}
    plotted = False if only else plot(rows, machine, accel, os.path.join(RESULTS, "bench.png"))
    if not plotted and not only:
        notes.append("results/bench.png not written: matplotlib is not importable by %s" % sys.executable)
    result_path = os.path.join(RESULTS, "bench-only.json" if only else "bench.json")
    with open(result_path, "w") as f:
        json.dump(report, f, indent=2)
    print(markdown(report))
    log("done in %.0f s: %s%s" % (elapsed, os.path.relpath(result_path, ROOT), ", results/bench.png" if plotted else ""))


def section_hello(raw, accel, vmlinuz, hello_initrd, fast_runs, slow_runs):
    raw["native"]["hello"] = hyperfine("native hello", [HELLO], 3, fast_runs * 5)
    raw["egg"]["empty_kernel"] = hyperfine("empty kernel", empty_kernel_cmd(accel), 2, fast_runs, ignore_failure=True)
    raw["egg"]["hello"] = hyperfine("egg run hello", egg_cmd(accel, HELLO), 2, fast_runs)
    if vmlinuz:
        raw["linux_vm"]["hello"] = hyperfine("Linux VM hello", linux_vm_cmd(accel, vmlinuz, hello_initrd), 1, slow_runs)


def section_first_output(raw, accel, vmlinuz, hello_initrd, quick):
    # 4. Launch to first output, seen from the host: the whole boot path, decompressor included.
    raw["native"]["hello_output_ms"] = median_first_output("native", [HELLO], 10)
    raw["egg"]["hello_output_ms"] = median_first_output("egg", egg_cmd(accel, HELLO), 5)
    if vmlinuz:
        raw["linux_vm"]["hello_output_ms"] = median_first_output(
            "Linux VM", linux_vm_cmd(accel, vmlinuz, hello_initrd), 1 if quick else 3)


def section_min_memory(raw, accel, vmlinuz, hello_initrd, quick, notes):
    # 5. Minimum memory for hello.
    step = 4 if quick else 1

    refused = []  # sizes `egg run` rejects as a usage error (status 125) before booting

    def egg_works(mib):
        status, out, _, _ = run(egg_cmd(accel, HELLO, memory="%dM" % max(mib, 1)), 60)
        if status == 125:
            refused.append(mib)
        return status == 0 and HELLO_TEXT in out

    def linux_works(mib):
        status, out, _, _ = run(linux_vm_cmd(accel, vmlinuz, hello_initrd, memory="%dM" % max(mib, 1)), 60)
        return HELLO_TEXT in out

    raw["egg"]["min_memory_mib"] = bisect_memory("egg hello -m", egg_works, 256, step)
    if refused and raw["egg"]["min_memory_mib"] is not None and max(refused) >= raw["egg"]["min_memory_mib"] - step:
        notes.append("minimum -m: %d MiB is the smallest size `egg run -m` accepts; the kernel may need less"
                     % raw["egg"]["min_memory_mib"])
    if vmlinuz:
        raw["linux_vm"]["min_memory_mib"] = bisect_memory("Linux VM hello -m", linux_works, 256, 4 if quick else 2)


def section_http(raw, accel, vmlinuz, quick, notes):
    # 6. HTTP throughput: wrk against the C epoll httpd, the same binary in all three places.
    duration, connections = (3, 16) if quick else (10, 16)
    port = free_port()
    raw["native"]["http"] = wrk_requests_per_second(
        "native httpd", [HTTPD, str(port)], port, duration, connections, 10)
    port = free_port()
    raw["egg"]["http"] = wrk_requests_per_second(
        "egg httpd", [EGG, "run", "--accel", accel, "-p", "%d:%d" % (port, HTTP_GUEST_PORT), "--timeout", "600",
                      HTTPD, "--", str(HTTP_GUEST_PORT)], port, duration, connections, 60)
    if vmlinuz:
        httpd_initrd = make_net_initramfs(HTTPD, [str(HTTP_GUEST_PORT)], os.path.join(BUILD, "initramfs-httpd.cpio"))
        if httpd_initrd:
            port = free_port()
            raw["linux_vm"]["http"] = wrk_requests_per_second(
                "Linux VM httpd", linux_vm_cmd(accel, vmlinuz, httpd_initrd) + qemu_network_flags(port, HTTP_GUEST_PORT),
                port, duration, connections, 180)
        else:
            notes.append("Linux VM HTTP baseline unavailable: busybox-static (%s) or the virtio-net modules are missing"
                         % BUSYBOX)

    # 6b. Bulk TCP: 256 MiB (32 MiB with --quick) through the echo server, one stream each way.
    if os.path.exists(ECHOD):
        total = (32 if quick else 256) << 20
        port = free_port()
        raw["native"]["bulk"] = bulk_tcp("native echod", [ECHOD, str(port)], port, total, 10)
        port = free_port()
        raw["egg"]["bulk"] = bulk_tcp(
            "egg echod", [EGG, "run", "--accel", accel, "-p", "%d:%d" % (port, BULK_GUEST_PORT), "--timeout", "1200",
                          ECHOD, "--", str(BULK_GUEST_PORT)], port, total, 60)
        if vmlinuz:
            echod_initrd = make_net_initramfs(ECHOD, [str(BULK_GUEST_PORT)], os.path.join(BUILD, "initramfs-echod.cpio"))
            if echod_initrd:
                port = free_port()
                raw["linux_vm"]["bulk"] = bulk_tcp(
                    "Linux VM echod", linux_vm_cmd(accel, vmlinuz, echod_initrd) + qemu_network_flags(port, BULK_GUEST_PORT),
                    port, total, 180)


def section_sizes(raw, vmlinuz, hello_initrd):
    # 7. Sizes.
    raw["egg"]["kernel_bytes"] = os.path.getsize(KERNEL)
    raw["native"]["hello_bytes"] = raw["egg"]["hello_bytes"] = os.path.getsize(HELLO)
    if vmlinuz:
        raw["linux_vm"]["kernel_bytes"] = os.path.getsize(vmlinuz)
        raw["linux_vm"]["hello_bytes"] = os.path.getsize(hello_initrd)


# --- the table ------------------------------------------------------------------------------

def bench_value(raw, env, name):
    entry = raw[env].get("bench", {}).get(name)
    return entry[0] if entry else None


def hello_ms(raw, env, key="hello"):
    entry = raw[env].get(key)
    return entry["median_ms"] if entry else None


def build_rows(raw, quick):
    """Rows of {name, unit, native, linux_vm, egg, ratios}; None where there is no figure."""
    sha = "sha1_32m" if quick else "sha1_256m"
    boot = statistics.median(raw["egg"]["boot_ms_samples"]) if raw["egg"].get("boot_ms_samples") else None
    kib = lambda v: v / 1024 if v is not None else None
    empty = hello_ms(raw, "egg", "empty_kernel")
    rows = [
        ("`hello` wall time (hyperfine, median)", "ms",
         hello_ms(raw, "native"), hello_ms(raw, "linux_vm"), hello_ms(raw, "egg"), True),
        ("QEMU start + exit, empty kernel (floor for both VMs)", "ms", None, empty, empty, False),
        ("launch → hello's output (host-observed)", "ms", raw["native"].get("hello_output_ms"),
         raw["linux_vm"].get("hello_output_ms"), raw["egg"].get("hello_output_ms"), True),
        ("kernel entry → guest main (guest clock)", "ms", None, bench_value(raw, "linux_vm", "startup_boottime"), boot, True),
        ("null syscall (getppid)", "ns", bench_value(raw, "native", "syscall_getppid"),
         bench_value(raw, "linux_vm", "syscall_getppid"), bench_value(raw, "egg", "syscall_getppid"), True),
        ("clock_gettime(CLOCK_MONOTONIC) (vDSO where there is one)", "ns", bench_value(raw, "native", "clock_gettime_monotonic"),
         bench_value(raw, "linux_vm", "clock_gettime_monotonic"), bench_value(raw, "egg", "clock_gettime_monotonic"), True),
        ("futex ping-pong round trip", "µs", bench_value(raw, "native", "futex_pingpong"),
         bench_value(raw, "linux_vm", "futex_pingpong"), bench_value(raw, "egg", "futex_pingpong"), True),
        ("thread create + join", "µs", bench_value(raw, "native", "thread_create_join"),
         bench_value(raw, "linux_vm", "thread_create_join"), bench_value(raw, "egg", "thread_create_join"), True),
        ("fork + wait (child exits at once)", "µs", bench_value(raw, "native", "fork_wait"),
         bench_value(raw, "linux_vm", "fork_wait"), bench_value(raw, "egg", "fork_wait"), True),
        ("fork + execve (static, exits at once) + wait", "µs", bench_value(raw, "native", "fork_exec_wait"),
         bench_value(raw, "linux_vm", "fork_exec_wait"), bench_value(raw, "egg", "fork_exec_wait"), True),

        ("nanosleep(100 µs) mean overshoot", "µs", bench_value(raw, "native", "nanosleep_100us_overshoot"),
         bench_value(raw, "linux_vm", "nanosleep_100us_overshoot"), bench_value(raw, "egg", "nanosleep_100us_overshoot"), True),
        ("mmap + touch + munmap 64 MiB", "ms", bench_value(raw, "native", "mmap_touch_64m"),
         bench_value(raw, "linux_vm", "mmap_touch_64m"), bench_value(raw, "egg", "mmap_touch_64m"), True),
        ("SHA-1 of %s MiB (CPU-bound)" % sha[5:-1], "s", bench_value(raw, "native", sha),
         bench_value(raw, "linux_vm", sha), bench_value(raw, "egg", sha), True),
        ("minimum `-m` for hello", "MiB", None, raw["linux_vm"].get("min_memory_mib"),
         raw["egg"].get("min_memory_mib"), True),
        ("kernel image size", "KiB", None, kib(raw["linux_vm"].get("kernel_bytes")), kib(raw["egg"].get("kernel_bytes")), True),
        ("hello image size (binary; initramfs for Linux)", "KiB", kib(raw["native"].get("hello_bytes")),
         kib(raw["linux_vm"].get("hello_bytes")), kib(raw["egg"].get("hello_bytes")), True),
    ]
    out = []
    for name, unit, native, linux, egg, ratios in rows:
        out.append({
            "benchmark": name, "unit": unit, "native": native, "linux_vm": linux, "egg": egg,
            "egg_over_native": egg / native if ratios and egg and native else None,
            "egg_over_linux_vm": egg / linux if ratios and egg and linux else None,
        })
    stdio = {env: raw[env].get("stdio_mb_per_s") for env in ("native", "linux_vm", "egg")}
    mib = 16 if quick else 64
    linux_console = ("%d MiB over a virtio console port (virtio_console, /dev/vport0p1)" % mib
                     if raw["linux_vm"].get("stdio_console") == "virtio" else "1 MiB over its ttyS0 UART console")
    out.append({"benchmark": "stdin → stdout through `bench --cat`, MB/s (egg: %d MiB over its virtio console "
                             "streams; native: %d MiB through pipes; Linux VM: %s; ratio of time per byte)"
                             % (mib, mib, linux_console), "unit": "MB/s",
                "native": stdio["native"], "linux_vm": stdio["linux_vm"], "egg": stdio["egg"],
                "egg_over_native": stdio["native"] / stdio["egg"] if stdio["native"] and stdio["egg"] else None,
                "egg_over_linux_vm": stdio["linux_vm"] / stdio["egg"] if stdio["linux_vm"] and stdio["egg"] else None})
    # Throughput: the ratios are of the cost, time per request (baseline req/s ÷ egg req/s), so
    # that below 1× still means egg is cheaper.
    rps = {env: (raw[env].get("http") or {}).get("requests_per_s") for env in ("native", "linux_vm", "egg")}
    out.append({"benchmark": "HTTP GET / requests/s (wrk, C epoll httpd; ratio of time per request)", "unit": "req/s",
                "native": rps["native"], "linux_vm": rps["linux_vm"], "egg": rps["egg"],
                "egg_over_native": rps["native"] / rps["egg"] if rps["native"] and rps["egg"] else None,
                "egg_over_linux_vm": rps["linux_vm"] / rps["egg"] if rps["linux_vm"] and rps["egg"] else None})
    # Bulk TCP through the echo server: MB/s each way, ratios again of the cost (time per byte).
    for way, label in (("up", "host → guest"), ("down", "guest → host")):
        mbs = {env: (raw[env].get("bulk") or {}).get(way + "_mb_s") for env in ("native", "linux_vm", "egg")}
        out.append({"benchmark": "bulk TCP through an echo server, %s (MB/s; ratio of time per byte)" % label,
                    "unit": "MB/s", "native": mbs["native"], "linux_vm": mbs["linux_vm"], "egg": mbs["egg"],
                    "egg_over_native": mbs["native"] / mbs["egg"] if mbs["native"] and mbs["egg"] else None,
                    "egg_over_linux_vm": mbs["linux_vm"] / mbs["egg"] if mbs["linux_vm"] and mbs["egg"] else None})
    return out


def number(v, unit=""):
    if v is None:
        return "—"
    text = "%.3g" % v if abs(v) < 1000 else "%.0f" % v
    return text + (" " + unit if unit else "")


def markdown(report):
    m = report["machine"]
    lines = [
        "Machine: %s, %s cores, host Linux %s, %s; accelerator **%s** (%s)%s." % (
            m["cpu"], m["nproc"], m["host_kernel"], m["qemu"], report["accelerator"].upper(),
            report["accelerator_reason"], "; QUICK run" if report["quick"] else ""),
        "egg %s, Linux VM: Debian %s; %s; run took %.0f s." % (
            m["commit"], report["linux_kernel"] or "n/a", m["date"], report["seconds"]),
        "",
        "| benchmark | native | Linux VM | egg | egg/native | egg/LinuxVM |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["rows"]:
        if r.get("note"):
            lines.append("| %s | %s | %s | %s | — | — |" % (r["benchmark"], r["note"], r["note"], r["note"]))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["benchmark"], number(r["native"], r["unit"]), number(r["linux_vm"], r["unit"]),
            number(r["egg"], r["unit"]), number(r["egg_over_native"]) + ("×" if r["egg_over_native"] else ""),
            number(r["egg_over_linux_vm"]) + ("×" if r["egg_over_linux_vm"] else "")))
    hello = next((r for r in report["rows"] if r["benchmark"].startswith("`hello`")), None)
    empty = next((r for r in report["rows"] if r["benchmark"].startswith("QEMU start")), None)
    lines.append("")
    if hello and empty and hello["egg"] and empty["egg"]:
        lines.append("`egg run hello` takes %.3g× the empty kernel's QEMU start (%.0f ms above it)%s." % (
            hello["egg"] / empty["egg"], hello["egg"] - empty["egg"],
            " and %.3g× the Linux VM's hello" % hello["egg_over_linux_vm"] if hello["egg_over_linux_vm"] else ""))
    lines.append("Ratios are egg ÷ baseline of a cost (time, memory, bytes): below 1× egg is cheaper. "
                 "Guest figures are measured inside the guest with clock_gettime; the program pins itself to "
                 "one CPU, as the VMs have one vCPU. \"kernel entry → guest main\" "
                 "is egg's boot-tsc (kmain to the first user instruction) and, for Linux, CLOCK_BOOTTIME at "
                 "/init's main, which starts with Linux's timekeeping and so leaves out the decompressor and "
                 "early set-up; \"launch → hello's output\" covers everything from the host's side.")
    for note in report["notes"]:
        lines.append("Note: " + note)
    return "\n".join(lines)


def plot(rows, machine, accel, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    shown = [r for r in rows if r["egg_over_native"] or r["egg_over_linux_vm"]]
    if not shown:
        return False
    labels = [r["benchmark"].replace("`", "") for r in shown]
    y = range(len(shown))
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(shown) + 1.8))
    height = 0.38
    native = [r["egg_over_native"] or 0 for r in shown]
    linux = [r["egg_over_linux_vm"] or 0 for r in shown]
    # Bars grow from 1× (parity) to the ratio: right of the line egg costs more.
    ax.barh([i - height / 2 for i in y], [a - 1 if a else 0 for a in native], height, left=1,
            label="egg / native", color="#4c72b0")
    ax.barh([i + height / 2 for i in y], [b - 1 if b else 0 for b in linux], height, left=1,
            label="egg / Linux VM", color="#dd8452")
    for i, (a, b) in enumerate(zip(native, linux)):
        if a:
            ax.text(a, i - height / 2, " %.3g×" % a, va="center", fontsize=8)
        if b:
            ax.text(b, i + height / 2, " %.3g×" % b, va="center", fontsize=8)
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("egg cost ÷ baseline cost (log scale; < 1 means egg is cheaper)")
    ax.set_title("egg vs baselines — %s, %s cores, %s" % (machine["cpu"], machine["nproc"], accel.upper()), fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


if __name__ == "__main__":
    main()
