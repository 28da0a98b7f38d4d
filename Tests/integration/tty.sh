#!/usr/bin/env bash
# Tests/integration/tty.sh — the console as a terminal (line discipline, raw mode, ^C,
# piped input, the PS/2 keyboard): programs run under a pseudo-terminal natively and under
# egg while Tests/integration/tty_cases.py types into them (see its header for the cases).
#
# Layer: tests. Called by `make integration-test` (so by `make test`); runs alone too:
#   Tests/integration/tty.sh [SUBSTRING...]
# Needs: .build/release/egg (EGG=path), build/kernel/kernel.elf, build/guest/{sha1_repl,
# tty_raw,stdin_echo}-musl, qemu-system-x86_64 (EGG_QEMU=path), python3.
# Prints one line per case (PASS/FAIL name detail) and "tty: N passed, N failed"; exits 1 if
# any case failed. Outputs are kept in build/integration/tty/.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export EGG="${EGG:-.build/release/egg}"
export GUEST=build/guest
export WORK="$ROOT/build/integration/tty"

for need in "$EGG" build/kernel/kernel.elf "$GUEST/sha1_repl-musl" "$GUEST/tty_raw-musl" "$GUEST/stdin_echo-musl"; do
    if [ ! -e "$need" ]; then
        echo "tty.sh: $need missing: build first (make all)" >&2
        exit 1
    fi
done
rm -rf "$WORK"
mkdir -p "$WORK"
exec python3 "$ROOT/Tests/integration/tty_cases.py" "$@"
