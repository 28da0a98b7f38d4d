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
