// GuestRunner — runs QEMU as egg's child and waits for it (EggHost layer, host only).
//
// Standard streams: QEMU's stdout is egg's (the guest's COM1 output reaches it unchanged).
// Its stdin is egg's own when that is a terminal — QEMU's stdio chardev puts the terminal
// in raw mode, and with signal=off (ConsoleMode.swift) clears ISIG too, so ^C reaches the
// guest's line discipline as a byte (SIGINT there) and ^D as end of file; the terminal's
// settings are restored here after QEMU, however it ended. When egg's stdin is a pipe, a
// file or /dev/null and the run keeps the UART (microvm; pc and q35 use the virtio streams of
// HostStreams.swift instead), a thread copies it into a pipe to QEMU and ends it with ^D (twice when
// the last line has no newline), because a serial line has no end of file of its own; the
// kernel's terminal treats ^D as Linux's does (Sources/KernelCore/Devices/Terminal.swift).
// QEMU's stderr goes to a file that egg shows on failure or with --verbose.
//
// Signals: SIGINT, SIGTERM and SIGHUP sent to egg are forwarded to QEMU; egg then exits
// 128+N. With no QEMU running, the handler removes egg's temporary files itself and exits.
// --timeout arms SIGALRM: SIGTERM to QEMU first, SIGKILL 3 s later.

import Foundation

public enum StandardInputMode: Equatable, Sendable {
    case inherit      // egg's stdin is a terminal: QEMU reads it directly
    case pump         // copy egg's stdin into a pipe, then ^D
    case null         // /dev/null, nothing sent (the KVM probe)
}

public struct ChildResult: Equatable {
    /// QEMU's exit code, or nil when a signal ended it.
    public var exitCode: Int32?
    public var terminatingSignal: Int32?
    public var timedOut: Bool
    /// A signal egg received and forwarded during the run.
    public var forwardedSignal: Int32?
}

public enum SpawnError: Error {
    case failed(String)
}

// State the signal handlers use. Written only by the main thread while handlers are
// blocked or before they can look; the handlers only read words and call
// async-signal-safe functions (kill, unlink, rmdir, _exit, alarm).
nonisolated(unsafe) private var runningChild: pid_t = 0
nonisolated(unsafe) private var pendingSignal: Int32 = 0
nonisolated(unsafe) private var timeoutStage: Int32 = 0   // 0 armed/idle, 1 TERM sent, 2 KILL sent
nonisolated(unsafe) private var cleanupPaths = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 8)
nonisolated(unsafe) private var cleanupCount = 0
nonisolated(unsafe) private var handlersInstalled = false

private func forwardSignal(_ signal: Int32) {
    // With the virtio streams the guest's own handlers get it (HostStreams.swift).
    if runningChild > 0 && forwardSignalToGuest(signal, child: runningChild) { return }
    if pendingSignal == 0 { pendingSignal = signal }
    if runningChild > 0 {
        kill(runningChild, signal)
        return
    }
    // No QEMU to wait for: clean up and go, as the signal's default action would.
    removeCleanupPaths()
    _exit(128 + signal)
}

private func alarmFired(_: Int32) {
    guard runningChild > 0 else { return }
    if timeoutStage == 0 {
        timeoutStage = 1
        kill(runningChild, SIGTERM)
        alarm(3)
    } else {
        timeoutStage = 2
        kill(runningChild, SIGKILL)
    }
}

private func removeCleanupPaths() {
    // Files first, the directory (entry 0) last.
    var i = cleanupCount - 1
    while i >= 0 {
        if let path = cleanupPaths[i] {
            if i == 0 { rmdir(path) } else { unlink(path) }
        }
        i -= 1
    }
}

/// Installs egg's handlers (once). Call before anything creates temporary files.
public func installSignalHandlers() {
    guard !handlersInstalled else { return }
    handlersInstalled = true
    signal(SIGPIPE, SIG_IGN)
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] {
        signal(sig) { forwardSignal($0) }
    }
    signal(SIGALRM) { alarmFired($0) }
}

/// The signal egg received (and forwarded), if any.
public func receivedSignal() -> Int32? { pendingSignal == 0 ? nil : pendingSignal }

/// A fresh private directory (mkdtemp under $TMPDIR or /tmp) whose known files are removed
/// by `remove()` and, if a signal arrives while no QEMU runs, by the signal handler.
public final class TemporaryRunDirectory {
    public let path: String
    public static let fileNames = ["bundle", "control", "qemu-stderr", "probe-bundle", "probe-control", "probe-stderr",
                                   "trace"]

    public init() throws(SpawnError) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/egg.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw .failed("cannot create a temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // Register the paths for the signal handler before any file exists.
        let all = [path] + TemporaryRunDirectory.fileNames.map { path + "/" + $0 }
        for (i, p) in all.enumerated() where i < 8 { cleanupPaths[i] = strdup(p) }
        cleanupCount = min(all.count, 8)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() {
        removeCleanupPaths()
        // Anything unexpected left behind (should be nothing).
        try? FileManager.default.removeItem(atPath: path)
        for i in 0..<cleanupCount { free(cleanupPaths[i]); cleanupPaths[i] = nil }
        cleanupCount = 0
    }
}

/// Starts `program arguments`, wires the streams, waits. `timeout` in seconds (nil: none).
public func runChild(program: String, arguments: [String], stdin mode: StandardInputMode,
                     discardStdout: Bool, stderrPath: String, timeout: Double?,
                     inheriting descriptors: [(Int32, Int32)] = [],
                     started: (pid_t) -> Void = { _ in }) throws(SpawnError) -> ChildResult {
    installSignalHandlers()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }

    // QEMU starts with default dispositions (egg ignores SIGPIPE) and nothing blocked.
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    var pipeEnds: [Int32] = [-1, -1]
    switch mode {
    case .inherit:
        break
    case .null:
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    case .pump:
        guard pipe(&pipeEnds) == 0 else {
            throw .failed("pipe: \(String(cString: strerror(errno)))")
        }
        // Neither end may leak into QEMU as an extra descriptor (dup2 gives it its stdin).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
    }
    if discardStdout { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    // (source, target): the host streams' socket ends (HostStreams.swift).
    for (source, target) in descriptors { posix_spawn_file_actions_adddup2(&actions, source, target) }

    // A terminal's settings are restored after QEMU, even if it was killed mid-run.
    var savedTerminal = termios()
    let restoreTerminal = mode == .inherit && isatty(0) == 1 && tcgetattr(0, &savedTerminal) == 0

    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, program, &actions, &attributes, argv, environ)
    if mode == .pump { close(pipeEnds[0]) }
    guard rc == 0 else {
        if mode == .pump { close(pipeEnds[1]) }
        throw .failed("cannot start \(program): \(String(cString: strerror(rc)))")
    }
    runningChild = pid
    if pendingSignal != 0 { kill(pid, pendingSignal) }
    if mode == .pump { startStandardInputPump(into: pipeEnds[1]) }
    started(pid)

    timeoutStage = 0
    if let timeout, timeout > 0 {
        var timer = itimerval()
        timer.it_value.tv_sec = Int(timeout)
        timer.it_value.tv_usec = Int((timeout - Double(Int(timeout))) * 1_000_000)
        if timer.it_value.tv_sec == 0 && timer.it_value.tv_usec == 0 { timer.it_value.tv_usec = 1 }
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
    }

    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    var off = itimerval()
    setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &off, nil)
    runningChild = 0
    if restoreTerminal { tcsetattr(0, TCSANOW, &savedTerminal) }
    // The pump's write end stays open until egg exits: closing it would race the thread.

    let signaled = status & 0x7F
    return ChildResult(exitCode: signaled == 0 ? (status >> 8) & 0xFF : nil,
                       terminatingSignal: signaled == 0 ? nil : signaled,
                       timedOut: timeoutStage != 0,
                       forwardedSignal: receivedSignal())
}

/// Copies egg's stdin into `fd` on a thread, then sends end of file as ^D (see the header).
private func startStandardInputPump(into fd: Int32) {
    let thread = Thread {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var last: UInt8 = 0x0A
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if !writeAll(fd, Array(buffer[0..<n])) { return }
            last = buffer[n - 1]
        }
        // ^D ends a line that has no newline yet; a second one (or the only one) reads as EOF.
        _ = writeAll(fd, last == 0x0A ? [0x04] : [0x04, 0x04])
    }
    thread.start()
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}
