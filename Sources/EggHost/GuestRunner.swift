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
// 128+N. With no QEMU running, the handler stops any helper egg is waiting for (the Swift
// compiler of --syscalls), removes egg's temporary directory itself and exits 128+N.
// SIGPIPE is ignored: a write to a closed stderr or stdout fails with EPIPE, which egg's
// writers ignore (writeStandardError), so egg goes on and still reaps QEMU.
// QEMU is started by fork + execve with PR_SET_PDEATHSIG = SIGKILL (prctl(2)), so whatever
// ends egg — a crash, SIGKILL — takes QEMU with it; no run leaves a QEMU behind.
// --timeout is one deadline for the whole run (armDeadline): SIGALRM sends SIGTERM to QEMU
// (SIGKILL 3 s later); if it fires before QEMU runs (reading the program, the KVM probe,
// compiling --syscalls), egg cleans up and exits 124 at once.

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
    /// egg's stdout was a pipe whose reader went away, so QEMU was stopped (as a program
    /// writing to it would die of SIGPIPE).
    public var stdoutClosed: Bool = false
}

public enum SpawnError: Error {
    case failed(String)
}

// State the signal handlers use. Written only by the main thread while handlers are
// blocked or before they can look; the handlers only read words and call
// async-signal-safe functions (kill, unlink, rmdir, fork, execve, waitpid, write, _exit).
nonisolated(unsafe) private var runningChild: pid_t = 0
nonisolated(unsafe) private var helperChild: pid_t = 0
nonisolated(unsafe) private var pendingSignal: Int32 = 0
nonisolated(unsafe) private var timeoutStage: Int32 = 0   // 0 armed/idle, 1 TERM sent, 2 KILL sent
nonisolated(unsafe) private var cleanupPaths = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 8)
nonisolated(unsafe) private var cleanupCount = 0
nonisolated(unsafe) private var handlersInstalled = false
/// `rm -rf DIR` prepared in advance, for a directory the handler cannot empty file by file.
nonisolated(unsafe) private var removeTreeArguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 4)
/// The whole-run deadline (CLOCK_MONOTONIC seconds; 0: none) and its message.
nonisolated(unsafe) private var deadlineSeconds: Double = 0
nonisolated(unsafe) private var deadlineMessage: UnsafeMutablePointer<CChar>? = nil
nonisolated(unsafe) private var deadlineExpired = false

private func forwardSignal(_ signal: Int32) {
    // With the virtio streams the guest's own handlers get it (HostStreams.swift).
    if runningChild > 0 && forwardSignalToGuest(signal, child: runningChild) { return }
    if pendingSignal == 0 { pendingSignal = signal }
    if runningChild > 0 {
        kill(runningChild, signal)
        return
    }
    // No QEMU to wait for: clean up and go, as the signal's default action would.
    abandonRun(status: 128 + signal)
}

/// From a handler: stop the helper, remove the temporary directory, _exit.
private func abandonRun(status: Int32) -> Never {
    if helperChild > 0 { kill(helperChild, SIGKILL) }
    removeCleanupPaths()
    _exit(status)
}

private func alarmFired(_: Int32) {
    guard runningChild > 0 else {
        if deadlineSeconds > 0 {
            deadlineExpired = true
            if let message = deadlineMessage { _ = write(2, message, strlen(message)) }
            abandonRun(status: EggStatus.timeout)
        }
        return
    }
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
    // Files first, the directory (entry 0) last; anything else in it through rm -rf.
    var i = cleanupCount - 1
    while i >= 0 {
        if let path = cleanupPaths[i] {
            if i == 0 {
                if rmdir(path) != 0 && errno != ENOENT && removeTreeArguments[0] != nil {
                    let child = fork()
                    if child == 0 {
                        execve(removeTreeArguments[0]!, removeTreeArguments, environ)
                        _exit(127)
                    }
                    if child > 0 {
                        var status: Int32 = 0
                        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                    }
                }
            } else {
                unlink(path)
            }
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

private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Starts --timeout's clock for the whole run: from now on every wait is bounded by it.
public func armDeadline(seconds: Double) {
    installSignalHandlers()
    deadlineMessage = strdup("egg: timed out after \(formatSeconds(seconds)) s (before the program started)\n")
    deadlineSeconds = monotonicSeconds() + seconds
    setTimer(seconds)
}

/// Stops the deadline's clock: the guest has run and egg only reports now.
public func disarmDeadline() {
    deadlineSeconds = 0
    setTimer(nil)
}

/// True once the --timeout deadline has passed.
public func deadlineHasPassed() -> Bool {
    deadlineSeconds > 0 && (deadlineExpired || monotonicSeconds() >= deadlineSeconds)
}

/// Seconds left before the deadline (nil: no deadline).
private func deadlineRemaining() -> Double? {
    deadlineSeconds > 0 ? max(deadlineSeconds - monotonicSeconds(), 0) : nil
}

private func setTimer(_ seconds: Double?) {
    var timer = itimerval()
    if let seconds {
        timer.it_value.tv_sec = Int(seconds)
        timer.it_value.tv_usec = Int((seconds - Double(Int(seconds))) * 1_000_000)
        if timer.it_value.tv_sec == 0 && timer.it_value.tv_usec == 0 { timer.it_value.tv_usec = 1 }
    }
    setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
}

/// A helper process egg waits for outside runChild (the Swift compiler, the linker): a
/// signal to egg kills it before egg cleans up. 0 when none.
public func setHelperChild(_ pid: pid_t) { helperChild = pid }

/// A fresh private directory (mkdtemp under $TMPDIR or /tmp) whose files are removed by
/// `remove()` and, on any signal that ends egg, by the signal handler.
public final class TemporaryRunDirectory {
    public let path: String
    public static let fileNames = ["bundle", "control", "qemu-stderr", "probe-bundle", "probe-control", "probe-stderr",
                                   "trace"]

    public init() throws(SpawnError) {
        installSignalHandlers()
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
        let rm = ["/bin/rm", "/usr/bin/rm"].first { (candidate: String) -> Bool in access(candidate, X_OK) == 0 }
        if let rm {
            removeTreeArguments[0] = strdup(rm)
            removeTreeArguments[1] = strdup("-rf")
            removeTreeArguments[2] = strdup(path)
            removeTreeArguments[3] = nil
        }
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() {
        // Anything else (the --syscalls build) first, then the known files and the directory.
        if let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for name in names where !TemporaryRunDirectory.fileNames.contains(name) {
                try? FileManager.default.removeItem(atPath: path + "/" + name)
            }
        }
        removeCleanupPaths()
        try? FileManager.default.removeItem(atPath: path)
        for i in 0..<cleanupCount { free(cleanupPaths[i]); cleanupPaths[i] = nil }
        cleanupCount = 0
        for i in 0..<3 { free(removeTreeArguments[i]); removeTreeArguments[i] = nil }
    }
}

/// pipe(2) with both ends close-on-exec (Glibc's pipe2 is not imported into Swift).
private func makePipe(_ ends: inout [Int32]) -> Bool {
    guard pipe(&ends) == 0 else { return false }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return true
}

typealias PrctlFunction = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
/// prctl(2) is variadic in <sys/prctl.h>, which Swift does not import; on x86-64 the
/// System V calling convention passes these integer arguments the same way either way.
private let prctlFunction: PrctlFunction? = dlsym(nil, "prctl").map { unsafeBitCast($0, to: PrctlFunction.self) }
private let PR_SET_PDEATHSIG_OPTION: Int32 = 1

/// Starts `program arguments`, wires the streams, waits. `timeout` in seconds (nil: none);
/// the run's --timeout deadline (armDeadline) bounds it too.
public func runChild(program: String, arguments: [String], stdin mode: StandardInputMode,
                     discardStdout: Bool, stderrPath: String, timeout: Double?,
                     inheriting descriptors: [(Int32, Int32)] = [],
                     started: (pid_t) -> Void = { _ in }) throws(SpawnError) -> ChildResult {
    installSignalHandlers()
    func failure(_ what: String) -> SpawnError { .failed("\(what): \(String(cString: strerror(errno)))") }

    // Every descriptor the child needs is opened here, close-on-exec; the child only dup2s.
    var stdinFD: Int32 = -1, pumpFD: Int32 = -1
    switch mode {
    case .inherit: break
    case .null:
        stdinFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard stdinFD >= 0 else { throw failure("/dev/null") }
    case .pump:
        var ends: [Int32] = [-1, -1]
        guard makePipe(&ends) else { throw failure("pipe") }
        stdinFD = ends[0]
        pumpFD = ends[1]
    }
    defer { if stdinFD >= 0 { close(stdinFD) } }
    let stdoutFD: Int32 = discardStdout ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1
    defer { if stdoutFD >= 0 { close(stdoutFD) } }
    let stderrFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard stderrFD >= 0 else {
        if pumpFD >= 0 { close(pumpFD) }
        throw failure(stderrPath)
    }
    defer { close(stderrFD) }
    // The child reports a failed execve through this pipe (closed by a successful one).
    var report: [Int32] = [-1, -1]
    guard makePipe(&report) else { throw failure("pipe") }

    // A terminal's settings are restored after QEMU, even if it was killed mid-run.
    var savedTerminal = termios()
    let restoreTerminal = mode == .inherit && isatty(0) == 1 && tcgetattr(0, &savedTerminal) == 0

    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let parent = getpid()
    let reportWrite = report[1]
    var empty = sigset_t()
    sigemptyset(&empty)
    // Signals egg handles reach the child's default actions only after exec: block them
    // across fork so no handler of egg's runs in the child.
    var blocked = sigset_t(), previous = sigset_t()
    sigfillset(&blocked)
    pthread_sigmask(SIG_SETMASK, &blocked, &previous)
    let pid = argv.withUnsafeBufferPointer { args -> pid_t in
        let child = fork()
        if child != 0 { return child }
        // The child: async-signal-safe calls only, then execve.
        _ = prctlFunction?(PR_SET_PDEATHSIG_OPTION, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { _exit(127) }  // egg already gone
        // (No array literal here: nothing that allocates runs between fork and execve.)
        signal(SIGPIPE, SIG_DFL); signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
        signal(SIGHUP, SIG_DFL); signal(SIGALRM, SIG_DFL); signal(SIGQUIT, SIG_DFL)
        signal(SIGUSR1, SIG_DFL); signal(SIGUSR2, SIG_DFL)
        if stdinFD >= 0 { dup2(stdinFD, 0) }
        if stdoutFD >= 0 { dup2(stdoutFD, 1) }
        dup2(stderrFD, 2)
        // (source, target): the host streams' socket ends (HostStreams.swift); reading the
        // existing array does not allocate.
        for i in 0..<descriptors.count { dup2(descriptors[i].0, descriptors[i].1) }
        var none = empty
        pthread_sigmask(SIG_SETMASK, &none, nil)
        execve(args[0]!, UnsafeMutablePointer(mutating: args.baseAddress!), environ)
        var code = errno
        _ = write(reportWrite, &code, 4)
        _exit(127)
    }
    let forkErrno = errno
    runningChild = pid > 0 ? pid : 0
    pthread_sigmask(SIG_SETMASK, &previous, nil)
    close(report[1])
    var execErrno: Int32 = 0
    let got = pid > 0 ? read(report[0], &execErrno, 4) : 0
    close(report[0])
    if pid <= 0 || got == 4 {
        if pid > 0 { var status: Int32 = 0; while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }
        runningChild = 0
        if pumpFD >= 0 { close(pumpFD) }
        throw .failed("cannot start \(program): \(String(cString: strerror(pid <= 0 ? forkErrno : execErrno)))")
    }
    if pendingSignal != 0 { kill(pid, pendingSignal) }
    if mode == .pump { close(stdinFD); stdinFD = -1; startStandardInputPump(into: pumpFD) }
    started(pid)
    let watcher = discardStdout ? nil : StandardOutputWatcher.start(child: pid)

    timeoutStage = 0
    let remaining = deadlineRemaining()
    let limit: Double? = switch (timeout, remaining) {
    case (nil, nil): nil
    case (let t?, nil): t
    case (nil, let r?): r
    case (let t?, let r?): min(t, r)
    }
    setTimer(limit.map { max($0, 0.000_001) })

    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    setTimer(nil)
    let stdoutClosed = watcher?.stop() ?? false
    runningChild = 0
    // The rest of the run stays bounded, unless the timeout already ended it (re-arming
    // then fired at once and reported "before the program started" for a program that ran).
    if timeoutStage == 0, let left = deadlineRemaining() { setTimer(max(left, 0.000_001)) }
    if restoreTerminal { tcsetattr(0, TCSANOW, &savedTerminal) }
    // The pump's write end stays open until egg exits: closing it would race the thread.

    let signaled = status & 0x7F
    return ChildResult(exitCode: signaled == 0 ? (status >> 8) & 0xFF : nil,
                       terminatingSignal: signaled == 0 ? nil : signaled,
                       timedOut: timeoutStage != 0,
                       forwardedSignal: receivedSignal(), stdoutClosed: stdoutClosed || signaled == SIGPIPE)
}

/// Watches egg's stdout while QEMU runs, when it is a pipe or socket: once the reader is
/// gone (poll(2) reports POLLERR/POLLHUP on the write end; pipe(7)), the guest's output has
/// nowhere to go and QEMU would drop it forever (`egg run yes | head -1` never ended), so
/// QEMU is stopped with SIGTERM and egg reports 141, as docker run does when its program
/// dies of SIGPIPE.
final class StandardOutputWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var sawClosed = false
    private let done = DispatchSemaphore(value: 0)

    static func start(child: pid_t) -> StandardOutputWatcher? {
        var info = stat()
        guard fstat(1, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFIFO || kind == S_IFSOCK else { return nil }
        let watcher = StandardOutputWatcher()
        Thread { watcher.run(child: child) }.start()
        return watcher
    }

    private func run(child: pid_t) {
        defer { done.signal() }
        while true {
            var entry = pollfd(fd: 1, events: 0, revents: 0)
            let n = poll(&entry, 1, 100)
            lock.lock()
            if stopping { lock.unlock(); return }
            if n > 0 && entry.revents & Int16(POLLERR | POLLHUP) != 0 {
                sawClosed = true
                kill(child, SIGTERM)  // runChild calls stop() right after reaping it
                lock.unlock()
                return
            }
            lock.unlock()
        }
    }

    /// After QEMU was reaped: ends the watch; true when it stopped QEMU.
    func stop() -> Bool {
        lock.lock()
        stopping = true
        lock.unlock()
        done.wait()
        return sawClosed
    }
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
