#!/usr/bin/env bash
# Tests/integration/volumes.sh — egg run -v HOST_DIR:GUEST_PATH[:ro]: a host directory shared
# two-way through virtio-9p (Sources/EggHost/RunSettings.swift, QEMUCommand.swift,
# Sources/Kernel/NinePSetup.swift, Sources/Drivers/NineP*.swift). The guest program
# Guest/c/volume_test.c runs natively first on a scratch directory, then under egg: a first
# run writes (including a SQLite-like journal: small writes, fsync, rename), the host checks
# the files, a second run reads them back with a file the host added, a third mounts it :ro;
# with --files at the same time; and -v values egg must refuse with status 125.
# Guest/c/volume_live_test.c checks the volume is live: a file the guest closed and names it
# made are on the host while it still runs (a second host process looks, the guest waits on
# stdin), a file the host writes or changes meanwhile is seen; a ":ro" volume answers EROFS
# to every write path; statfs says 9p (V9FS_MAGIC) and /proc/mounts lists it. Guest/sqlite/
# sqlite_volume.c keeps a real SQLite database on a volume across two runs.
#
# Layer: tests. Called by `make integration-test`; runs alone too:
#   Tests/integration/volumes.sh [SUBSTRING...]
# Needs: .build/release/egg (EGG=path), build/kernel/kernel.elf, build/guest/volume_test-musl.
# Prints one line per case and "volumes: N passed, N failed"; exits 1 if any case failed.
# Work files: build/integration/volumes/.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
EGG="${EGG:-.build/release/egg}"
T=build/guest/volume_test-musl
T2=build/guest/volume_live_test-musl
W="$ROOT/build/integration/volumes"
for need in "$EGG" build/kernel/kernel.elf "$T" "$T2" build/guest/sqlite_volume-glibc; do
    [ -e "$need" ] || { echo "volumes.sh: $need missing: build first (make all)" >&2; exit 1; }
done
rm -rf "$W"; mkdir -p "$W"
passed=0; failed=0
FILTERS=("$@")
want() {
    [ ${#FILTERS[@]} -eq 0 ] && return 0
    for s in "${FILTERS[@]}"; do [[ "$CASE" == *"$s"* ]] && return 0; done
    return 1
}
ok() { echo "PASS $CASE ${1:-}"; passed=$((passed + 1)); }
bad() { echo "FAIL $CASE $1"; failed=$((failed + 1)); }
egg() { timeout 600 "$EGG" run --net none "$@"; }

CASE=volume-native
if want; then
    mkdir -p "$W/native"
    if "$T" write "$W/native" > "$W/native.out" 2>&1 && printf 'made on the host\n' > "$W/native/from_host.txt" \
        && "$T" read "$W/native" >> "$W/native.out" 2>&1; then ok; else bad "$(cat "$W/native.out")"; fi
fi

H="$W/host"
mkdir -p "$H"
CASE=volume-write
if want; then
    egg -v "$H:/data" "$T" -- write /data > "$W/write.out" 2>&1
    status=$?
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_test' "$W/write.out"; then bad "status $status: $(head -c 400 "$W/write.out")"
    else ok; fi
fi

CASE=volume-host-sees-files
if want; then
    problem=""
    [ "$(cat "$H/hello.txt" 2>/dev/null)" = "hello, Volume" ] || problem="hello.txt: $(head -c 100 "$H/hello.txt" 2>&1)"
    [ "$(cat "$H/sub/inner.txt" 2>/dev/null)" = "inner" ] || problem="$problem sub/inner.txt missing"
    [ "$(cat "$H/cut.txt" 2>/dev/null)" = "0123" ] || problem="$problem cut.txt wrong"
    [ -e "$H/gone.txt" ] && problem="$problem gone.txt still there"
    [ -e "$H/db.journal" ] && problem="$problem db.journal still there"
    if [ -d "$W/native" ]; then
        cmp -s "$H/db" "$W/native/db" || problem="$problem db differs from the native run's"
    else
        [ "$(stat -c %s "$H/db" 2>/dev/null)" = 32000 ] || problem="$problem db size wrong"
    fi
    [ "$(stat -c %a "$H/sub/inner.txt" 2>/dev/null)" = 600 ] || problem="$problem sub/inner.txt mode $(stat -c %a "$H/sub/inner.txt" 2>&1)"
    if [ -z "$problem" ]; then ok "$(ls "$H" | tr '\n' ' ')"; else bad "$problem"; fi
fi

CASE=volume-read-back
if want; then
    printf 'made on the host\n' > "$H/from_host.txt"
    egg -v "$H:/data" "$T" -- read /data > "$W/read.out" 2>&1
    status=$?
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_test' "$W/read.out"; then bad "status $status: $(head -c 400 "$W/read.out")"
    else ok; fi
fi

CASE=volume-readonly
if want; then
    before=$(cd "$H" && find . -printf '%p %s %T@\n' | sort | sha256sum)
    egg -v "$H:/data:ro" "$T" -- ro /data > "$W/ro.out" 2>&1
    status=$?
    after=$(cd "$H" && find . -printf '%p %s %T@\n' | sort | sha256sum)
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_test' "$W/ro.out"; then bad "status $status: $(head -c 400 "$W/ro.out")"
    elif [ "$before" != "$after" ]; then bad "the host directory changed under :ro"
    else ok; fi
fi

CASE=volume-with-files
if want; then
    mkdir -p "$W/files/etc" "$W/files/data"
    printf 'from --files\n' > "$W/files/etc/marker"
    printf 'hidden by the volume\n' > "$W/files/data/hidden"
    mkdir -p "$W/files/bin"; cp "$T" "$W/files/bin/volume_test"
    egg --files "$W/files" -v "$H:/data" "$T" -- read /data > "$W/files.out" 2>&1
    status=$?
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_test' "$W/files.out"; then bad "status $status: $(head -c 400 "$W/files.out")"
    elif [ -e "$H/hidden" ]; then bad "--files content under the mount point reached the host"
    else ok; fi
fi

# egg pack --files: the image carries the files as `egg run --files` does; the volume's
# contents, copied into DIR/data, are read back from the booted image.
CASE=pack-with-files
if want; then
    if ! command -v grub-mkrescue > /dev/null; then echo "SKIP $CASE grub-mkrescue not installed"
    else
        rm -rf "$W/packfiles"; mkdir -p "$W/packfiles"; cp -a "$H" "$W/packfiles/data"
        if ! "$EGG" pack --files "$W/packfiles" -o "$W/files.iso" "$T" -- read /data > "$W/pack.out" 2>&1; then
            bad "egg pack failed: $(tail -n 3 "$W/pack.out" | tr '\n' ' ')"
        else
            timeout 600 "$EGG" run "$W/files.iso" > "$W/packrun.out" 2>&1
            status=$?
            if [ $status -ne 0 ] || ! grep -q '^PASS volume_test' "$W/packrun.out"; then bad "status $status: $(head -c 400 "$W/packrun.out")"
            else ok; fi
        fi
    fi
fi
CASE=pack-refuses-missing-files
if want; then
    "$EGG" pack --files "$W/no-such-dir" -o "$W/never.iso" "$T" > "$W/packbad.out" 2>&1
    status=$?
    if [ $status -ne 125 ] || [ -e "$W/never.iso" ]; then bad "status $status: $(head -c 300 "$W/packbad.out")"; else ok; fi
fi

# egg run app.iso -p H:G goes through egg's own port relay (PortRelay.swift), as egg run does:
# egg listens on H itself; httpd in the image answers, then /exit ends the run with status 0.
CASE=iso-publish-relay
if want; then
    if ! command -v grub-mkrescue > /dev/null || ! command -v curl > /dev/null; then echo "SKIP $CASE grub-mkrescue or curl missing"
    elif ! "$EGG" pack -o "$W/httpd.iso" build/guest/httpd-musl -- 8000 > "$W/httpd.pack.out" 2>&1; then
        bad "egg pack failed: $(tail -n 3 "$W/httpd.pack.out" | tr '\n' ' ')"
    else
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        timeout 600 "$EGG" run -p "$port:8000" "$W/httpd.iso" > "$W/httpd.run.out" 2>&1 &
        eggpid=$!
        body=""
        for _ in $(seq 1 240); do
            body=$(curl -s --max-time 5 "http://127.0.0.1:$port/" 2>/dev/null) && [ -n "$body" ] && break
            sleep 1
        done
        listening=$(ss -ltnp 2>/dev/null | grep ":$port " | grep -c '"egg"')
        curl -s --max-time 5 "http://127.0.0.1:$port/exit" > /dev/null 2>&1
        wait $eggpid; status=$?
        if [ "$body" != "hello from httpd" ]; then bad "no answer through -p (status $status): $(head -c 300 "$W/httpd.run.out")"
        elif [ "$listening" -lt 1 ]; then bad "the host port was not egg's own listener (QEMU hostfwd?)"
        elif [ $status -ne 0 ]; then bad "status $status after /exit"
        else ok; fi
    fi
fi

# live_run DIR OUT COMMAND...: runs COMMAND (the live mode on DIR) with stdin from a FIFO;
# when it prints READY, checks the host side of DIR, changes DIR as a second process, then
# lets the guest go on. Sets `problem` (empty when all is well).
live_run() {
    local dir="$1" out="$2"; shift 2
    rm -rf "$dir"; mkdir -p "$dir"; printf 'old\n' > "$dir/live_edit.txt"
    local fifo="$out.in"; rm -f "$fifo"; mkfifo "$fifo"
    "$@" < "$fifo" > "$out" 2>&1 &
    local pid=$!
    exec 7> "$fifo"
    for _ in $(seq 1 1200); do
        grep -q '^READY' "$out" && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.5
    done
    problem=""
    grep -q '^READY' "$out" || problem="never ready: $(head -c 300 "$out")"
    [ "$(cat "$dir/live_out.txt" 2>/dev/null)" = "written by the guest" ] || problem="$problem live_out.txt not on the host during the run"
    [ "$(cat "$dir/live_dir/moved.txt" 2>/dev/null)" = "moved" ] || problem="$problem live_dir/moved.txt not on the host during the run"
    [ -e "$dir/live_tmp" ] && problem="$problem live_tmp still on the host after the rename"
    printf 'made during the run\n' > "$dir/live_in.txt"
    printf 'new contents\n' > "$dir/live_edit.txt"
    echo go >&7
    exec 7>&-
    wait $pid
    local status=$?
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_live_test' "$out"; then problem="$problem status $status: $(grep -v '^READY' "$out" | head -c 300)"; fi
}

CASE=volume-live-native
if want; then
    live_run "$W/live-native" "$W/live-native.out" "$T2" live "$W/live-native"
    if [ -z "$problem" ]; then ok; else bad "$problem"; fi
fi

CASE=volume-live-two-way
if want; then
    live_run "$W/live" "$W/live.out" timeout 600 "$EGG" run --net none -v "$W/live:/data" "$T2" -- live /data
    if [ -z "$problem" ]; then ok; else bad "$problem"; fi
fi

# Throughput through a volume (figures printed with the verdict): the guest writes 32 MiB
# and closes it (on the host when close returns), the host rewrites it, the guest opens it
# (reloaded from the host) and reads it back, checking every byte.
CASE=volume-throughput
if want; then
    B="$W/bench"; rm -rf "$B"; mkdir -p "$B"
    fifo="$W/bench.in"; rm -f "$fifo"; mkfifo "$fifo"
    timeout 600 "$EGG" run --net none -v "$B:/data" "$T2" -- bench /data 32 < "$fifo" > "$W/bench.out" 2>&1 &
    pid=$!
    exec 7> "$fifo"
    for _ in $(seq 1 1200); do grep -q '^READY' "$W/bench.out" && break; kill -0 $pid 2>/dev/null || break; sleep 0.5; done
    size=$(stat -c %s "$B/bench.bin" 2>/dev/null)
    python3 -c 'import sys; open(sys.argv[1], "wb").write(b"\x5a" * (32 << 20))' "$B/bench.bin"
    echo go >&7
    exec 7>&-
    wait $pid; status=$?
    if [ "$size" != $((32 << 20)) ]; then bad "bench.bin on the host at READY: ${size:-missing} bytes"
    elif [ $status -ne 0 ] || ! grep -q '^PASS volume_live_test' "$W/bench.out"; then bad "status $status: $(head -c 400 "$W/bench.out")"
    else ok "$(grep '^PASS' "$W/bench.out" | sed 's/^PASS volume_live_test: //')"; fi
fi

CASE=volume-readonly-erofs
if want; then
    before=$(cd "$H" && find . -printf '%p %s %T@\n' | sort | sha256sum)
    egg -v "$H:/data:ro" "$T2" -- erofs /data > "$W/erofs.out" 2>&1
    status=$?
    after=$(cd "$H" && find . -printf '%p %s %T@\n' | sort | sha256sum)
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_live_test' "$W/erofs.out"; then bad "status $status: $(head -c 400 "$W/erofs.out")"
    elif [ "$before" != "$after" ]; then bad "the host directory changed under :ro"
    else ok; fi
fi

CASE=volume-statfs-9p
if want; then
    egg -v "$H:/data" "$T2" -- fstype /data > "$W/fstype.out" 2>&1
    status=$?
    if [ $status -ne 0 ] || ! grep -q '^PASS volume_live_test' "$W/fstype.out"; then bad "status $status: $(head -c 400 "$W/fstype.out")"
    else ok; fi
fi

# A real SQLite database (Guest/sqlite/sqlite_volume.c on Debian's libsqlite3): written on a
# volume in one run, checked by the host's sqlite3, changed by the host, read back in a
# second run; natively first on a scratch directory.
SQ=build/guest/sqlite_volume-glibc
SQH="$W/sqlite"
CASE=volume-sqlite-native
if want; then
    mkdir -p "$W/sqlite-native"
    if "$SQ" write "$W/sqlite-native" 3000 > "$W/sqlite-native.out" 2>&1 \
        && "$SQ" check "$W/sqlite-native" 3000 >> "$W/sqlite-native.out" 2>&1; then ok; else bad "$(cat "$W/sqlite-native.out")"; fi
fi
CASE=volume-sqlite-survives-second-run
if want; then
    rm -rf "$SQH"; mkdir -p "$SQH"
    egg -v "$SQH:/db" "$SQ" -- write /db 3000 > "$W/sqlite-write.out" 2>&1
    s1=$?
    host=""
    if command -v sqlite3 > /dev/null; then
        host=$(sqlite3 "$SQH/egg.db" 'PRAGMA integrity_check; SELECT count(*), sum(n) FROM t;' 2>&1 | tr '\n' ' ')
    fi
    egg -v "$SQH:/db" "$SQ" -- check /db 3000 > "$W/sqlite-check.out" 2>&1
    s2=$?
    if [ $s1 -ne 0 ] || ! grep -q '^PASS sqlite_volume' "$W/sqlite-write.out"; then bad "first run, status $s1: $(head -c 300 "$W/sqlite-write.out")"
    elif [ -n "$host" ] && [ "$host" != "ok 3000|13506000 " ]; then bad "the host's sqlite3 reads: $host"
    elif [ -e "$SQH/egg.db-journal" ]; then bad "a journal was left on the host"
    elif [ $s2 -ne 0 ] || ! grep -q '^PASS sqlite_volume' "$W/sqlite-check.out"; then bad "second run, status $s2: $(head -c 300 "$W/sqlite-check.out")"
    else ok "(host sqlite3: ${host:-not installed})"; fi
fi

refuse_case() { # name expected-message-part args...
    CASE="$1"; local part="$2"; shift 2
    if want; then
        "$EGG" run "$@" "$T" -- read /data > "$W/$CASE.out" 2>&1
        local status=$?
        if [ $status -ne 125 ]; then bad "status $status, want 125: $(head -c 300 "$W/$CASE.out")"
        elif ! grep -q -- "$part" "$W/$CASE.out"; then bad "message: $(head -c 300 "$W/$CASE.out")"
        else ok; fi
    fi
}
refuse_case volume-refuses-missing-dir "not an existing directory" -v "$W/does-not-exist:/data"
refuse_case volume-refuses-relative-guest-path "must be absolute" -v "$H:data"
refuse_case volume-refuses-bad-mode "unknown mode" -v "$H:/data:rx"
refuse_case volume-refuses-root "over the guest's root" -v "$H:/"
refuse_case volume-refuses-duplicate "already has a volume" -v "$H:/data" -v "$W:/data"

echo "volumes: $passed passed, $failed failed"
[ $failed -eq 0 ]
