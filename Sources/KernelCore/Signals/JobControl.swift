// JobControl — stopping and continuing processes: the default action of SIGSTOP, SIGTSTP,
// SIGTTIN and SIGTTOU, SIGCONT's resumption, and the CLD_STOPPED / CLD_CONTINUED reports to
// the parent (KernelCore layer).
//
// Posting (Process/ProcessLifecycle.swift postSignal, SignalDelivery.swift postThreadSignal)
// calls `prepareSignal` first, as Linux's prepare_signal() (kernel/signal.c): a stop signal
// discards a pending SIGCONT, and SIGCONT discards pending stop signals and resumes a stopped
// process even when SIGCONT itself is blocked or ignored. The stop happens when a thread
// takes the stop signal in returnToUser (do_signal_stop); every thread of the process then
// parks in `waitWhileStopped` on its next way to user mode. Only SIGKILL (or the process
// ending) ends a stop besides SIGCONT. The parent's wait4/waitid see the reports
// (Process/WaitSyscalls.swift, WUNTRACED / WCONTINUED). References: signal(7), wait(2),
// sigaction(2) SA_NOCLDSTOP, kernel/signal.c do_notify_parent_cldstop.
import LinuxABI

let sigcont = 18, sigkill = 9
let saNoClDStop: UInt64 = 1
let cldStopped: Int32 = 5, cldContinued: Int32 = 6

extension KernelState {
    /// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU.
    static func isStopSignal(_ s: Int) -> Bool { s >= 19 && s <= 22 }
    static let stopSignalBits: UInt64 = signalBit(19) | signalBit(20) | signalBit(21) | signalBit(22)

    /// A signal whose default action is taken for `p` would be discarded: the ignored ones,
    /// and the stop signals for PID 1 — Linux drops default-action signals for a namespace
    /// init (SIGNAL_UNKILLABLE, sig_task_ignored); a stopped init would freeze the machine.
    func discardedByDefault(_ s: Int, for p: Process?) -> Bool {
        KernelState.ignoredByDefault(s) || (KernelState.isStopSignal(s) && (p == nil || p === initProcess))
    }

    /// prepare_signal(): the side effects of generating `s` for `p`, whatever its disposition.
    func prepareSignal(_ s: Int, for p: Process) {
        if KernelState.isStopSignal(s) {
            p.processPendingSignals &= ~signalBit(sigcont)
            for t in p.threads { t.pendingSignals &= ~signalBit(sigcont) }
        } else if s == sigcont {
            p.processPendingSignals &= ~KernelState.stopSignalBits
            for t in p.threads { t.pendingSignals &= ~KernelState.stopSignalBits }
            if p.stopped { continueProcess(p) }
        }
    }

    /// SIGCONT reached a stopped process: its threads run again and the parent hears of it.
    func continueProcess(_ p: Process) {
        p.stopped = false
        p.stopReport = nil          // an unreported stop is lost, as Linux's group_exit_code
        p.continueReport = true
        wake(p.stopWaiters)
        notifyParentOfJobControl(p, code: cldContinued, signal: sigcont)
    }

    /// The current thread took stop signal `s` with its default action: the whole process
    /// stops (the caller then parks in waitWhileStopped).
    func stopCurrentProcess(signal s: Int) {
        let p = process
        guard p !== initProcess, !p.exiting, !p.stopped else { return }
        // get_signal(): the terminal stop signals are discarded for an orphaned group.
        if s != 19 && groupIsOrphaned(p.processGroup) { return }
        p.stopped = true
        p.continueReport = false
        p.stopReport = 0x7F | Int32(s) << 8   // WIFSTOPPED, WSTOPSIG = s (wait(2))
        notifyParentOfJobControl(p, code: cldStopped, signal: s)
    }

    /// do_notify_parent_cldstop(): always SIGCHLD (not the exit signal), unless the parent's
    /// SIGCHLD has SA_NOCLDSTOP; its waiters are woken in any case.
    func notifyParentOfJobControl(_ p: Process, code: Int32, signal s: Int) {
        guard let parent = p.parent else { return }
        wake(parent.childEvents)
        guard parent.signalFlags[sigchld] & saNoClDStop == 0 else { return }
        parent.childSignalInfo = Siginfo(signal: Int32(sigchld), code: code,
                                         detail: .child(pid: Int32(p.pid), uid: 0, status: Int32(s), userTime: 0, systemTime: 0))
        postSignal(sigchld, to: parent)
    }

    /// Parks thread `t` while its process is stopped. Only SIGKILL is let through (it ends
    /// the stop, as in Linux where SIGKILL wakes a stopped task), and the process ending.
    func waitWhileStopped(_ t: Thread, _ p: Process) {
        let mask = t.signalMask
        t.signalMask = ~signalBit(sigkill)
        while p.stopped && !p.exiting && (t.pendingSignals | p.processPendingSignals) & signalBit(sigkill) == 0 {
            _ = wait(on: p.stopWaiters)
        }
        t.signalMask = mask
    }
}

// MARK: the console's foreground process group (drivers/tty/tty_jobctrl.c, kernel/exit.c)

extension KernelState {
    /// The console is `p`'s controlling terminal: it is in the console's session and did
    /// not give it up (TIOCNOTTY). Piped input makes the console nobody's.
    func hasConsole(_ p: Process) -> Bool {
        !consoleIsPiped && consoleSession != 0 && p.session == consoleSession && !p.droppedConsole
    }

    /// ^C, ^\, ^Z typed at the console: the signal goes to every process of the foreground
    /// group (n_tty's isig → kill_pgrp); with no foreground group it goes nowhere.
    func signalConsoleForegroundGroup(_ s: Int) {
        let group = consoleForegroundGroup
        guard group != 0 else { return }
        for p in processes.values where p.processGroup == group && p.waitStatus == nil { postSignal(s, to: p) }
    }

    /// will_become_orphaned_pgrp(): no member of `group` (other than `leaving`) has a living
    /// parent in another group of the same session. Linux skips members whose parent is the
    /// global init; egg's PID 1 is a container's init (the global one is outside), so a
    /// child of PID 1 still connects its group to the session, as under `docker run -it`.
    /// PID 1's own group is never orphaned: its parent is the egg command, started by the
    /// user's shell outside, which plays the part of the parent in another group.
    func groupIsOrphaned(_ group: Int, leaving: Process? = nil) -> Bool {
        for p in processes.values where p.processGroup == group && p !== leaving && p.waitStatus == nil {
            if p === initProcess { return false }
            guard let parent = p.parent, parent !== leaving else { continue }
            if parent.processGroup != group && parent.session == p.session { return false }
        }
        return true
    }

    /// __tty_check_change(): the current process uses the console from a background group.
    /// SIGTTIN (a read) or SIGTTOU (a write with TOSTOP, a termios change, TIOCSPGRP, a flush)
    /// goes to its whole group and the call is restarted once the group runs again (EINTR
    /// here, a restart in returnToUser, Linux's ERESTARTSYS). A signal that is blocked or
    /// ignored lets the call through (SIGTTOU) or fails it with EIO (SIGTTIN); an orphaned
    /// group gets EIO, as no shell would ever continue it.
    func checkConsoleForeground(signal s: Int) throws(Errno) {
        let me = process
        guard hasConsole(me), consoleForegroundGroup != 0, me.processGroup != consoleForegroundGroup else { return }
        let ignored = currentThread.signalMask & signalBit(s) != 0 || me.signalHandlers[s] == 1
        if ignored {
            if s == 21 { throw .EIO }
            return
        }
        if groupIsOrphaned(me.processGroup) { throw .EIO }
        // PID 1 never stops (discardedByDefault): with the default action the signal would
        // be dropped and the restarted call would ask again for ever, so it fails instead.
        if me === initProcess && me.signalHandlers[s] == 0 { throw .EIO }
        for p in processes.values where p.processGroup == me.processGroup && p.waitStatus == nil { postSignal(s, to: p) }
        throw .EINTR
    }

    /// kill_orphaned_pgrp() (kernel/exit.c): `p` is ending. A group that becomes orphaned by
    /// it — its own, or a child's in the same session — and holds a stopped process gets
    /// SIGHUP then SIGCONT (POSIX: nobody is left to continue it). A session leader that
    /// held the console also releases it (disassociate_ctty: SIGHUP and SIGCONT to the
    /// foreground group).
    func processLeaving(_ p: Process) {
        var groups: [Int] = []
        if let parent = p.parent, parent.processGroup != p.processGroup, parent.session == p.session {
            groups.append(p.processGroup)
        }
        for c in p.children where c.processGroup != p.processGroup && c.session == p.session && c.waitStatus == nil {
            if !groups.contains(c.processGroup) { groups.append(c.processGroup) }
        }
        for g in groups {
            let members = processes.values.filter { $0.processGroup == g && $0 !== p && $0.waitStatus == nil }
            guard members.contains(where: { $0.stopped }), groupIsOrphaned(g, leaving: p) else { continue }
            for m in members { postSignal(1, to: m); postSignal(sigcont, to: m) }
        }
        if p.session == p.pid && consoleSession == p.pid && p !== initProcess {
            let group = consoleForegroundGroup
            consoleSession = 0
            consoleForegroundGroup = 0
            for m in processes.values where m.processGroup == group && m !== p && m.waitStatus == nil {
                postSignal(1, to: m); postSignal(sigcont, to: m)
            }
        }
    }
}
