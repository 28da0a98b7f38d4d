#!/usr/bin/env bash
# Tests/integration/stdio.sh — stdin, stdout and stderr as separate binary-safe streams over
# virtio-console when egg's own streams are pipes or files, and signals sent to egg reaching
# the guest's handlers (Sources/EggHost/HostStreams.swift, Sources/Kernel/HostStreamSetup.swift,
# Sources/KernelCore/Devices/HostStream.swift). Every guest case runs natively first.
#
# Layer: tests. Called by `make integration-test`; runs alone too:
#   Tests/integration/stdio.sh [SUBSTRING...]
# Needs: .build/release/egg (EGG=path), build/kernel/kernel.elf,
# build/guest/{stdio_pipe_test,sigterm_test}-musl, /bin/busybox (static), sha256sum.
# Prints one line per case (PASS/FAIL name detail), the measured throughput, and
# "stdio: N passed, N failed"; exits 1 if any case failed. Work files: build/integration/stdio/.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
EGG="${EGG:-.build/release/egg}"
G=build/guest
W="$ROOT/build/integration/stdio"
for need in "$EGG" build/kernel/kernel.elf "$G/stdio_pipe_test-musl" "$G/sigterm_test-musl"; do
    [ -e "$need" ] || { echo "stdio.sh: $need missing: build first (make all)" >&2; exit 1; }
done
rm -rf "$W"; mkdir -p "$W"
passed=0; failed=0
want() { # case name filter
    [ ${#FILTERS[@]} -eq 0 ] && return 0
    for s in "${FILTERS[@]}"; do [[ "$CASE" == *"$s"* ]] && return 0; done
    return 1
}
FILTERS=("$@")
ok() { echo "PASS $CASE ${1:-}"; passed=$((passed + 1)); }
bad() { echo "FAIL $CASE $1"; failed=$((failed + 1)); }
now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.1f", b / (e - s) / 1e6 }'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

head -c $((4 << 20)) /dev/urandom > "$W/random4M"
# A copy of random data through stdin and stdout; the verdict (on stderr) and the data must
# arrive apart, the data bit-exact.
copy_case() { # name input
    local input="$2"
    CASE="$1-native"
    if want; then
        if "$G/stdio_pipe_test-musl" < "$input" > "$W/$1.native.out" 2> "$W/$1.native.err" \
            && grep -q '^PASS stdio_pipe_test' "$W/$1.native.err" && [ "$(sha "$W/$1.native.out")" = "$(sha "$input")" ]
        then ok; else bad "native: $(cat "$W/$1.native.err")"; fi
    fi
    CASE="$1"
    if want; then
        local t0 t1 status
        t0=$(now)
        # shellcheck disable=SC2086  # EGG_OPTS: extra egg options, split on spaces
        timeout 600 "$EGG" run ${EGG_OPTS:-} "$G/stdio_pipe_test-musl" < "$input" > "$W/$1.out" 2> "$W/$1.err"
        status=$?
        t1=$(now)
        if [ $status -ne 0 ]; then bad "status $status: $(head -c 300 "$W/$1.err")"
        elif ! grep -q '^PASS stdio_pipe_test' "$W/$1.err"; then bad "no verdict on stderr: $(head -c 300 "$W/$1.err")"
        elif [ "$(sha "$W/$1.out")" != "$(sha "$input")" ]; then bad "stdout differs from stdin ($(wc -c < "$W/$1.out") bytes)"
        else ok "$(wc -c < "$input") bytes, sha256 equal, $(mbps $(( $(wc -c < "$input") )) "$t0" "$t1") MB/s through both (boot included)"; fi
    fi
}
copy_case random-4MiB "$W/random4M"
for i in $(seq 16); do cat "$W/random4M"; done > "$W/random64M"
copy_case random-64MiB "$W/random64M"
: > "$W/empty"
copy_case empty-stdin "$W/empty"
# microvm has no PCI: the same streams over a virtio-serial-device on virtio-mmio.
EGG_OPTS="--machine microvm" copy_case random-4MiB-microvm "$W/random4M"

# One way at a time (busybox dd, 64 KiB blocks), boot time subtracted.
if [ -x /bin/busybox ]; then
    CASE=throughput
    if want; then
        t0=$(now); "$EGG" run /bin/busybox -- true < /dev/null; t1=$(now)
        boot=$(awk -v s="$t0" -v e="$t1" 'BEGIN { print e - s }')
        t0=$(now); "$EGG" run /bin/busybox -- dd of=/dev/null bs=65536 < "$W/random64M" 2> "$W/in.err"; s1=$?; t1=$(now)
        in=$(awk -v s="$t0" -v e="$t1" -v b="$boot" 'BEGIN { printf "%.1f", 67108864 / (e - s - b) / 1e6 }')
        t0=$(now); "$EGG" run /bin/busybox -- dd if=/dev/zero bs=65536 count=1024 2> "$W/out.err" > "$W/zeros"; s2=$?; t1=$(now)
        out=$(awk -v s="$t0" -v e="$t1" -v b="$boot" 'BEGIN { printf "%.1f", 67108864 / (e - s - b) / 1e6 }')
        if [ $s1 -eq 0 ] && [ $s2 -eq 0 ] && [ "$(wc -c < "$W/zeros")" -eq 67108864 ]; then
            ok "stdin $in MB/s, stdout $out MB/s (64 MiB each, boot $(printf %.2f "$boot") s subtracted)"
        else bad "dd failed: $s1 $s2 $(cat "$W/in.err" "$W/out.err" | head -c 300)"; fi
    fi
    # stderr apart: 2>/dev/null hides it, >file captures only stdout.
    CASE=stderr-separate
    if want; then
        "$EGG" run /bin/busybox -- sh -c 'echo to-out; echo to-err >&2' < /dev/null > "$W/sep.out" 2> "$W/sep.err"
        if [ "$(cat "$W/sep.out")" = "to-out" ] && grep -qx to-err "$W/sep.err" && ! grep -q to-out "$W/sep.err"
        then ok; else bad "stdout [$(cat "$W/sep.out")] stderr [$(cat "$W/sep.err")]"; fi
    fi
    CASE=stdin-binary-0x04
    if want; then
        got=$(printf 'a\004b\000c' | "$EGG" run /bin/busybox -- wc -c)
        if [ "$got" = "5" ]; then ok; else bad "wc -c gave [$got], expected 5"; fi
    fi
    # The reader of egg's stdout goes away: the guest's next write fails with EPIPE and
    # SIGPIPE ends it (status 141), as `yes | head -2` on Linux.
    CASE=stdout-reader-gone-sigpipe
    if want; then
        got=$(timeout 60 "$EGG" run /bin/busybox -- yes 2> "$W/pipe.err" | head -2 | tr '\n' ' '; echo "${PIPESTATUS[0]}")
        if [ "$got" = "y y 141" ]; then ok; else bad "got [$got]: $(head -c 200 "$W/pipe.err")"; fi
    fi
fi

# Signals: the handler runs and the program's own status comes back.
sig_case() { # name program-args... ; sends SIGTERM once, expects PASS and status 0
    local name="$1"; shift
    local status
    "$@" > "$W/$name.out" 2> "$W/$name.err" &
    local pid=$!
    for _ in $(seq 300); do grep -q ready "$W/$name.out" 2>/dev/null && break; sleep 0.1; done
    kill -TERM $pid
    wait $pid; status=$?
    if [ $status -eq 0 ] && grep -q '^PASS sigterm_test' "$W/$name.out"; then ok
    else bad "status $status: $(cat "$W/$name.out" "$W/$name.err" | head -c 300)"; fi
}
CASE=sigterm-handler-native; want && sig_case "$CASE" "$G/sigterm_test-musl"
CASE=sigterm-handler; want && sig_case "$CASE" "$EGG" run "$G/sigterm_test-musl"
CASE=sigterm-handler-microvm; want && sig_case "$CASE" "$EGG" run --machine microvm "$G/sigterm_test-musl"

stubborn_case() { # name second-sigterm(yes/no) egg-options...
    local name="$1" second="$2"; shift 2
    local status t0 t1
    t0=$(now)
    "$EGG" run "$@" "$G/sigterm_test-musl" -- stubborn > "$W/$name.out" 2> "$W/$name.err" &
    local pid=$!
    for _ in $(seq 300); do grep -q ready "$W/$name.out" 2>/dev/null && break; sleep 0.1; done
    kill -TERM $pid
    if [ "$second" = yes ]; then
        for _ in $(seq 100); do grep -q 'got SIGTERM' "$W/$name.out" && break; sleep 0.1; done
        kill -TERM $pid
    fi
    wait $pid; status=$?
    t1=$(now)
    if [ $status -eq 137 ] && grep -q 'got SIGTERM' "$W/$name.out"; then ok "$(awk -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1fs", e - s }')"
    else bad "status $status (want 137): $(cat "$W/$name.out" "$W/$name.err" | head -c 300)"; fi
}
CASE=second-sigterm-kills; want && stubborn_case "$CASE" yes
CASE=stop-timeout-kills; want && stubborn_case "$CASE" no --stop-timeout 1

# The terminal's size: under a pseudo-terminal of 50x132 the guest's TIOCGWINSZ says so (egg
# passes its own terminal's size, ConsoleMode.swift); with stdout a pipe it is ENOTTY.
winsize_case() { # name command...
    CASE="$1"; shift
    want || return 0
    local out status
    out=$(timeout 300 python3 Tests/integration/winsize_pty.py 50 132 "$@" 2>&1 | tr -d '\r')
    status=$?
    if echo "$out" | grep -q '^PASS winsize_test'; then ok; else bad "status $status: $(echo "$out" | head -c 300)"; fi
}
if [ -e "$G/winsize_test-musl" ]; then
    winsize_case terminal-size-native "$G/winsize_test-musl" 50 132
    winsize_case terminal-size "$EGG" run --net none "$G/winsize_test-musl" -- 50 132
    CASE=terminal-ioctl-on-pipe-native
    if want; then if "$G/winsize_test-musl" pipe < /dev/null | grep -q '^PASS'; then ok; else bad "native"; fi; fi
    CASE=terminal-ioctl-on-pipe
    if want; then
        out=$(timeout 300 "$EGG" run --net none "$G/winsize_test-musl" -- pipe < /dev/null 2>&1 | cat)
        if echo "$out" | grep -q '^PASS winsize_test'; then ok; else bad "$(echo "$out" | head -c 300)"; fi
    fi
fi

echo "stdio: $passed passed, $failed failed"
[ $failed -eq 0 ]
