// WaitSyscalls — wait4, waitid, getppid, and process groups and sessions: setpgid, getpgid,
// getpgrp, setsid, getsid (KernelCore layer).
//
// Children, zombies and their status words are kept by ProcessLifecycle.swift; a child's end
// wakes its parent's `childEvents` queue, where these calls sleep. A stop or continue (Signals/JobControl.swift) sets the child's stopReport / continueReport,
// which WUNTRACED/WSTOPPED and WCONTINUED report. References: wait(2), wait4(2), setpgid(2), setsid(2),
// kernel/exit.c (do_wait, eligible_child) and kernel/sys.c (ksys_setpgid, ksys_setsid).
import LinuxABI

enum WaitSyscalls {
    static let wNoHang: UInt64 = 1, wExited: UInt64 = 4, wNoWait: UInt64 = 0x0100_0000
    static let wAll: UInt64 = 0x4000_0000, wClone: UInt64 = 0x8000_0000
    /// WNOHANG WUNTRACED WCONTINUED __WNOTHREAD __WALL __WCLONE (wait4); waitid adds
    /// WEXITED and WNOWAIT.
    static let wait4Known: UInt64 = 0x1 | 0x2 | 0x8 | 0x2000_0000 | 0x4000_0000 | 0x8000_0000
    static let waitidKnown: UInt64 = wait4Known | wExited | wNoWait

    enum Selection { case any, pid(Int), group(Int) }

    /// eligible_child(): the selection, and the __WCLONE rule — without __WALL, a child
    /// whose exit signal is not SIGCHLD is waited for only with __WCLONE, and the others only
    /// without it.
    static func eligible(_ c: Process, _ selection: Selection, options: UInt64) -> Bool {
        switch selection {
        case .any: break
        case .pid(let pid): if c.pid != pid { return false }
        case .group(let g): if c.processGroup != g { return false }
        }
        if options & wAll != 0 { return true }
        return (options & wClone != 0) == (c.exitSignal != sigchld)
    }

    static func isZombie(_ c: Process) -> Bool { c.waitStatus != nil && c.threads.isEmpty }

    /// struct rusage (144 bytes) of an ended child: its user and system time as timevals
    /// (getrusage(2)); the other counters egg does not keep per process stay 0.
    static func childUsage(_ c: Process) -> [UInt8] {
        var w = ByteWriter()
        for ns in [c.exitedUserNanoseconds, c.exitedSystemNanoseconds] {
            w.i64(Int64(ns / 1_000_000_000)); w.i64(Int64(ns % 1_000_000_000 / 1000))
        }
        for _ in 0..<14 { w.i64(0) }
        return w.bytes
    }

    /// A waited-for child's CPU time, and its own waited-for children's, join the parent's
    /// RUSAGE_CHILDREN and times(2) totals (kernel/exit.c wait_task_zombie).
    static func collectTimes(_ k: KernelState, _ c: Process) {
        k.process.childrenUserNanoseconds &+= c.exitedUserNanoseconds &+ c.childrenUserNanoseconds
        k.process.childrenSystemNanoseconds &+= c.exitedSystemNanoseconds &+ c.childrenSystemNanoseconds
    }

    static let wUntraced: UInt64 = 0x2, wContinued: UInt64 = 0x8

    /// What a waiter found: a child that ended, stopped (its status word) or continued.
    enum Event { case ended, stopped(Int32), continued }

    /// Sleeps until an eligible child has ended (with WEXITED), stopped (WUNTRACED /
    /// WSTOPPED) or continued (WCONTINUED) and returns it; nil with WNOHANG when none has
    /// yet. ECHILD when no eligible child exists, EINTR when a signal comes first. A stop
    /// or continue report is taken unless WNOWAIT (kernel/exit.c wait_task_stopped,
    /// wait_task_continued).
    static func waitForChild(_ k: KernelState, _ selection: Selection, options: UInt64) throws(Errno) -> (Process, Event)? {
        let me = k.process
        while true {
            var found = false
            for c in me.children where eligible(c, selection, options: options) {
                found = true
                if isZombie(c) {
                    if options & wExited != 0 { return (c, .ended) }
                    continue
                }
                if options & wUntraced != 0, let status = c.stopReport {
                    if options & wNoWait == 0 { c.stopReport = nil }
                    return (c, .stopped(status))
                }
                if options & wContinued != 0 && c.continueReport {
                    if options & wNoWait == 0 { c.continueReport = false }
                    return (c, .continued)
                }
            }
            guard found else { throw .ECHILD }
            if options & wNoHang != 0 { return nil }
            if !k.wait(on: me.childEvents) { throw .EINTR }
        }
    }

    /// wait4(pid, wstatus, options, rusage): pid < -1 a group, -1 any child, 0 the caller's
    /// group, > 0 that child. Status words as wait(2): exit code << 8, the signal, 0x7f |
    /// signal << 8 for a stop, 0xffff for a continue.
    static func wait4(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        let options = a[2] & 0xFFFF_FFFF
        guard options & ~wait4Known == 0 else { throw .EINVAL }
        guard pid != Int32.min else { throw .ESRCH }  // -INT_MIN overflows: Linux says ESRCH
        let selection: Selection
        if pid < -1 { selection = .group(Int(-pid)) }
        else if pid == -1 { selection = .any }
        else if pid == 0 { selection = .group(k.process.processGroup) }
        else { selection = .pid(Int(pid)) }
        guard let (child, event) = try waitForChild(k, selection, options: options | wExited) else { return 0 }
        let status: Int32
        switch event {
        case .ended: status = child.waitStatus ?? 0
        case .stopped(let s): status = s
        case .continued: status = 0xFFFF
        }
        if !a.address(1).isNull, let e = k.memory.writeUInt32(a.address(1), UInt32(bitPattern: status)) {
            throw e
        }
        if !a.address(3).isNull, let e = k.memory.copyOut(a.address(3), from: childUsage(child)) { throw e }
        if case .ended = event {
            collectTimes(k, child)
            k.reap(child)
        }
        return child.pid
    }

    /// waitid(idtype, id, infop, options, rusage): P_ALL 0, P_PID 1, P_PGID 2, P_PIDFD 3
    /// (the process a pidfd refers to, Process/PidFile.swift). The siginfo gets SIGCHLD,
    /// CLD_EXITED / CLD_KILLED / CLD_STOPPED / CLD_CONTINUED, the pid and the status; with
    /// WNOHANG and nothing ready it is zeroed and the call returns 0.
    static func waitid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let options = a[3] & 0xFFFF_FFFF
        guard options & ~waitidKnown == 0, options & (wExited | wUntraced | wContinued) != 0 else { throw .EINVAL }
        let id = Int(a.int32(1))
        let selection: Selection
        switch a.int(0) {
        case 0: selection = .any
        case 1: guard id > 0 else { throw .EINVAL }; selection = .pid(id)
        case 2: guard id >= 0 else { throw .EINVAL }; selection = .group(id == 0 ? k.process.processGroup : id)
        case 3: selection = .pid(try PidFile.process(k, fd: a.int32(1)).pid)
        default: throw .EINVAL
        }
        let info: Siginfo
        let found = try waitForChild(k, selection, options: options)
        if let (c, event) = found {
            let code: Int32, value: Int32
            switch event {
            case .ended:
                let status = c.waitStatus ?? 0
                let exited = status & 0x7F == 0
                code = exited ? 1 : 2
                value = exited ? (status >> 8) & 0xFF : status & 0x7F
            case .stopped(let s): code = cldStopped; value = (s >> 8) & 0xFF
            case .continued: code = cldContinued; value = Int32(sigcont)
            }
            info = Siginfo(signal: Int32(sigchld), code: code,
                           detail: .child(pid: Int32(c.pid), uid: 0, status: value, userTime: 0, systemTime: 0))
        } else {
            info = Siginfo(signal: 0, code: 0, detail: .child(pid: 0, uid: 0, status: 0, userTime: 0, systemTime: 0))
        }
        if !a.address(2).isNull {
            var w = ByteWriter()
            info.encode(into: &w)
            if let e = k.memory.copyOut(a.address(2), from: w.bytes) { throw e }
        }
        if !a.address(4).isNull {
            let usage = found.map { childUsage($0.0) } ?? [UInt8](repeating: 0, count: 144)
            if let e = k.memory.copyOut(a.address(4), from: usage) { throw e }
        }
        if let (c, event) = found, case .ended = event, options & wNoWait == 0 {
            collectTimes(k, c)
            k.reap(c)
        }
        return 0
    }

    static func getppid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        k.process.parent?.pid ?? 0
    }

    static func target(_ k: KernelState, _ pid: Int32) throws(Errno) -> Process {
        guard pid >= 0 else { throw .ESRCH }
        if pid == 0 { return k.process }
        guard let p = k.processes[Int(pid)] else { throw .ESRCH }
        return p
    }

    static func getpgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try target(k, a.int32(0)).processGroup
    }

    static func getpgrp(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { k.process.processGroup }

    static func getsid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try target(k, a.int32(0)).session
    }

    /// setpgid(2): the caller or one of its children, into a new group named after it or an
    /// existing group of the same session. A session leader cannot move (EPERM).
    static func setpgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0), pgid = a.int32(1)
        guard pgid >= 0 else { throw .EINVAL }
        let me = k.process
        let p: Process
        if pid == 0 || Int(pid) == me.pid {
            p = me
        } else {
            guard let c = me.children.first(where: { $0.pid == Int(pid) }), !WaitSyscalls.isZombie(c) else { throw .ESRCH }
            guard c.session == me.session else { throw .EPERM }
            p = c
        }
        let group = pgid == 0 ? p.pid : Int(pgid)
        guard p.session != p.pid else { throw .EPERM }
        if group != p.pid {
            let exists = k.processes.values.contains { $0.processGroup == group && $0.session == me.session }
            guard exists else { throw .EPERM }
        }
        p.processGroup = group
        return 0
    }

    /// setsid(2): a new session and group led by the caller; EPERM for a group leader.
    static func setsid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let me = k.process
        let leadsGroup = k.processes.values.contains { $0.processGroup == me.pid }
        guard !leadsGroup else { throw .EPERM }
        me.session = me.pid
        me.processGroup = me.pid
        me.droppedConsole = false   // a new session has no controlling terminal yet
        return me.pid
    }

    // MARK: fork and vfork

    static func fork(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try k.createProcess(flags: 0, exitSignal: sigchld, stack: 0, parentTID: UserAddress(0),
                            childTID: UserAddress(0), tls: 0)
    }

    static func vfork(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try k.createProcess(flags: ThreadSyscalls.cloneVM | ThreadSyscalls.cloneVfork, exitSignal: sigchld, stack: 0,
                            parentTID: UserAddress(0), childTID: UserAddress(0), tls: 0)
    }
}
