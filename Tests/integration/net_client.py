#!/usr/bin/env python3
"""net_client.py — host-side clients for the networking tests (Tests/integration/net.sh).

Layer: tests. Talks to the guest servers Guest/c/echo_server.c and Guest/{c,swift,go}/httpd
through a port that `egg run -p` (QEMU user networking) or a native run publishes.

  net_client.py echo HOST PORT BYTES [--timeout S]
      Sends BYTES of non-repeating data while reading the echo back (two threads), and
      compares SHA-256 and length of what went out with what came back.
  net_client.py concurrent HOST PORT CONNECTIONS BODY [--timeout S]
      Opens CONNECTIONS connections at once (all connected before any request is sent),
      then sends GET / on each and checks that each answer is a 200 carrying BODY.
  net_client.py burst HOST PORT CONNECTIONS (--body BODY | --echo BYTES) [--timeout S]
      Opens CONNECTIONS connections in one burst (every thread connects at the same moment,
      with the operating system's own SYN retries), then on each either GET / expecting a
      200 carrying BODY, or sends BYTES and expects them echoed back. Every connection must
      succeed; the verdict says how many were answered ("N of M") and why the others failed.
  net_client.py wait-http HOST PORT [--timeout S]
      Retries GET / until a server answers (QEMU accepts on the host before the guest
      listens, then drops the connection).
Each prints one verdict line, "PASS ..." or "FAIL ...", and exits 0 only on PASS.
"""
import argparse
import hashlib
import random
import socket
import sys
import threading
import time

CHUNK = 1 << 20


def fail(message):
    print("FAIL " + message, flush=True)
    sys.exit(1)


def chunks(total):
    """Non-repeating data: a random MiB rotated by a different amount for each MiB."""
    block = random.Random(20240501).randbytes(CHUNK)
    sent = 0
    i = 0
    while sent < total:
        r = (i * 7919 * 131) % CHUNK
        piece = block[r:] + block[:r]
        piece = piece[: min(CHUNK, total - sent)]
        yield piece
        sent += len(piece)
        i += 1


def echo(args):
    deadline = time.monotonic() + args.timeout
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent_hash = hashlib.sha256()
    send_error = []

    def sender():
        try:
            for piece in chunks(args.bytes):
                sent_hash.update(piece)
                sock.sendall(piece)
            sock.shutdown(socket.SHUT_WR)
        except OSError as error:  # reported by the main thread
            send_error.append(error)

    start = time.monotonic()
    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    received_hash = hashlib.sha256()
    received = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"echo: timed out after {args.timeout} s with {received} of {args.bytes} bytes back")
        sock.settimeout(left)
        try:
            data = sock.recv(1 << 18)
        except socket.timeout:
            fail(f"echo: timed out after {args.timeout} s with {received} of {args.bytes} bytes back")
        except OSError as error:
            fail(f"echo: receive failed after {received} bytes: {error}")
        if not data:
            break
        received_hash.update(data)
        received += len(data)
    thread.join(max(0.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - start
    sock.close()
    if send_error:
        fail(f"echo: send failed: {send_error[0]}")
    if received != args.bytes:
        fail(f"echo: sent {args.bytes} bytes, got {received} back")
    if received_hash.digest() != sent_hash.digest():
        fail("echo: checksum mismatch (same length, different bytes)")
    rate = 2 * args.bytes / elapsed / (1 << 20)
    print(f"PASS echo: {args.bytes} bytes each way, sha256 {sent_hash.hexdigest()[:16]} matches, "
          f"{elapsed:.1f} s ({rate:.1f} MiB/s both directions)", flush=True)


def http_get(host, port, timeout):
    """One GET / with Connection: close; returns (status, body)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: egg\r\nConnection: close\r\n\r\n")
        return read_response(sock)


def read_response(sock):
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is not None and len(body) >= length:
                break
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None, data
    status = head.split(b"\r\n")[0].split(b" ")
    return (int(status[1]) if len(status) > 1 and status[1].isdigit() else None), body


def concurrent(args):
    expected = args.body.encode().decode("unicode_escape").encode()
    deadline = time.monotonic() + args.timeout
    socks = []
    start = time.monotonic()
    # QEMU's user networking listens with a backlog of 1 (libslirp tcp_listen), so the host
    # drops SYNs that arrive while it has not accepted the previous connection, and the
    # client would wait a whole SYN retransmission (1 s, doubling). Connecting one at a time
    # with a short timeout and retrying at once keeps that from dominating the test; all
    # connections are still open together before the first request goes out.
    retries = 0
    while len(socks) < args.connections:
        try:
            s = socket.create_connection((args.host, args.port), timeout=0.02)
            s.settimeout(args.timeout)
            socks.append(s)
        except OSError as error:
            retries += 1
            if time.monotonic() > deadline:
                fail(f"concurrent: connection {len(socks) + 1} of {args.connections} failed: {error}")
    for s in socks:
        s.sendall(b"GET / HTTP/1.1\r\nHost: egg\r\nConnection: close\r\n\r\n")
    results = [None] * len(socks)

    def reader(i, s):
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            results[i] = read_response(s)
        except OSError as error:
            results[i] = (None, str(error).encode())
        finally:
            s.close()

    threads = [threading.Thread(target=reader, args=(i, s)) for i, s in enumerate(socks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = [(i, r) for i, r in enumerate(results) if r is None or r[0] != 200 or r[1] != expected]
    elapsed = time.monotonic() - start
    if bad:
        i, r = bad[0]
        fail(f"concurrent: {len(bad)} of {len(socks)} answers wrong; first (#{i}): {r!r:.200}")
    print(f"PASS concurrent: {len(socks)} simultaneous connections answered correctly in {elapsed:.1f} s "
          f"({retries} connect retries)", flush=True)


def burst(args):
    deadline = time.monotonic() + args.timeout
    expected = args.body.encode().decode("unicode_escape").encode() if args.body is not None else None
    payload = random.Random(12).randbytes(args.echo) if args.echo else b""
    start = time.monotonic()
    gate = threading.Barrier(args.connections)
    results = [None] * args.connections

    def client(i):
        try:
            gate.wait(timeout=30)
            s = socket.create_connection((args.host, args.port), timeout=max(1.0, deadline - time.monotonic()))
        except (OSError, threading.BrokenBarrierError) as error:
            results[i] = "connect: " + str(error)
            return
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            if expected is not None:
                s.sendall(b"GET / HTTP/1.1\r\nHost: egg\r\nConnection: close\r\n\r\n")
                status, body = read_response(s)
                results[i] = "ok" if status == 200 and body == expected else f"answer {status} {body!r:.60}"
            else:
                got = bytearray()

                def send():
                    try:
                        s.sendall(payload)
                        s.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                t = threading.Thread(target=send)
                t.start()
                while True:
                    piece = s.recv(65536)
                    if not piece:
                        break
                    got += piece
                t.join()
                results[i] = "ok" if bytes(got) == payload else f"echo {len(got)} of {len(payload)} bytes"
        except OSError as error:
            results[i] = type(error).__name__ + ": " + str(error)
        finally:
            s.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    good = sum(1 for r in results if r == "ok")
    elapsed = time.monotonic() - start
    if good != args.connections:
        reasons = {}
        for r in results:
            if r != "ok":
                key = str(r)[:80]
                reasons[key] = reasons.get(key, 0) + 1
        summary = "; ".join(f"{n}x {k}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
        fail(f"burst: {good} of {args.connections} connections answered in {elapsed:.1f} s; {summary}")
    print(f"PASS burst: {good} of {args.connections} connections answered in {elapsed:.1f} s", flush=True)


def wait_http(args):
    deadline = time.monotonic() + args.timeout
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            status, _ = http_get(args.host, args.port, 2)
            if status is not None:
                print(f"PASS wait-http: status {status}", flush=True)
                return
            last = "no HTTP answer"
        except OSError as error:
            last = str(error)
        time.sleep(0.1)
    fail(f"wait-http: no answer from {args.host}:{args.port} in {args.timeout} s ({last})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("echo")
    p.add_argument("host"); p.add_argument("port", type=int); p.add_argument("bytes", type=int)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("concurrent")
    p.add_argument("host"); p.add_argument("port", type=int); p.add_argument("connections", type=int)
    p.add_argument("body")
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("burst")
    p.add_argument("host"); p.add_argument("port", type=int); p.add_argument("connections", type=int)
    p.add_argument("--body"); p.add_argument("--echo", type=int, default=0)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("wait-http")
    p.add_argument("host"); p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    {"echo": echo, "concurrent": concurrent, "burst": burst, "wait-http": wait_http}[args.command](args)


if __name__ == "__main__":
    main()
