// ConsoleTerminal — the console as a terminal: input arriving from the machine, and read(2),
// poll readiness and the tty ioctls on console descriptors (KernelCore layer).
//
// The line discipline itself is Terminal.swift (pure). The machine hands raw bytes over
// through Platform.consoleTakeInput (Sources/Kernel/MachinePlatform.swift: COM1's receive
// interrupt, vector 36, and the PS/2 keyboard, vector 33, both call receiveConsoleInput via
// Traps.swift); readers also pull on every try, so input flows even where the serial
// interrupt never arrives. FileSyscalls.swift sends console reads, readiness and ioctls
// here. References: termios(3) for VMIN/VTIME, ioctl_tty(2) (TIOC*), drivers/tty/n_tty.c
// (n_tty_read, n_tty_ioctl) and tty_io.c / tty_jobctrl.c for what Linux returns.
import LinuxABI

extension KernelState {
    /// Typed input from the machine: through the line discipline, echo written to the
    /// console, signals (^C, ^\, ^Z) sent to the foreground process group
    /// (Signals/JobControl.swift), blocked readers and pollers woken.
    public func receiveConsoleInput(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let effects = terminal.receive(bytes)
        if !effects.echo.isEmpty { platform.consoleWrite(effects.echo, count: effects.echo.count) }
        for s in effects.signals { signalConsoleForegroundGroup(s) }
        wake(consoleInput)
        notifyPollers()
    }

    /// Pull whatever the platform received since the last look.
    public func pullConsoleInput() {
        receiveConsoleInput(platform.consoleTakeInput())
    }

    /// The bundle's console options (Sources/EggHost/EggRun.swift): "console=pipe" when
    /// egg's stdin is not a terminal (Terminal.configureForPipedInput); "winsize=ROWSxCOLS",
    /// the size of egg's own terminal when it has one (ConsoleMode.swift), for TIOCGWINSZ.
    public func configureConsole(options: [String]) {
        if options.contains("console=pipe") { terminal.configureForPipedInput(); consoleIsPiped = true }
        if let size = BootBundle.optionValue("winsize", in: options), let parsed = ConsoleTerminal.parseWindowSize(size) {
            terminal.windowSize = parsed
        }
    }
}

enum ConsoleTerminal {
    /// "ROWSxCOLS" with both in 1...65535; nil otherwise (the 80x24 default stays).
    static func parseWindowSize(_ text: String) -> Winsize? {
        let parts = text.split(separator: "x")
        guard parts.count == 2, let rows = UInt16(parts[0]), let columns = UInt16(parts[1]),
              rows > 0, columns > 0 else { return nil }
        return Winsize(rows: rows, columns: columns)
    }

    /// How long a blocked reader waits before looking at the platform again.
    static let pollSlice: UInt64 = 10_000_000

    // MARK: read(2)

    /// read(2) on the console: canonical — one line (or what fits of it), 0 at end of file;
    /// non-canonical — termios(3)'s four VMIN/VTIME cases (n_tty_read): MIN 0 TIME 0 returns
    /// what is there; MIN 0 TIME t waits up to t tenths of a second for a byte; MIN m TIME 0
    /// waits for min(m, count) bytes; MIN m TIME t also returns once t passes after a byte
    /// with no new one.
    static func read(_ k: KernelState, _ f: OpenFile, _ address: UserAddress, _ count: Int) throws(Errno) -> Int {
        guard f.canRead else { throw .EBADF }
        try k.checkConsoleForeground(signal: 21)   // n_tty_read → job_control: SIGTTIN
        if count == 0 { return 0 }
        let nonblocking = f.statusFlags & nonblockFlag != 0
        let t = k.terminal
        var collected: [UInt8] = []
        var readDeadline: UInt64? = nil      // MIN 0, TIME > 0: from the start of the read
        var byteDeadline: UInt64? = nil      // MIN > 0, TIME > 0: after the latest byte
        func deliver(_ bytes: [UInt8]) throws(Errno) -> Int {
            if !bytes.isEmpty, let e = k.memory.copyOut(address, from: bytes) { throw e }
            return bytes.count
        }
        while true {
            k.pullConsoleInput()
            let now = k.platform.monotonicNanoseconds()
            var wakeAt = now + pollSlice
            if t.isCanonical {
                if !collected.isEmpty { return try deliver(collected) }  // the mode changed mid-read
                if let line = t.readLine(maximum: min(count, 1 << 16)) { return try deliver(line) }
            } else {
                let minimum = Int(t.settings.controlCharacters[TermiosBits.VMIN])
                let time = UInt64(t.settings.controlCharacters[TermiosBits.VTIME]) * 100_000_000
                let fresh = t.takeQueued(maximum: min(count, 1 << 16) - collected.count)
                collected += fresh
                // Piped input that has ended: what is left, then 0 for ever, whatever VMIN says.
                if t.inputEnded { return try deliver(collected) }
                if minimum == 0 {
                    if !collected.isEmpty || time == 0 { return try deliver(collected) }
                    let end = readDeadline ?? now + time
                    readDeadline = end
                    if now >= end { return try deliver(collected) }
                    wakeAt = min(wakeAt, end)
                } else {
                    if collected.count >= min(minimum, count) || collected.count >= 1 << 16 { return try deliver(collected) }
                    if time > 0 && !collected.isEmpty {
                        if !fresh.isEmpty { byteDeadline = now + time }
                        if let end = byteDeadline {
                            if now >= end { return try deliver(collected) }
                            wakeAt = min(wakeAt, end)
                        }
                    }
                }
            }
            if nonblocking { if collected.isEmpty { throw .EAGAIN } else { return try deliver(collected) } }
            guard k.wait(on: k.consoleInput, deadline: wakeAt) else {
                if collected.isEmpty { throw .EINTR } else { return try deliver(collected) }
            }
        }
    }

    /// poll/epoll readiness of a console descriptor.
    static func readiness(_ k: KernelState) -> UInt32 {
        k.pullConsoleInput()
        return PollEvents.output | (k.terminal.pollReadable ? PollEvents.input : 0)
    }

    // MARK: ioctl_tty(2)

    static func ioctl(_ k: KernelState, _ request: UInt32, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = k.terminal
        let argument = a.address(2)
        switch request {
        case IoctlRequest.TCGETS.rawValue:
            if let e = k.memory.copyOut(argument, from: t.settings.encode()) { throw e }
            return 0
        case IoctlRequest.TCSETS.rawValue, IoctlRequest.TCSETSW.rawValue, IoctlRequest.TCSETSF.rawValue:
            // TCSETSW waits for output to drain: console writes are synchronous, so at once.
            try k.checkConsoleForeground(signal: 22)   // tty_mode_ioctl → tty_check_change
            let bytes = try k.memory.copyIn(argument, count: Termios.byteSize).get()
            guard let new = try? Termios.decode(from: bytes) else { throw .EFAULT }
            t.apply(new, flushInput: request == IoctlRequest.TCSETSF.rawValue)
            k.wake(k.consoleInput)
            k.notifyPollers()
            return 0
        case IoctlRequest.TIOCGWINSZ.rawValue:
            if let e = k.memory.copyOut(argument, from: t.windowSize.encode()) { throw e }
            return 0
        case IoctlRequest.TIOCSWINSZ.rawValue:
            let bytes = try k.memory.copyIn(argument, count: Winsize.byteSize).get()
            guard let size = try? Winsize.decode(from: bytes) else { throw .EFAULT }
            // tty_do_resize: a change sends SIGWINCH to the foreground process group.
            if size != t.windowSize {
                t.windowSize = size
                k.signalConsoleForegroundGroup(28)   // SIGWINCH
            }
            return 0
        case IoctlRequest.TIOCGPGRP.rawValue, IoctlRequest.TIOCGSID.rawValue,
             IoctlRequest.TIOCSPGRP.rawValue, IoctlRequest.TIOCSCTTY.rawValue, IoctlRequest.TIOCNOTTY.rawValue:
            return try jobControl(k, request, a)
        case IoctlRequest.TCFLSH.rawValue:
            try k.checkConsoleForeground(signal: 22)   // n_tty_ioctl_helper → tty_check_change
            switch a.uint32(2) {
            case TermiosBits.TCIFLUSH, TermiosBits.TCIOFLUSH:
                t.flushInput()
                k.notifyPollers()
                return 0
            case TermiosBits.TCOFLUSH: return 0  // output is never queued
            default: throw .EINVAL
            }
        case IoctlRequest.TIOCOUTQ.rawValue:
            if let e = k.memory.writeUInt32(argument, 0) { throw e }
            return 0
        case 0x5409, 0x540A:
            // TCSBRK (tcdrain: nothing queued), TCXONC (no flow control).
            return 0
        default:
            throw .ENOTTY
        }
    }
}

extension ConsoleTerminal {
    // MARK: job control ioctls (drivers/tty/tty_jobctrl.c)

    /// TIOCGPGRP, TIOCSPGRP (tcgetpgrp/tcsetpgrp), TIOCGSID (tcgetsid), TIOCSCTTY, TIOCNOTTY.
    /// With piped input egg's standard input is not a terminal, so nobody can control it:
    /// every one of them fails with ENOTTY, as on the pipe the program gets natively.
    static func jobControl(_ k: KernelState, _ request: UInt32, _ a: SyscallArguments) throws(Errno) -> Int {
        if k.consoleIsPiped { throw .ENOTTY }
        let me = k.process
        let argument = a.address(2)
        switch request {
        case IoctlRequest.TIOCGPGRP.rawValue:
            // tiocgpgrp: only through one's own controlling terminal.
            guard k.hasConsole(me) else { throw .ENOTTY }
            if let e = k.memory.writeUInt32(argument, UInt32(k.consoleForegroundGroup)) { throw e }
            return 0
        case IoctlRequest.TIOCGSID.rawValue:
            guard k.hasConsole(me) else { throw .ENOTTY }
            if let e = k.memory.writeUInt32(argument, UInt32(k.consoleSession)) { throw e }
            return 0
        case IoctlRequest.TIOCSPGRP.rawValue:
            // tiocspgrp: a background caller is stopped first (SIGTTOU); then ENOTTY for
            // another session's terminal, EINVAL, ESRCH for a group with no process, EPERM
            // for a group of another session.
            try k.checkConsoleForeground(signal: 22)
            guard k.hasConsole(me) else { throw .ENOTTY }
            let b = try k.memory.copyIn(argument, count: 4).get()
            let group = Int32(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
            if group < 0 { throw .EINVAL }
            let members = k.processes.values.filter { $0.processGroup == Int(group) && $0.waitStatus == nil }
            guard !members.isEmpty else { throw .ESRCH }
            guard members.allSatisfy({ $0.session == me.session }) else { throw .EPERM }
            k.consoleForegroundGroup = Int(group)
            return 0
        case IoctlRequest.TIOCSCTTY.rawValue:
            // tiocsctty: a session leader without a controlling terminal takes the console;
            // one that already has it succeeds; the console of another session is taken only
            // with argument 1 and CAP_SYS_ADMIN (21).
            if me.session == me.pid && k.hasConsole(me) { return 0 }
            guard me.session == me.pid, !k.hasConsole(me) else { throw .EPERM }
            if k.consoleSession != 0 && k.consoleSession != me.session {
                guard a[2] == 1, k.currentThread.credentials.capable(21) else { throw .EPERM }
            }
            k.consoleSession = me.session
            k.consoleForegroundGroup = me.processGroup
            me.droppedConsole = false
            return 0
        case IoctlRequest.TIOCNOTTY.rawValue:
            // tiocnotty: a session leader gives the console up for its whole session and its
            // foreground group gets SIGHUP and SIGCONT (disassociate_ctty); anyone else
            // just stops having it.
            guard k.hasConsole(me) else { throw .ENOTTY }
            if me.session == me.pid {
                let group = k.consoleForegroundGroup
                k.consoleSession = 0
                k.consoleForegroundGroup = 0
                for p in k.processes.values where p.processGroup == group && p.waitStatus == nil {
                    k.postSignal(1, to: p)
                    k.postSignal(sigcont, to: p)
                }
            } else {
                me.droppedConsole = true
            }
            return 0
        default:
            throw .ENOTTY
        }
    }
}
