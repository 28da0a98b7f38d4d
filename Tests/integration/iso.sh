#!/usr/bin/env bash
# Tests/integration/iso.sh — bootable images and the screen: `egg pack` ISOs booted by
# SeaBIOS and by OVMF (UEFI), `egg run app.iso`, and screenshots of the Lissajous guest
# (Guest/c/lissajous.c) drawing on /dev/fb0, both from an ISO (multiboot 2 framebuffer from
# GRUB) and from a -kernel boot with `-vga std` (the kernel programs the Bochs display).
#
# Layer: tests. Called by Tests/integration/run.sh (the "iso" case); runs alone too:
#   Tests/integration/iso.sh [--keep]
# Needs: .build/release/egg (EGG=path), build/kernel/kernel.elf, build/guest/{hello,
# exit_code,lissajous}-musl, grub-mkrescue + xorriso + mtools, qemu-system-x86_64, python3
# (PPM check); OVMF for the UEFI cases (SKIP without it).
# Screenshots: QEMU's monitor on a unix socket, `screendump FILE.ppm` once the guest says it
# is drawing; the check wants many pixels of the curve colour (#ffc000) inside the box the
# guest prints, none outside it, and the guest's background colour around it — a picture
# of the curve, not just a non-empty image.
# Prints one line per case (PASS/FAIL/SKIP name detail) and "iso: N passed, N failed,
# N skipped"; exits 1 if any case failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
EGG="${EGG:-.build/release/egg}"
GUEST=build/guest
KERNEL=build/kernel/kernel.elf
QEMU="${EGG_QEMU:-qemu-system-x86_64}"
LIMIT=60                       # seconds per boot under TCG
keep=0
[ "${1:-}" = "--keep" ] && keep=1

OVMF=""
for f in /usr/share/ovmf/OVMF.fd /usr/share/OVMF/OVMF.fd /usr/share/qemu/OVMF.fd; do
    [ -f "$f" ] && { OVMF=$f; break; }
done

WORK="$ROOT/build/integration/iso"
rm -rf "$WORK"
mkdir -p "$WORK"
passed=0 failed=0 skipped=0
report() { # STATUS name detail
    printf '%-5s %-28s %s\n' "$1" "$2" "$3"
    case "$1" in PASS) passed=$((passed + 1)) ;; SKIP) skipped=$((skipped + 1)) ;; *) failed=$((failed + 1)) ;; esac
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

for need in "$EGG" "$KERNEL" "$GUEST/hello-musl" "$GUEST/exit_code-musl" "$GUEST/lissajous-musl"; do
    if [ ! -e "$need" ]; then
        echo "iso.sh: $need missing: build first (make all)" >&2
        exit 1
    fi
done
if ! command -v grub-mkrescue >/dev/null || ! command -v xorriso >/dev/null; then
    report SKIP iso-all "grub-mkrescue/xorriso not installed (scripts/setup.sh installs them)"
    echo "iso: 0 passed, 0 failed, 1 skipped"
    exit 0
fi

# ---- pack: the images every later case boots -------------------------------------------
pack() { # name binary args...
    local name=$1 t
    shift
    t=$(now)
    if "$EGG" pack -o "$WORK/$name.iso" "$@" > "$WORK/$name.pack.out" 2> "$WORK/$name.pack.err"; then
        local steps
        steps=$(grep -c '^egg pack: ' "$WORK/$name.pack.err")
        if [ "$steps" -ge 5 ] && grep -q "wrote $WORK/$name.iso" "$WORK/$name.pack.err"; then
            report PASS "pack-$name" "$(elapsed "$t"), $steps progress lines, $(du -h "$WORK/$name.iso" | cut -f1)"
            return 0
        fi
        report FAIL "pack-$name" "progress lines missing [$WORK/$name.pack.err]"
    else
        report FAIL "pack-$name" "egg pack failed: $(tail -n 3 "$WORK/$name.pack.err" | tr '\n' ' ')"
    fi
    return 1
}
pack hello "$GUEST/hello-musl"
pack exit42 "$GUEST/exit_code-musl" -- 42
pack lissajous "$GUEST/lissajous-musl" -- 6

# A usage error is reported clearly (no image written).
if "$EGG" pack -o "$WORK/bad.iso" "$GUEST/bad/text.txt" > /dev/null 2> "$WORK/bad.pack.err"; then
    report FAIL pack-refuses-text "egg pack accepted a text file"
elif [ -e "$WORK/bad.iso" ] || ! grep -qi "not an ELF" "$WORK/bad.pack.err"; then
    report FAIL pack-refuses-text "no clear message or an image was written [$WORK/bad.pack.err]"
else
    report PASS pack-refuses-text "$(head -n1 "$WORK/bad.pack.err" | cut -c1-60)"
fi

# ---- egg run app.iso: BIOS and UEFI, output and exit status ----------------------------
run_image() { # name iso expected-status firmware(bios|uefi) expected-last-line
    local name=$1 iso=$2 want=$3 firmware=$4 line=$5 t rc env=()
    if [ "$firmware" = uefi ]; then
        [ -n "$OVMF" ] || { report SKIP "$name" "no OVMF image (apt-get install ovmf)"; return; }
        env=(EGG_UEFI_FIRMWARE="$OVMF")
    fi
    [ -f "$iso" ] || { report FAIL "$name" "no image (pack failed)"; return; }
    t=$(now)
    env "${env[@]}" timeout --kill-after=5 "$LIMIT" "$EGG" run --accel tcg "$iso" \
        < /dev/null > "$WORK/$name.out" 2> "$WORK/$name.err"
    rc=$?
    # OVMF writes its own boot messages on COM1 before GRUB; the guest's output ends it.
    local last
    last=$(tr -d '\r' < "$WORK/$name.out" | sed -e 's/\x1b\[[0-9;=]*[A-Za-z]//g' | grep -v '^$' | tail -n 1)
    if [ "$rc" -ne "$want" ]; then
        report FAIL "$name" "exit status $rc, expected $want [$WORK/$name.*]"
    elif [ "$firmware" = bios ] && [ -n "$line" ] && [ "$(cat "$WORK/$name.out")" != "$line" ]; then
        report FAIL "$name" "stdout is not exactly '$line' (GRUB noise on the serial line?) [$WORK/$name.out]"
    elif [ -n "$line" ] && [ "$last" != "$line" ]; then
        report FAIL "$name" "last line '$last', expected '$line' [$WORK/$name.out]"
    else
        report PASS "$name" "$(elapsed "$t"), status $rc"
    fi
}
run_image iso-bios-hello "$WORK/hello.iso" 0 bios "hello from egg"
run_image iso-bios-exit42 "$WORK/exit42.iso" 42 bios ""
run_image iso-uefi-hello "$WORK/hello.iso" 0 uefi "hello from egg"
run_image iso-uefi-exit42 "$WORK/exit42.iso" 42 uefi ""

# ---- screenshots of the Lissajous curve ------------------------------------------------
# check_screenshot PPM SERIAL-LOG → prints a reason, or nothing when the curve is there.
check_screenshot() {
    python3 - "$1" "$2" <<'EOF'
import re, sys
ppm, log = sys.argv[1], sys.argv[2]
m = re.search(r"curve #([0-9a-f]{6}) in box (\d+),(\d+)-(\d+),(\d+)", open(log, errors="replace").read())
if not m:
    print("the guest never said what it draws"); sys.exit()
colour = bytes.fromhex(m.group(1))
x0, y0, x1, y1 = (int(m.group(i)) for i in range(2, 6))
data = open(ppm, "rb").read()
fields, i = [], 0
while len(fields) < 4:
    while data[i:i+1].isspace(): i += 1
    j = i
    while not data[j:j+1].isspace(): j += 1
    fields.append(data[i:j]); i = j
pixels = data[i+1:]
if fields[0] != b"P6" or fields[3] != b"255":
    print("screendump is not a P6 PPM"); sys.exit()
w, h = int(fields[1]), int(fields[2])
if (w, h) != (1024, 768):
    print(f"screen is {w}x{h}, expected the 1024x768 graphics mode"); sys.exit()
inside = outside = background = 0
for y in range(h):
    row = pixels[y * w * 3:(y + 1) * w * 3]
    for x in range(0, w, 1):
        p = row[x * 3:x * 3 + 3]
        if p == colour:
            if x0 <= x <= x1 and y0 <= y <= y1: inside += 1
            else: outside += 1
        elif p == b"\x10\x10\x30":
            background += 1
if inside < 2000:
    print(f"only {inside} curve-coloured pixels inside the box"); sys.exit()
if outside:
    print(f"{outside} curve-coloured pixels outside the box {x0},{y0}-{x1},{y1}"); sys.exit()
if background < w * h // 2:
    print(f"the guest's background covers only {background} pixels"); sys.exit()
# The curve crosses the middle column and reaches the box's four sides (3:2 figure).
def any_in(xa, xb, ya, yb):
    for y in range(ya, yb + 1):
        row = pixels[y * w * 3:(y + 1) * w * 3]
        for x in range(xa, xb + 1):
            if row[x * 3:x * 3 + 3] == colour: return True
    return False
for side, box in {"left": (x0, x0 + 12, y0, y1), "right": (x1 - 12, x1, y0, y1),
                  "top": (x0, x1, y0, y0 + 12), "bottom": (x0, x1, y1 - 12, y1)}.items():
    if not any_in(*box):
        print(f"the curve never reaches the {side} of its box"); sys.exit()
EOF
}

# screenshot_case NAME QEMU-ARGS... : boots with a monitor, waits for the guest's "drawing"
# line, takes a screendump, lets the guest finish, checks picture, verdict and exit status.
screenshot_case() {
    local name=$1 t
    shift
    local sock="$WORK/$name.monitor" serial="$WORK/$name.serial" ppm="$WORK/$name.ppm"
    rm -f "$sock" "$ppm"
    t=$(now)
    timeout --kill-after=5 "$LIMIT" "$QEMU" -M pc -accel tcg -cpu max -m 256M -nodefaults -no-reboot \
        -display none "$@" \
        -serial "file:$serial" -chardev "file,id=control,path=$WORK/$name.control" \
        -device isa-debugcon,iobase=0xe9,chardev=control \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -monitor "unix:$sock,server,nowait" < /dev/null > "$WORK/$name.qemu.out" 2>&1 &
    local pid=$! waited=0
    while ! grep -q "lissajous: drawing" "$serial" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge $((LIMIT * 10)) ]; then break; fi
        sleep 0.1
        waited=$((waited + 1))
    done
    sleep 1.5  # a few frames into the animation
    python3 - "$sock" "$ppm" <<'EOF' >> "$WORK/$name.monitor.log" 2>&1
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
time.sleep(0.2)
s.send(f"screendump {sys.argv[2]}\n".encode())
deadline = time.time() + 10
import os
while time.time() < deadline and not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
time.sleep(0.5)
s.close()
EOF
    wait "$pid"
    local rc=$? reason=""
    # isa-debug-exit: QEMU exits with (status << 1) | 1, so 1 for the guest's exit 0.
    if [ ! -s "$ppm" ]; then
        reason="no screendump (QEMU status $rc) [$WORK/$name.*]"
    elif [ "$rc" -ne 1 ]; then
        reason="QEMU exit code $rc, expected 1 (guest exit 0) [$WORK/$name.serial]"
    elif ! grep -qE '^PASS lissajous: [0-9]+ frames on 1024x768' "$serial"; then
        reason="no drawing verdict: $(grep -E '^(PASS|FAIL) ' "$serial" | head -n1) [$serial]"
    else
        reason=$(check_screenshot "$ppm" "$serial")
    fi
    if [ -z "$reason" ]; then
        report PASS "$name" "$(elapsed "$t"), $(grep -oE '[0-9]+ frames' "$serial")"
    else
        report FAIL "$name" "$reason"
    fi
}
if [ -f "$WORK/lissajous.iso" ]; then
    screenshot_case screen-iso-bios -vga std -drive "file=$WORK/lissajous.iso,media=cdrom,readonly=on,if=ide,index=2" -boot d
    if [ -n "$OVMF" ]; then
        screenshot_case screen-iso-uefi -vga std -bios "$OVMF" \
            -drive "file=$WORK/lissajous.iso,media=cdrom,readonly=on,if=ide,index=2" -boot d
    else
        report SKIP screen-iso-uefi "no OVMF image"
    fi
    # -kernel boots find the screen themselves (Bochs dispi): the same bundle, from the ISO.
    if xorriso -osirrox on -indev "$WORK/lissajous.iso" -extract /boot/egg/bundle "$WORK/lissajous.bundle" \
        > /dev/null 2>&1; then
        screenshot_case screen-kernel-stdvga -vga std -kernel "$KERNEL" -initrd "$WORK/lissajous.bundle"
        screenshot_case screen-kernel-bochs -vga none -device bochs-display -kernel "$KERNEL" \
            -initrd "$WORK/lissajous.bundle"
    else
        report FAIL screen-kernel-stdvga "cannot extract the bundle from the ISO"
    fi
else
    report FAIL screen-iso-bios "no lissajous image (pack failed)"
fi

# The kernel's text console: the hello image without isa-debug-exit, so the machine halts
# with the picture on the screen instead of QEMU exiting; the first text row must hold
# light-grey glyph pixels (the console's default colour) and the screen must be the
# 1024x768 graphics mode, not VGA text.
text_console_case() {
    local name=screen-text-console t
    local sock="$WORK/$name.monitor" serial="$WORK/$name.serial" ppm="$WORK/$name.ppm"
    [ -f "$WORK/hello.iso" ] || { report FAIL "$name" "no hello image"; return; }
    t=$(now)
    timeout --kill-after=5 "$LIMIT" "$QEMU" -M pc -accel tcg -cpu max -m 256M -nodefaults -no-reboot \
        -display none -vga std -drive "file=$WORK/hello.iso,media=cdrom,readonly=on,if=ide,index=2" -boot d \
        -serial "file:$serial" -monitor "unix:$sock,server,nowait" < /dev/null > "$WORK/$name.qemu.out" 2>&1 &
    local pid=$! waited=0
    while ! grep -q "hello from egg" "$serial" 2>/dev/null && [ "$waited" -lt $((LIMIT * 10)) ]; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        waited=$((waited + 1))
    done
    sleep 0.5
    python3 - "$sock" "$ppm" <<'EOF' >> "$WORK/$name.monitor.log" 2>&1
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.2)
s.send(f"screendump {sys.argv[2]}\n".encode())
deadline = time.time() + 10
while time.time() < deadline and not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
time.sleep(0.5)
s.send(b"quit\n")
time.sleep(0.2)
EOF
    wait "$pid"
    local reason
    reason=$(python3 - "$ppm" <<'EOF'
import sys
try:
    data = open(sys.argv[1], "rb").read()
except OSError:
    print("no screendump"); sys.exit()
head = data.split(b"\n", 3)
w, h = (int(v) for v in head[1].split())
if (w, h) != (1024, 768):
    print(f"screen is {w}x{h}, not the 1024x768 framebuffer"); sys.exit()
px = head[3]
def grey(x0, x1, y0, y1):
    return sum(1 for y in range(y0, y1) for x in range(x0, x1) if px[(y * w + x) * 3:(y * w + x) * 3 + 3] == b"\xaa\xaa\xaa")
first = grey(0, 14 * 8, 0, 16)      # "hello from egg": 14 cells on text row 0
rest = grey(0, 1024, 4 * 16, 768)   # nothing below the exit message
if not 150 <= first <= 1200:
    print(f"{first} text pixels in the first row, expected the glyphs of 'hello from egg'")
elif rest:
    print(f"{rest} text pixels below the fourth row")
EOF
)
    if [ -z "$reason" ]; then
        report PASS "$name" "$(elapsed "$t")"
    else
        report FAIL "$name" "$reason [$WORK/$name.*]"
    fi
}
text_console_case

echo "iso: $passed passed, $failed failed, $skipped skipped"
[ "$keep" -eq 1 ] || [ "$failed" -gt 0 ] || rm -rf "$WORK"
[ "$failed" -eq 0 ]
