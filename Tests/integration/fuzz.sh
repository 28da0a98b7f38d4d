#!/usr/bin/env bash
# Tests/integration/fuzz.sh — runs the syscall fuzzer (Guest/c/syscall_fuzz.c) under egg, one
# seed at a time, and says per seed how it ended. Called by `make fuzz` (long runs, chosen
# seeds) and by `make integration-test` (a short run).
#
# Layer: tests. Needs build/guest/syscall_fuzz-musl and .build/release/egg (EGG=path to
# override); builds nothing.
#
# Usage: Tests/integration/fuzz.sh [--native] [--timeout S] [--calls N] [--keep] SEED...
#   --calls N     system calls per seed (default 20000)
#   --timeout S   egg's --timeout per seed (default: 60 s + 1 s per 1000 calls)
#   --native      also run each seed natively first, in a throwaway directory (as root it
#                 must not harm the host; see the header of syscall_fuzz.c)
#   --avoid-known keep away from issue 12's known panics (huge counts, huge file sizes), to
#                 find the rest
#   --keep        keep the logs in build/fuzz/ even when every seed passed
# One line per seed: "pass", "KERNEL PANIC" (egg status 250), "HANG" (timeout, 124), or
# "GUEST CRASH/FAILED (status N)", with the log file; the last call printed by the guest
# tells where a run stopped, and `egg run --trace build/guest/syscall_fuzz-musl SEED CALLS
# FROM` replays it with every call from FROM on printed. Exits 1 if any seed did not pass.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
EGG="${EGG:-.build/release/egg}"
FUZZ=build/guest/syscall_fuzz-musl
LOGS=build/fuzz
calls=20000
timeout=""
native=0
keep=0
seeds=()
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) shift; calls="$1" ;;
        --timeout) shift; timeout="$1" ;;
        --native) native=1 ;;
        --avoid-known) extra=(-1 avoid-known) ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) seeds+=("$1") ;;
    esac
    shift
done
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
[ -n "$timeout" ] || timeout=$(( 60 + calls / 1000 ))
for f in "$EGG" "$FUZZ"; do
    [ -x "$f" ] || { echo "fuzz.sh: $f missing (make all)" >&2; exit 1; }
done
mkdir -p "$LOGS"

failed=0
for seed in "${seeds[@]}"; do
    if [ "$native" -eq 1 ]; then
        dir=$(mktemp -d)
        ( cd "$dir" && timeout -s KILL 300 "$ROOT/$FUZZ" "$seed" "$calls" "${extra[@]}" >"$ROOT/$LOGS/native-$seed.out" 2>&1 )
        status=$?
        rm -rf "$dir"
        if [ $status -ne 0 ] || ! grep -q "PASS syscall_fuzz seed=$seed " "$LOGS/native-$seed.out"; then
            echo "seed $seed: natively FAILED (status $status), see $LOGS/native-$seed.out"
            failed=1
            continue
        fi
    fi
    log="$LOGS/seed-$seed.log"
    start=$(date +%s)
    "$EGG" run --accel tcg --timeout "$timeout" "$FUZZ" -- "$seed" "$calls" "${extra[@]}" >"$log" 2>&1
    status=$?
    took=$(( $(date +%s) - start ))
    last=$(grep -E "^syscall_fuzz seed=|^FAIL|fault:" "$log" | tail -1)
    if [ $status -eq 0 ] && grep -q "PASS syscall_fuzz seed=$seed calls=$calls" "$log"; then
        echo "seed $seed: pass ($calls calls, ${took}s)"
        continue
    fi
    failed=1
    case $status in
        250) what="KERNEL PANIC: $(grep -m1 -i panic "$log")" ;;
        124) what="HANG (no verdict within ${timeout}s; last progress: ${last:-none})" ;;
        *)   what="GUEST CRASH/FAILED (status $status; ${last:-no progress line})" ;;
    esac
    echo "seed $seed: $what; log $log"
done
[ "$failed" -eq 0 ] && [ "$keep" -eq 0 ] && rm -f "$LOGS"/seed-*.log "$LOGS"/native-*.out
exit $failed
