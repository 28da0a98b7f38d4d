#!/usr/bin/env bash
# Tests/integration/net.sh — networking tests through `egg run -p` (called by `make
# integration-test` after run.sh, so by `make test` and .ci/run).
#
# Layer: tests. The servers are guest programs built by Guest/Makefile into build/guest/
# (Guest/c/httpd.c, Guest/swift/httpd.swift, Guest/go/httpd.go, Guest/c/echo_server.c); the
# host-side clients are curl and Tests/integration/net_client.py. Like run.sh, every server
# case runs natively first (it must pass there too) and then under `egg run --accel tcg -p
# HOSTPORT:GUESTPORT`, on a free host port, with a time limit:
#   httpd-*          GET / gives the fixed body, GET /nope a 404, GET /exit ends the server
#                    with status 0 and its "PASS" line (keep-alive, level- and edge-triggered
#                    epoll in C, Swift's Glibc, Go's net/http)
#   concurrent-200   200 connections open at once, each answered correctly
#   burst-100        100 clients connect at the same moment to the C httpd, all answered
#   burst-300        the same with 300
#   echo-256MiB      256 MiB each way through the echo server, SHA-256 compared
#   publish-*        malformed or unusable -p values: egg exits 125 with one clear line
#
# Usage: Tests/integration/net.sh [--keep] [SUBSTRING...]
# Prints one line per case (PASS/FAIL with times) and "net: N passed, N failed"; exits 1 if
# any case failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

EGG="${EGG:-.build/release/egg}"
GUEST=build/guest
CLIENT="python3 $ROOT/Tests/integration/net_client.py"
EGG_TIMEOUT="${EGG_TIMEOUT:-150}"   # seconds per egg run
ECHO_BYTES=$((256 << 20))
LOGS="$ROOT/build/integration-net"

keep=0
filters=()
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "net.sh: unknown option $arg" >&2; exit 2 ;;
        *) filters+=("$arg") ;;
    esac
done
for tool in curl python3; do
    command -v "$tool" > /dev/null || { echo "net.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
if [ ! -x "$EGG" ] || [ ! -x "$GUEST/httpd-musl" ]; then
    echo "net.sh: build egg and the guests first (make all)" >&2
    exit 1
fi
rm -rf "$LOGS"
mkdir -p "$LOGS"

passed=0
failed=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }
selected() {
    [ ${#filters[@]} -eq 0 ] && return 0
    for f in "${filters[@]}"; do [[ "$1" == *"$f"* ]] && return 0; done
    return 1
}
report() { # name reason-or-empty detail
    if [ -z "$2" ]; then
        passed=$((passed + 1))
        printf 'PASS  %-28s %s\n' "$1" "$3"
    else
        failed=$((failed + 1))
        printf 'FAIL  %-28s %s\n' "$1" "$2"
    fi
}

# A TCP port nobody listens on now (the kernel picks it; a race with another program
# taking it in between is possible but unlikely).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server LOG MODE GUESTPORT BIN ARGS... → sets SERVER_PID and HOST_PORT.
# MODE native: BIN listens on a free port (ARGS may use @PORT@); MODE egg: BIN runs under
# egg -p HOST_PORT:GUESTPORT and listens on GUESTPORT.
start_server() {
    local log=$1 mode=$2 guest_port=$3 bin=$4
    shift 4
    HOST_PORT=$(free_port)
    local args=() a listen_port=$guest_port
    [ "$mode" = native ] && listen_port=$HOST_PORT
    for a in "$@"; do args+=("${a//@PORT@/$listen_port}"); done
    if [ "$mode" = native ]; then
        timeout --kill-after=5 "$EGG_TIMEOUT" "$GUEST/$bin" "${args[@]}" > "$log.out" 2> "$log.err" < /dev/null &
    else
        # EGG_MACHINE (e.g. microvm: the virtio-mmio card) is set by a case for its egg run.
        timeout --kill-after=5 "$EGG_TIMEOUT" "$EGG" run --accel tcg --timeout "$EGG_TIMEOUT" -m "${EGG_MEMORY:-256M}" \
            ${EGG_MACHINE:+--machine "$EGG_MACHINE"} -p "$HOST_PORT:$guest_port" "$GUEST/$bin" -- "${args[@]}" > "$log.out" 2> "$log.err" < /dev/null &
    fi
    SERVER_PID=$!
}

# wait_server LOG STATUS STEM → sets REASON (empty when fine); the server must exit with
# STATUS and print "PASS STEM". Not for $(...): the server is this shell's child.
wait_server() {
    local log=$1 want=$2 stem=$3 rc=0
    REASON=""
    wait "$SERVER_PID" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        REASON="server exit status $rc, expected $want ($(tail -n 3 "$log.err" | tr '\n' ' '))"
    elif ! grep -q "^PASS $stem" "$log.out"; then
        REASON="no 'PASS $stem' line from the server: $(tail -n 2 "$log.out" | tr '\n' ' ')"
    fi
}

stop_server() { kill "$SERVER_PID" 2> /dev/null || true; wait "$SERVER_PID" 2> /dev/null || true; }

# end_round NAME LOG STEM MODE T: ends one native or egg round of a case. It reads and sets
# the caller's `reason` and `detail` (bash's dynamic scope): the server is stopped when the
# round already failed, else waited for (a wrong exit fails the round); a failed round is
# reported and gives status 1 so the caller returns.
end_round() {
    local name=$1 log=$2 stem=$3 mode=$4 t=$5
    if [ -n "$reason" ]; then
        stop_server
    else
        wait_server "$log" 0 "$stem"
        [ -n "$REASON" ] && reason="$mode: $REASON"
    fi
    detail+="$mode $(elapsed "$t") "
    if [ -n "$reason" ]; then
        report "$name" "$reason (logs: ${log#"$ROOT"/}.*)"
        return 1
    fi
}

# httpd_case NAME BIN STEM ARGS...: natively, then under egg.
httpd_case() {
    local name=$1 bin=$2 stem=$3
    shift 3
    local mode t reason body detail=""
    for mode in native egg; do
        local log="$LOGS/$name.$mode"
        t=$(now)
        start_server "$log" "$mode" 8000 "$bin" "$@"
        reason=""
        if ! $CLIENT wait-http 127.0.0.1 "$HOST_PORT" --timeout 60 > "$log.client" 2>&1; then
            reason="$mode: server never answered: $(tail -n 1 "$log.client")"
        else
            body=$(curl -sS --max-time 20 "http://127.0.0.1:$HOST_PORT/" 2>> "$log.client" || true)
            local status404 status_exit
            status404=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$HOST_PORT/nope" 2>> "$log.client" || true)
            # Two requests on one keep-alive connection (curl reuses it for both URLs).
            local twice
            twice=$(curl -sS --max-time 20 "http://127.0.0.1:$HOST_PORT/" "http://127.0.0.1:$HOST_PORT/" 2>> "$log.client" || true)
            status_exit=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$HOST_PORT/exit" 2>> "$log.client" || true)
            if [ "$body" != "hello from httpd" ]; then
                reason="$mode: GET / gave '${body:0:80}'"
            elif [ "$status404" != 404 ]; then
                reason="$mode: GET /nope gave status '$status404', expected 404"
            elif [ "$twice" != "$(printf 'hello from httpd\nhello from httpd')" ]; then
                reason="$mode: two GETs on one connection gave '${twice:0:80}'"
            elif [ "$status_exit" != 200 ]; then
                reason="$mode: GET /exit gave status '$status_exit'"
            fi
        fi
        end_round "$name" "$log" "$stem" "$mode" "$t" || return
    done
    report "$name" "" "$detail"
}

# client_case NAME BIN STEM GUESTPORT 'CLIENT ARGS' SERVER-ARGS...: the client (net_client.py,
# with @PORT@ for the host port) must pass; then the server is ended with /exit when it is
# an httpd, or ends by itself (echo_server's connection count).
client_case() {
    local name=$1 bin=$2 stem=$3 guest_port=$4 client_args=$5
    shift 5
    local mode t reason detail="" verdict
    for mode in native egg; do
        local log="$LOGS/$name.$mode"
        t=$(now)
        start_server "$log" "$mode" "$guest_port" "$bin" "$@"
        reason=""
        if [[ "$bin" == httpd* ]] && ! $CLIENT wait-http 127.0.0.1 "$HOST_PORT" --timeout 60 > "$log.wait" 2>&1; then
            reason="$mode: server never answered"
        elif [[ "$bin" != httpd* ]] && ! wait_for_line "$log.out" "listening" 60; then
            reason="$mode: server never said it was listening"
        elif ! $CLIENT ${client_args//@PORT@/$HOST_PORT} > "$log.client" 2>&1; then
            reason="$mode: $(tail -n 1 "$log.client")"
        fi
        verdict=$(grep -E '^PASS' "$log.client" | head -n 1 || true)
        if [ -z "$reason" ] && [[ "$bin" == httpd* ]]; then
            curl -sS -o /dev/null --max-time 20 "http://127.0.0.1:$HOST_PORT/exit" 2>> "$log.client" || true
        fi
        end_round "$name" "$log" "$stem" "$mode" "$t" || return
    done
    report "$name" "" "$detail(${verdict#PASS })"
}

# The echo server prints its line before accepting; egg accepts on the host port (PortRelay) as
# soon as QEMU starts, so the client must wait for the guest, not just for the port.
wait_for_line() { # file text seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2> /dev/null && return 0
        sleep 0.1
    done
    return 1
}

# publish_case NAME 'EGG ARGS' REGEX: egg must exit 125 (docker's status for refused options)
# with one stderr line matching REGEX.
publish_case() {
    local name=$1 egg_args=$2 regex=$3 rc=0 log="$LOGS/$1"
    local t
    t=$(now)
    # shellcheck disable=SC2086
    timeout 60 "$EGG" run --accel tcg $egg_args "$GUEST/hello-musl" > "$log.out" 2> "$log.err" < /dev/null || rc=$?
    if [ "$rc" -ne 125 ]; then
        report "$name" "exit status $rc, expected 125 ($(head -n 2 "$log.err" | tr '\n' ' '))"
    elif [ "$(wc -l < "$log.err")" -ne 1 ] || ! grep -Eq "$regex" "$log.err"; then
        report "$name" "stderr should be one line matching /$regex/: $(tr '\n' '|' < "$log.err")"
    elif [ -s "$log.out" ]; then
        report "$name" "the guest ran (stdout: $(head -c 80 "$log.out"))"
    else
        report "$name" "" "$(elapsed "$t") $(cat "$log.err")"
    fi
}

selected httpd-c-level && httpd_case httpd-c-level httpd-musl httpd @PORT@
selected httpd-c-edge && httpd_case httpd-c-edge httpd-glibc httpd @PORT@ --edge
selected httpd-c-pie && httpd_case httpd-c-pie httpd-pie httpd @PORT@
# microvm has no PCI: the card is virtio-net-device on virtio-mmio (Sources/Drivers/VirtioMMIO.swift).
selected httpd-c-microvm && EGG_MACHINE=microvm httpd_case httpd-c-microvm httpd-musl httpd @PORT@
selected httpd-swift && httpd_case httpd-swift httpd-swift httpd-swift @PORT@
selected httpd-go && httpd_case httpd-go httpd-go httpd-go @PORT@
# 200 connections at once, at the default memory size: socket buffers grow with the bytes
# they hold and the kernel heap grows from free RAM (Net/PacketBytes.swift, Kernel/HeapGrowth.swift).
selected concurrent-200 && client_case concurrent-200 httpd-musl httpd 8000 \
    "concurrent 127.0.0.1 @PORT@ 200 hello\\x20from\\x20httpd\\n --timeout 90" @PORT@
# Bursts (issue 12): every client connects at the same moment, as redis-benchmark or a load
# generator does; Linux keeps such connections in the listen backlog (or drops the SYN so
# the client retries) and never loses or resets one. Under egg, QEMU's user networking
# listens for a hostfwd rule with a backlog of 1 (libslirp tcp_listen), which lost about
# half of a 300-connection burst on the host; egg now listens on TCP -p ports itself with a
# large backlog and paces its connections to QEMU (Sources/EggHost/PortRelay.swift).
selected burst-100 && client_case burst-100 httpd-musl httpd 8000 \
    "burst 127.0.0.1 @PORT@ 100 --body hello\\x20from\\x20httpd\\n --timeout 120" @PORT@
selected burst-300 && client_case burst-300 httpd-musl httpd 8000 \
    "burst 127.0.0.1 @PORT@ 300 --body hello\\x20from\\x20httpd\\n --timeout 120" @PORT@
selected echo-256MiB && client_case echo-256MiB echo_server-musl echo_server 9000 \
    "echo 127.0.0.1 @PORT@ $ECHO_BYTES --timeout 120" @PORT@ 1

if selected publish; then
    publish_case publish-no-colon "-p 8080" "expected HOST:GUEST"
    publish_case publish-bad-port "-p 70000:80" "70000 is not a port number"
    publish_case publish-bad-protocol "-p 8080:80/sctp" "expected HOST:GUEST"
    publish_case publish-bad-address "-p 1.2.3:8080:80" "not an IPv4 address"
    publish_case publish-duplicate "-p 18080:80 -p 18080:81" "already published by -p 18080:80"
    publish_case publish-net-none "--net none -p 18080:80" "drop --net none"
    # A port this script holds open is in use.
    busy_port=$(free_port)
    python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); print("ready", flush=True); time.sleep(60)' "$busy_port" > "$LOGS/busy.out" &
    busy_pid=$!
    wait_for_line "$LOGS/busy.out" ready 10 || true
    publish_case publish-port-in-use "-p $busy_port:80" "in use"
    kill "$busy_pid" 2> /dev/null || true
    wait "$busy_pid" 2> /dev/null || true
fi

echo "net: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$keep" -eq 0 ] && rm -rf "$LOGS"
[ "$failed" -eq 0 ]
