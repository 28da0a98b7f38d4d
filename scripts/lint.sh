#!/usr/bin/env bash
# scripts/lint.sh — the project's own style checks (`make lint`; STYLE.md habits 1 and 10).
#
# 1. Unsafe code lives in the arch/runtime layer only: the logic modules (LinuxABI, ELF,
#    KernelCore, Drivers, Net) must not mention Unsafe*Pointer, unsafeBitCast or withUnsafe*.
# 2. Every source file starts with a header comment saying what it is.
# Prints each problem and exits 1 if there is any.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

problems=0
for dir in Sources/LinuxABI Sources/ELF Sources/KernelCore Sources/Drivers Sources/Net; do
    [ -d "$dir" ] || continue
    while IFS= read -r hit; do
        echo "lint: unsafe code in a logic module: $hit"
        problems=$((problems + 1))
    done < <(grep -rnE 'Unsafe[A-Za-z]*Pointer|unsafeBitCast|withUnsafe' "$dir" --include='*.swift')
done
while IFS= read -r f; do
    if ! head -n 1 "$f" | grep -qE '^(//|/\*|#)'; then
        echo "lint: $f does not start with a header comment"
        problems=$((problems + 1))
    fi
done < <(git ls-files 'Sources/*.swift' 'Sources/*.c' 'Sources/*.h' 'Sources/*.S' 'Guest/*.c' 'Guest/*.swift' 'Guest/*.go' 'Tests/*.swift' 'scripts/*.sh')
if [ "$problems" -gt 0 ]; then
    echo "lint: $problems problem(s)"
    exit 1
fi
echo "lint: ok"
