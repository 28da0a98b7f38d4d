#!/usr/bin/env bash
# scripts/setup.sh — host set-up for egg (called by `make setup`, so by `make run`/`make test`).
#
# Layer: build tooling. Neighbours: the top-level Makefile (build flags), Guest/Makefile (guest
# test programs), Tests/integration/run.sh (QEMU tests), .ci/run (CI entry).
#
# Idempotent and fast when everything is present: each Debian package is checked with
# dpkg-query first; apt-get update + install run only when something is missing. sudo is
# used only when we are not root. Prints one line per step.
set -euo pipefail

# Debian 12 packages the build, the tests and the benchmarks need.
#   qemu-system-x86  the machine egg runs guests on; qemu-utils for image tools (qemu-img)
#   musl-tools       musl-gcc for the static musl guests and the Embedded Swift guest
#   libelf-dev, pkg-config   the CLibELF system-library target of the egg CLI
#   gcc              glibc static / static-PIE guests
#   grub-*, xorriso, mtools, ovmf   `make iso` (BIOS and UEFI boot) and its test
#   busybox-static, golang-go       extra real-world static guests
#   strace           to compare a guest's syscalls natively; hyperfine, wrk for `make bench`
#   libsqlite3-dev, sqlite3   a real SQLite database on a volume (Guest/sqlite, volumes.sh)
#   python3          helper scripts; curl and python3 are the host clients of the network
#                    tests (Tests/integration/net.sh), wrk the HTTP benchmark
PACKAGES=(
    qemu-system-x86 qemu-utils musl-tools libelf-dev pkg-config gcc
    grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools ovmf
    busybox-static golang-go strace hyperfine wrk python3 curl libsqlite3-dev sqlite3
)

step() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (not root and no sudo)"
    fi
}

installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# 1. Debian packages.
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian/Ubuntu"
missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    step "packages: all ${#PACKAGES[@]} present"
else
    step "packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    for p in "${missing[@]}"; do
        installed "$p" || die "package $p did not install"
    done
    step "packages: installed ${#missing[@]}"
fi

# 2. Tools the build calls directly (a package can be present but a tool renamed).
for t in qemu-system-x86_64 musl-gcc gcc pkg-config xorriso; do
    command -v "$t" >/dev/null 2>&1 || die "tool $t not on PATH after package install"
done
pkg-config --exists libelf || die "pkg-config cannot find libelf (libelf-dev)"
step "tools: qemu-system-x86_64, musl-gcc, gcc, pkg-config libelf, xorriso found"

# 3. Swift toolchain: not a Debian package; it must be installed at /opt/swift (the Makefile's
# SWIFT_BIN) or be on PATH.
SWIFT_BIN="${SWIFT_BIN:-/opt/swift/usr/bin}"
if [ -x "$SWIFT_BIN/swiftc" ]; then
    swiftc="$SWIFT_BIN/swiftc"
elif command -v swiftc >/dev/null 2>&1; then
    swiftc="$(command -v swiftc)"
else
    die "Swift toolchain not found: expected $SWIFT_BIN/swiftc or swiftc on PATH (Swift 6.3 from swift.org, unpacked to /opt/swift)"
fi
swift_dir="$(dirname "$swiftc")"
[ -x "$swift_dir/ld.lld" ] || die "ld.lld not found next to $swiftc (needed to link the kernel)"
[ -d "$swift_dir/../lib/swift/embedded/x86_64-unknown-none-elf" ] ||
    die "Swift toolchain at $swift_dir lacks Embedded Swift for x86_64-unknown-none-elf"
step "swift: $("$swiftc" --version 2>/dev/null | head -n1) ($swiftc)"
