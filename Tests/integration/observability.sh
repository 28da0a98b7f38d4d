# Tests/integration/observability.sh — integration cases for issue 6: the syscall trace
# (--trace, filters, --trace-summary), symbolized crash reports, custom Swift syscall handlers
# (--syscalls) and the gdb stub (--gdb). Sourced by Tests/integration/run.sh, which provides
# $EGG, $GUEST, $LOGS, $native_only, run_logged, now and elapsed; each case prints one
# "STATUS|name|detail" line like the others there.
#
# Cases: obs|name|function — run_obs_case calls obs_<function> with the name (a name's
# last word picks the variant, e.g. trace-lines-glibc).

for c in trace-lines-musl:trace_lines trace-lines-glibc:trace_lines trace-filter:trace_filter \
         trace-summary:trace_summary crash-symbols-musl:crash_symbols crash-symbols-pie:crash_symbols \
         custom-syscall-musl:custom_syscall_musl custom-syscall-glibc:custom_syscall_glibc \
         custom-syscall-swift:custom_syscall_swift custom-syscall-stock:custom_syscall_stock \
         custom-syscall-compile-error:custom_syscall_compile_error kernel-panic-symbols:kernel_panic_symbols \
         gdb-stub:gdb_stub trace-events:trace_events custom-syscall-cached:custom_syscall_cached \
         trace-summary-processes:trace_summary_processes; do
    CASES+=("obs|${c%%:*}|${c##*:}")
done

# The lines egg must print for Guest/c/trace_target.c from its first write on, exactly as
# strace 6.1 prints them on Linux (getpid is 1 under egg).
obs_expected_trace() {
    cat <<'LINES'
write(1, "hi\n", 3)                     = 3
openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)
close(-1)                               = -1 EBADF (Bad file descriptor)
getpid()                                = 1
write(1, "0123456789abcdefghijklmnopqrstuv"..., 41) = 41
write(1, "PASS trace_target: 6 calls trace"..., 34) = 34
exit_group(0)                           = ?
+++ exited with 0 +++
LINES
}

# Skips a case that needs egg in --native-only mode; returns 1 then.
obs_need_egg() {
    if [ "$native_only" -eq 1 ]; then
        echo "SKIP|$1|needs egg"
        return 1
    fi
}

obs_trace_lines() { # name: trace_target under --trace, compared line by line
    local name=$1 variant=${1##*-} log="$LOGS/$1" t reason=""
    local bin="$GUEST/trace_target-$variant"
    run_logged "$log.native" - "$NATIVE_TIMEOUT" "$bin"
    [ "$rc" -eq 0 ] || { echo "FAIL|$name|natively: exit status $rc"; return; }
    # Where strace exists, the expectation itself is checked against Linux first.
    if command -v strace > /dev/null; then
        strace -o "$log.strace" "$bin" > /dev/null 2>&1 || true
        sed -n '/^write(1, "hi/,$p' "$log.strace" | sed -E 's/^(getpid\(\) +)= [0-9]+$/\1= 1/' > "$log.strace.tail"
        if ! cmp -s "$log.strace.tail" <(obs_expected_trace); then
            echo "FAIL|$name|strace on Linux prints other lines than expected (diff ${log#"$ROOT"/}.strace.tail)"
            return
        fi
    fi
    obs_need_egg "$name" || return
    t=$(now)
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --trace --trace-file "$log.trace" "$bin"
    obs_expected_trace > "$log.expected"
    if [ "$rc" -ne 0 ]; then
        reason="exit status $rc"
    elif ! cmp -s "$log.native.out" "$log.egg.out"; then
        reason="stdout differs from the native run: the trace must not reach the console"
    elif ! sed -n '/^write(1, "hi/,$p' "$log.trace" | cmp -s - "$log.expected"; then
        reason="trace differs: diff ${log#"$ROOT"/}.expected <(sed -n '/^write(1, \"hi/,\$p' ${log#"$ROOT"/}.trace)"
    elif [ "$variant" = musl ] && ! head -n1 "$log.trace" | grep -qx 'arch_prctl(ARCH_SET_FS, 0x[0-9a-f]*) *= 0'; then
        reason="first line is not musl's arch_prctl(ARCH_SET_FS, ...): $(head -n1 "$log.trace")"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg $(elapsed "$t"), $(wc -l < "$log.trace") lines" ||
        echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

# The lines egg must print for Guest/c/trace_events.c (epoll, poll, ppoll, statx; decoder
# Sources/KernelCore/Trace/EventTraceText.swift), exactly as strace 6.1 prints them on Linux.
obs_expected_events() {
    cat <<'LINES'
write(1, "events\n", 7)                 = 7
pipe2([3, 4], 0)                        = 0
write(4, "x", 1)                        = 1
epoll_create1(EPOLL_CLOEXEC)            = 5
epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}) = 0
epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLOUT, data={u32=4, u64=4294967300}}) = 0
epoll_ctl(5, EPOLL_CTL_DEL, 4, NULL)    = 0
epoll_pwait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 4, -1, NULL, 8) = 1
epoll_pwait(5, [], 4, 0, NULL, 8)       = 0
poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}, {fd=-1}], 3, 1000) = 2 ([{fd=3, revents=POLLIN}, {fd=4, revents=POLLOUT}])
poll([{fd=3, events=POLLOUT}], 1, 0)    = 0 (Timeout)
ppoll([{fd=4, events=POLLIN|POLLOUT}], 1, {tv_sec=0, tv_nsec=0}, NULL, 8) = 1 ([{fd=4, revents=POLLOUT}], left {tv_sec=0, tv_nsec=0})
statx(3, "", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH, STATX_TYPE|STATX_SIZE, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFIFO|0600, stx_size=0, ...}) = 0
statx(AT_FDCWD, "/nonexistent", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, NULL) = -1 ENOENT (No such file or directory)
write(1, "PASS trace_events: 12 event call"..., 41) = 41
exit_group(0)                           = ?
+++ exited with 0 +++
LINES
}

obs_trace_events() { # name: trace_events under --trace, compared line by line with strace
    local name=$1 log="$LOGS/$1" reason=""
    local bin="$GUEST/trace_events-musl"
    if command -v strace > /dev/null; then
        strace -o "$log.strace" "$bin" > /dev/null 2>&1 || true
        sed -n '/^write(1, "events/,$p' "$log.strace" > "$log.strace.tail"
        if ! cmp -s "$log.strace.tail" <(obs_expected_events); then
            echo "FAIL|$name|strace on Linux prints other lines than expected (diff ${log#"$ROOT"/}.strace.tail)"
            return
        fi
    fi
    obs_need_egg "$name" || return
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --trace --trace-file "$log.trace" "$bin"
    obs_expected_events > "$log.expected"
    if [ "$rc" -ne 0 ]; then
        reason="exit status $rc"
    elif ! sed -n '/^write(1, "events/,$p' "$log.trace" | cmp -s - "$log.expected"; then
        reason="trace differs: diff ${log#"$ROOT"/}.expected <(sed -n '/^write(1, \"events/,\$p' ${log#"$ROOT"/}.trace)"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg, $(wc -l < "$log.expected") lines as strace prints them" ||
        echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

obs_trace_filter() { # name: --trace=close,%file keeps openat and close only
    local name=$1 log="$LOGS/$1" reason=""
    obs_need_egg "$name" || return
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --trace=close,%file "$GUEST/trace_target-musl"
    local calls
    calls=$(grep -oE '^[a-z_0-9]+\(' "$log.egg.err" | tr -d '(' | sort -u | tr '\n' ' ')
    if [ "$rc" -ne 0 ]; then
        reason="exit status $rc"
    elif [ "$calls" != "close openat " ]; then
        reason="traced calls are '$calls', expected 'close openat '"
    fi
    run_logged "$log.bad" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --trace=close,nosuchcall "$GUEST/trace_target-musl"
    if [ -z "$reason" ] && { [ "$rc" -ne 125 ] || ! grep -q "unknown system call 'nosuchcall'" "$log.bad.err"; }; then
        reason="--trace=close,nosuchcall: status $rc, expected 125 and a message naming nosuchcall"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg" || echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

obs_trace_summary() { # name: --trace-summary alone prints strace -c's table, no lines
    local name=$1 log="$LOGS/$1" reason=""
    obs_need_egg "$name" || return
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --trace-summary "$GUEST/trace_target-musl"
    if [ "$rc" -ne 0 ]; then
        reason="exit status $rc"
    elif ! head -n1 "$log.egg.err" | grep -qx '% time     seconds  usecs/call     calls    errors syscall'; then
        reason="no strace -c header first on stderr"
    elif ! grep -qE '^ +[0-9.]+ +[0-9.]+ +[0-9]+ +3 +write$' "$log.egg.err"; then
        reason="no row for 3 writes"
    elif ! grep -qE '^ +[0-9.]+ +[0-9.]+ +[0-9]+ +1 +1 openat$' "$log.egg.err"; then
        reason="no row for 1 failed openat"
    elif ! grep -qE '^100\.00 +[0-9.]+ +[0-9]+ +[0-9]+ +2 total$' "$log.egg.err"; then
        reason="total row does not count 2 errors"
    elif grep -q '^write(' "$log.egg.err"; then
        reason="trace lines printed without --trace"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg" || echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

obs_trace_summary_processes() { # name: with forked children the summary names each process (issue 16)
    local name=$1 log="$LOGS/$1" reason=""
    obs_need_egg "$name" || return
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --trace-summary "$GUEST/fork_test-musl"
    if [ "$rc" -ne 0 ]; then
        reason="exit status $rc"
    elif ! grep -qx '    pid program              calls    errors     seconds' "$log.egg.err"; then
        reason="no per-process header after the table"
    elif ! grep -qE '^      1 fork_test-musl +[0-9]+ +[0-9]+ +[0-9.]+$' "$log.egg.err"; then
        reason="no line for PID 1 (fork_test-musl)"
    elif [ "$(grep -cE '^ +[0-9]+ fork_test-musl +[0-9]+ +[0-9]+ +[0-9.]+$' "$log.egg.err")" -lt 3 ]; then
        reason="fewer than 3 processes named"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg, $(grep -cE '^ +[0-9]+ fork_test-musl ' "$log.egg.err") processes named" || echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

obs_crash_symbols() { # name: the crash report names the function and its callers
    local name=$1 variant=${1##*-} log="$LOGS/$1" t reason=""
    local bin="$GUEST/crash_backtrace-$variant"
    run_logged "$log.native" - "$NATIVE_TIMEOUT" "$bin"
    [ "$rc" -eq 139 ] || { echo "FAIL|$name|natively: exit status $rc, expected 139"; return; }
    obs_need_egg "$name" || return
    t=$(now)
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg "$bin"
    if [ "$rc" -ne 139 ]; then
        reason="exit status $rc, expected 139"
    elif ! grep -qE "ip 0x[0-9a-f]+ is in crash_inner\+0x[0-9a-f]+$" "$log.egg.err"; then
        reason="the report does not say the ip is in crash_inner"
    elif ! grep -qE '#1 0x[0-9a-f]+ in crash_middle\+' "$log.egg.err" ||
         ! grep -qE '#2 0x[0-9a-f]+ in crash_outer\+' "$log.egg.err" ||
         ! grep -qE '#3 0x[0-9a-f]+ in main\+' "$log.egg.err"; then
        reason="the backtrace is not crash_middle, crash_outer, main"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg $(elapsed "$t")" || echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

obs_custom_run() { # name bin: natively (stock: custom part skipped), then egg --syscalls
    local name=$1 bin=$2 log="$LOGS/$1" t reason=""
    run_logged "$log.native" - "$NATIVE_TIMEOUT" env -u EGG_CUSTOM "$bin"
    if [ "$rc" -ne 0 ] || ! grep -q '^PASS .*ENOSYS' "$log.native.out"; then
        echo "FAIL|$name|natively: status $rc: $(head -n1 "$log.native.out")"
        return
    fi
    obs_need_egg "$name" || return
    t=$(now)
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --syscalls Guest/syscalls/MySyscalls.swift \
        -e EGG_CUSTOM=1 "$bin"
    if [ "$rc" -ne 0 ] || ! grep -q '^PASS .*custom syscall 500 and wrapped uname' "$log.egg.out"; then
        reason="status $rc: $(head -n1 "$log.egg.out")"
    fi
    [ -z "$reason" ] && echo "PASS|$name|egg $(elapsed "$t") (compile + boot)" ||
        echo "FAIL|$name|egg: $reason [logs: ${log#"$ROOT"/}.*]"
}
obs_custom_syscall_musl() { obs_custom_run "$1" "$GUEST/custom_syscall-musl"; }
obs_custom_syscall_glibc() { obs_custom_run "$1" "$GUEST/custom_syscall-glibc"; }
obs_custom_syscall_swift() { obs_custom_run "$1" "$GUEST/custom_syscall-swift"; }

# A second --syscalls run with the same file reuses the kernel the first one built (cached by
# content in $XDG_CACHE_HOME/egg/kernels) and skips the compile; --accel auto, so the KVM
# probe's cache must hit too (it used to miss for every new kernel path and wait ~10 s).
obs_custom_syscall_cached() { # name
    local name=$1 log="$LOGS/$1" t1 t2 reason=""
    obs_need_egg "$name" || return
    local cache="$LOGS/$name.cache"
    rm -rf "$cache"
    mkdir -p "$cache"
    local first second
    t1=$(now)
    run_logged "$log.first" - "$EGG_TIMEOUT" env XDG_CACHE_HOME="$cache" "$EGG" run --verbose --syscalls \
        Guest/syscalls/MySyscalls.swift -e EGG_CUSTOM=1 "$GUEST/custom_syscall-musl"
    first=$(elapsed "$t1")
    [ "$rc" -eq 0 ] || reason="first run: status $rc"
    t2=$(now)
    run_logged "$log.second" - "$EGG_TIMEOUT" env XDG_CACHE_HOME="$cache" "$EGG" run --verbose --syscalls \
        Guest/syscalls/MySyscalls.swift -e EGG_CUSTOM=1 "$GUEST/custom_syscall-musl"
    second=$(elapsed "$t2")
    if [ -z "$reason" ] && [ "$rc" -ne 0 ]; then
        reason="second run: status $rc"
    elif [ -z "$reason" ] && ! grep -q "built with --syscalls .*, cached)" "$log.second.err"; then
        reason="second run did not use the cached kernel"
    elif [ -z "$reason" ] && grep -q "accelerator: .*not cached\|KVM probe passed (cached in\|KVM probe failed: .*(cached in" "$log.second.err"; then
        reason="second run probed KVM again"
    elif [ -z "$reason" ] && ! grep -q '^PASS .*custom syscall 500 and wrapped uname' "$log.second.out"; then
        reason="second run: $(head -n1 "$log.second.out")"
    fi
    rm -rf "$cache"
    [ -z "$reason" ] && echo "PASS|$name|first run $first (compile), second $second (cached)" ||
        echo "FAIL|$name|$reason [logs: ${log#"$ROOT"/}.*]"
}

obs_custom_syscall_stock() { # name: the stock kernel has no call 500; the guest says so
    local name=$1 log="$LOGS/$1"
    obs_need_egg "$name" || return
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg "$GUEST/custom_syscall-pie"
    if [ "$rc" -eq 0 ] && grep -q '^PASS .*ENOSYS' "$log.egg.out"; then
        echo "PASS|$name|egg"
    else
        echo "FAIL|$name|status $rc: $(head -n1 "$log.egg.out") [logs: ${log#"$ROOT"/}.*]"
    fi
}

obs_custom_syscall_compile_error() { # name: the compiler's message reaches the user, status 125
    local name=$1 log="$LOGS/$1"
    obs_need_egg "$name" || return
    cat > "$log.swift" <<'SWIFT'
import KernelCore
func registerSyscalls(_ table: inout SyscallTable) {
    table.register(500) { k, a in undefinedThing }
}
SWIFT
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --syscalls "$log.swift" "$GUEST/hello-musl"
    if [ "$rc" -eq 125 ] && grep -q "$log.swift:3:.*error: cannot find 'undefinedThing' in scope" "$log.egg.err"; then
        echo "PASS|$name|egg"
    else
        echo "FAIL|$name|status $rc, expected 125 and swiftc's error with the file's path [logs: ${log#"$ROOT"/}.*]"
    fi
}

obs_kernel_panic_symbols() { # name: a fault in kernel code panics (250) and egg names the function
    local name=$1 log="$LOGS/$1"
    obs_need_egg "$name" || return
    # A custom getpid that dereferences a null-page address in kernel mode.
    cat > "$log.swift" <<'SWIFT'
import KernelCore
@inline(never)
func explode(_ address: UInt64) -> UInt8 {
    UnsafePointer<UInt8>(bitPattern: UInt(address))!.pointee
}
func registerSyscalls(_ table: inout SyscallTable) {
    table.register(39) { k, a in Int(explode(0x10)) }
}
SWIFT
    run_logged "$log.egg" - "$EGG_TIMEOUT" "$EGG" run --accel tcg --syscalls "$log.swift" "$GUEST/trace_target-musl"
    if [ "$rc" -eq 250 ] && grep -qE 'kernel rip 0x[0-9a-f]+ is in (explode|\$e12UserSyscalls7explode)' "$log.egg.err"; then
        echo "PASS|$name|egg"
    else
        echo "FAIL|$name|status $rc (expected 250) or no 'kernel rip ... is in explode' [logs: ${log#"$ROOT"/}.*]"
    fi
}

obs_gdb_stub() { # name: --gdb stops QEMU; gdb with egg's command line stops in the guest's main
    local name=$1 log="$LOGS/$1" port
    obs_need_egg "$name" || return
    if ! command -v gdb > /dev/null; then
        echo "SKIP|$name|no gdb"
        return
    fi
    port=$(( 20000 + RANDOM % 20000 ))
    timeout 60 "$EGG" run --accel tcg --gdb "$port" "$GUEST/hello-musl" > "$log.egg.out" 2> "$log.egg.err" &
    local egg_pid=$!
    local cmd=""
    for _ in $(seq 1 50); do
        cmd=$(grep -oE "gdb -q .*target remote localhost:$port'" "$log.egg.err" || true)
        [ -n "$cmd" ] && break
        sleep 0.2
    done
    if [ -z "$cmd" ]; then
        kill "$egg_pid" 2> /dev/null || true
        echo "FAIL|$name|egg printed no gdb command line [logs: ${log#"$ROOT"/}.*]"
        return
    fi
    # Run egg's own command line, then stop at the guest's main and let it finish.
    eval "timeout 60 $cmd -batch -ex 'break main' -ex continue -ex 'info symbol \$pc' -ex continue" \
        > "$log.gdb" 2>&1 < /dev/null || true
    wait "$egg_pid"
    local egg_rc=$?
    if ! grep -q '^main in section .text' "$log.gdb"; then
        echo "FAIL|$name|gdb did not stop in main [logs: ${log#"$ROOT"/}.*]"
    elif [ "$egg_rc" -ne 0 ] || [ "$(cat "$log.egg.out")" != "hello from egg" ]; then
        echo "FAIL|$name|after gdb continued: status $egg_rc, stdout '$(head -c 80 "$log.egg.out")'"
    else
        echo "PASS|$name|gdb stopped in main"
    fi
}

run_obs_case() { # name function
    "obs_$2" "$1"
}
