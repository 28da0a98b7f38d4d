#!/usr/bin/env bash
# Tests/integration/iso.sh — bootable images and the screen: `egg pack` ISOs and
# `egg pack --format raw` GPT disk images booted by SeaBIOS and by OVMF (UEFI) through
# `egg run app.iso` / `egg run app.img`, and screenshots of the Lissajous guests
# (Guest/c/lissajous.c, Guest/swift/lissajous.swift) drawing on /dev/fb0, from an ISO and a
# raw disk (multiboot 2 framebuffer from GRUB) and from a -kernel boot with `-vga std` (the
# kernel programs the Bochs display); /dev/fb0 listed by `ls -l /dev` as a device node.
#
# Layer: tests. Called by Tests/integration/run.sh (the "iso" case); runs alone too:
#   Tests/integration/iso.sh [--keep]
# Needs: .build/release/egg (EGG=path), build/kernel/kernel.elf, build/guest/{hello,
# exit_code,lissajous}-musl and lissajous-swift, grub-mkrescue + grub-mkimage + xorriso +
# mtools, qemu-system-x86_64, python3 (PPM and GPT checks), busybox (BUSYBOX=path, for
# ls -l /dev); OVMF for the UEFI cases (SKIP without it).
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

WORK="${ISO_WORK:-$ROOT/build/integration/iso}"   # ISO_WORK=dir: elsewhere (run.sh clears build/integration)
rm -rf "$WORK"
mkdir -p "$WORK"
passed=0 failed=0 skipped=0
report() { # STATUS name detail
    printf '%-5s %-28s %s\n' "$1" "$2" "$3"
    case "$1" in PASS) passed=$((passed + 1)) ;; SKIP) skipped=$((skipped + 1)) ;; *) failed=$((failed + 1)) ;; esac
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

for need in "$EGG" "$KERNEL" "$GUEST/hello-musl" "$GUEST/exit_code-musl" "$GUEST/lissajous-musl" "$GUEST/lissajous-swift"; do
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
pack lissajous-swift "$GUEST/lissajous-swift" -- 6

# Raw GPT disk images (egg pack --format raw): the same guests on a BIOS boot partition
# (GRUB i386-pc core.img) and an EFI system partition (FAT, GRUB x86_64-efi). The image's
# protective MBR, both GPT headers with their CRCs, the partition types and the FAT are
# checked before anything boots it.
check_raw_image() {
    python3 - "$1" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
def check(ok, what):
    if not ok:
        print(what); sys.exit()
check(d[510:512] == b"\x55\xaa" and d[0x1be + 4] == 0xee, "no protective MBR")
h = d[512:1024]
check(h[:8] == b"EFI PART", "no GPT signature at LBA 1")
size, crc = struct.unpack_from("<II", h, 12)
check(zlib.crc32(h[:16] + b"\0\0\0\0" + h[20:size]) == crc, "GPT header CRC")
backup = struct.unpack_from("<Q", h, 32)[0]
check((backup + 1) * 512 == len(d) and d[backup * 512:backup * 512 + 8] == b"EFI PART", "no backup header on the last LBA")
check(zlib.crc32(d[1024:1024 + 128 * 128]) == struct.unpack_from("<I", h, 88)[0], "GPT entries CRC")
check(d[1024:1040] == b"Hah!IdontNeedEFI", "partition 1 is not a BIOS boot partition")
check(d[1152:1168] == bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b"), "partition 2 is not an EFI system partition")
esp = struct.unpack_from("<Q", d, 1152 + 32)[0] * 512
check(d[esp + 54:esp + 59] == b"FAT16" or d[esp + 82:esp + 87] == b"FAT32" or d[esp + 54:esp + 59] == b"FAT12", "no FAT on the ESP")
EOF
}
pack_raw() { # name binary args...
    local name=$1 t reason
    shift
    t=$(now)
    if "$EGG" pack --format raw -o "$WORK/$name.img" "$@" > "$WORK/$name.pack.out" 2> "$WORK/$name.pack.err"; then
        local steps
        steps=$(grep -c '^egg pack: ' "$WORK/$name.pack.err")
        reason=$(check_raw_image "$WORK/$name.img")
        if [ "$steps" -lt 7 ] || ! grep -q "wrote $WORK/$name.img" "$WORK/$name.pack.err"; then
            report FAIL "pack-raw-$name" "progress lines missing [$WORK/$name.pack.err]"
        elif [ -n "$reason" ]; then
            report FAIL "pack-raw-$name" "$reason [$WORK/$name.img]"
        else
            report PASS "pack-raw-$name" "$(elapsed "$t"), $steps progress lines, $(du -h --apparent-size "$WORK/$name.img" | cut -f1)"
            return 0
        fi
    else
        report FAIL "pack-raw-$name" "egg pack --format raw failed: $(tail -n 3 "$WORK/$name.pack.err" | tr '\n' ' ')"
    fi
    return 1
}
if command -v grub-mkimage >/dev/null && command -v mformat >/dev/null; then
    pack_raw hello "$GUEST/hello-musl"
    pack_raw exit42 "$GUEST/exit_code-musl" -- 42
    pack_raw lissajous "$GUEST/lissajous-musl" -- 6
else
    report SKIP pack-raw "grub-mkimage/mtools not installed (scripts/setup.sh installs them)"
fi

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
if [ -f "$WORK/hello.img" ]; then
    sum_before=$(md5sum < "$WORK/hello.img")
    run_image raw-bios-hello "$WORK/hello.img" 0 bios "hello from egg"
    run_image raw-bios-exit42 "$WORK/exit42.img" 42 bios ""
    run_image raw-uefi-hello "$WORK/hello.img" 0 uefi "hello from egg"
    run_image raw-uefi-exit42 "$WORK/exit42.img" 42 uefi ""
    # egg run boots a raw image through a copy-on-write snapshot: the file stays as packed.
    if [ "$(md5sum < "$WORK/hello.img")" = "$sum_before" ]; then
        report PASS raw-image-unchanged "two boots left $WORK/hello.img as packed"
    else
        report FAIL raw-image-unchanged "booting changed the image file"
    fi
fi

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
# SHOT_GUEST is the guest's name in those lines (lissajous, lissajous-swift).
SHOT_GUEST=lissajous
screenshot_case() {
    local name=$1 t
    shift
    local sock="$WORK/$name.monitor" serial="$WORK/$name.serial" ppm="$WORK/$name.ppm"
    rm -f "$sock" "$ppm" "$ppm".[0-9]
    t=$(now)
    timeout --kill-after=5 "$LIMIT" "$QEMU" -M pc -accel tcg -cpu max -m 256M -nodefaults -no-reboot \
        -display none "$@" \
        -serial "file:$serial" -chardev "file,id=control,path=$WORK/$name.control" \
        -device isa-debugcon,iobase=0xe9,chardev=control \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -monitor "unix:$sock,server,nowait" < /dev/null > "$WORK/$name.qemu.out" 2>&1 &
    local pid=$! waited=0
    while ! grep -q "$SHOT_GUEST: drawing" "$serial" 2>/dev/null; do
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
import os
# Three dumps 0.3 s apart: the guest erases and redraws the curve each frame, so one dump
# can catch a frame half drawn; the check wants one complete frame.
for k in range(3):
    path = f"{sys.argv[2]}.{k}"
    s.send(f"screendump {path}\n".encode())
    deadline = time.time() + 10
    while time.time() < deadline and not os.path.exists(path):
        time.sleep(0.1)
    time.sleep(0.3)
time.sleep(0.2)
s.close()
EOF
    wait "$pid"
    local rc=$? reason=""
    # isa-debug-exit: QEMU exits with (status << 1) | 1, so 1 for the guest's exit 0.
    if [ -s "$ppm.0" ]; then cp "$ppm.0" "$ppm"; fi
    if [ ! -s "$ppm" ]; then
        reason="no screendump (QEMU status $rc) [$WORK/$name.*]"
    elif [ "$rc" -ne 1 ]; then
        reason="QEMU exit code $rc, expected 1 (guest exit 0) [$WORK/$name.serial]"
    elif ! grep -qE "^PASS $SHOT_GUEST: [0-9]+ frames on 1024x768" "$serial"; then
        reason="no drawing verdict: $(grep -E '^(PASS|FAIL) ' "$serial" | head -n1) [$serial]"
    else
        # Passes when one of the dumps shows a whole frame; else the first dump's reason.
        local shot why
        reason=""
        for shot in "$ppm".[0-9]; do
            [ -s "$shot" ] || continue
            why=$(check_screenshot "$shot" "$serial")
            if [ -z "$why" ]; then reason=""; break; fi
            [ -n "$reason" ] || reason="$why (all $(ls "$ppm".[0-9] | wc -l) dumps)"
        done
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
# The C program from the raw disk image under UEFI (GOP framebuffer from GRUB's efi_gop).
if [ -f "$WORK/lissajous.img" ]; then
    if [ -n "$OVMF" ]; then
        screenshot_case screen-raw-uefi -vga std -bios "$OVMF" \
            -drive "file=$WORK/lissajous.img,format=raw,if=ide,index=0,snapshot=on" -boot c
    else
        report SKIP screen-raw-uefi "no OVMF image"
    fi
    screenshot_case screen-raw-bios -vga std -drive "file=$WORK/lissajous.img,format=raw,if=ide,index=0,snapshot=on" -boot c
fi
# The Swift program (static glibc Swift, ~10 MB) drawing the same curve, from its ISO.
SHOT_GUEST=lissajous-swift
if [ -f "$WORK/lissajous-swift.iso" ]; then
    screenshot_case screen-iso-bios-swift -vga std \
        -drive "file=$WORK/lissajous-swift.iso,media=cdrom,readonly=on,if=ide,index=2" -boot d
else
    report FAIL screen-iso-bios-swift "no lissajous-swift image (pack failed)"
fi
SHOT_GUEST=lissajous
# Natively (no framebuffer here, or one we may not open) the Swift program says so and
# passes, the C program's convention; with a usable /dev/fb0 it would draw and pass.
native=$(timeout 30 "$GUEST/lissajous-swift" 0 1 2>&1); rc=$?
if [ "$rc" -eq 0 ] && grep -qE '^PASS lissajous-swift: (no framebuffer, skipped \(open /dev/fb0: .+\)|[0-9]+ frames on [0-9]+x[0-9]+)$' <<<"$native"; then
    report PASS lissajous-swift-native "$(tail -n1 <<<"$native" | cut -c1-70)"
else
    report FAIL lissajous-swift-native "status $rc: $native"
fi

# /dev/fb0 is a character-device node (major 29, minor 0) in the VFS when there is a
# framebuffer: busybox `ls -l /dev` under a -kernel boot with -vga std lists it.
BUSYBOX="${BUSYBOX:-/bin/busybox}"
fb_node_case() {
    local name=fb0-device-node t
    [ -x "$BUSYBOX" ] || { report SKIP "$name" "no busybox at $BUSYBOX"; return; }
    t=$(now)
    if ! "$EGG" pack -o "$WORK/lsdev.iso" "$BUSYBOX" -- ls -l /dev > /dev/null 2>&1 \
        || ! xorriso -osirrox on -indev "$WORK/lsdev.iso" -extract /boot/egg/bundle "$WORK/lsdev.bundle" > /dev/null 2>&1; then
        report FAIL "$name" "cannot pack busybox ls -l /dev"
        return
    fi
    timeout --kill-after=5 "$LIMIT" "$QEMU" -M pc -accel tcg -cpu max -m 256M -nodefaults -no-reboot -display none \
        -vga std -kernel "$KERNEL" -initrd "$WORK/lsdev.bundle" -serial "file:$WORK/$name.serial" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 < /dev/null > "$WORK/$name.qemu.out" 2>&1
    local rc=$?
    if [ "$rc" -ne 1 ]; then
        report FAIL "$name" "QEMU exit code $rc, expected 1 (ls exit 0) [$WORK/$name.serial]"
    elif ! tr -d '\r' < "$WORK/$name.serial" | grep -qE '^crw-rw----[[:space:]]+1 root[[:space:]]+root[[:space:]]+29,[[:space:]]+0 .* fb0$'; then
        report FAIL "$name" "no 'crw-rw---- ... 29, 0 ... fb0' line [$WORK/$name.serial]"
    else
        report PASS "$name" "$(elapsed "$t"), $(tr -d '\r' < "$WORK/$name.serial" | grep 'fb0$' | tr -s ' ' | cut -c1-50)"
    fi
}
fb_node_case

# The kernel's text console: the hello image without isa-debug-exit, so the kernel powers
# the machine off through ACPI (Sources/Kernel/ACPIPowerOff.swift) and -no-shutdown keeps
# QEMU with the picture on the screen instead of exiting; the first text row must hold
# light-grey glyph pixels (the console's default colour) and the screen must be the
# 1024x768 graphics mode, not VGA text.
text_console_case() {
    local name=screen-text-console t
    local sock="$WORK/$name.monitor" serial="$WORK/$name.serial" ppm="$WORK/$name.ppm"
    [ -f "$WORK/hello.iso" ] || { report FAIL "$name" "no hello image"; return; }
    t=$(now)
    timeout --kill-after=5 "$LIMIT" "$QEMU" -M pc -accel tcg -cpu max -m 256M -nodefaults -no-reboot -no-shutdown \
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
