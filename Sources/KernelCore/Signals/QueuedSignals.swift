// QueuedSignals — the siginfo that travels with a queued signal, and taking a pending
// signal synchronously (KernelCore layer).
//
// Pending signals are bit sets (Thread.pendingSignals, Process.processPendingSignals, see
// SignalDelivery.swift). What a bit cannot hold lives here: the siginfo given to
// rt_sigqueueinfo(2)/rt_tgsigqueueinfo(2), and the extra instances of a real-time signal,
// which Linux queues one per send while a standard signal that is already pending is
// dropped (kernel/signal.c, __send_signal and legacy_queue). The bit stays set while an
// instance is queued. `dequeueSignal` is Linux's dequeue_signal(): the calling thread's
// own pending set first, then the process's, lowest number first; signalfd (SignalFD.swift)
// and rt_sigtimedwait (below) take signals through it, and delivery takes the siginfo of
// a queued instance through `takeQueuedSignalInfo`.
import LinuxABI

/// One queued instance: for the thread `tid`, or for the whole process when nil.
public struct QueuedSignal: Equatable, Sendable {
    public var signal: Int
    public var tid: Int?
    public var info: Siginfo
    public init(signal: Int, tid: Int?, info: Siginfo) {
        self.signal = signal
        self.tid = tid
        self.info = info
    }
}

/// Per-process queue of signal instances that carry their own siginfo. Pure (host-tested).
public struct SignalQueue: Sendable {
    public private(set) var entries: [QueuedSignal] = []
    /// RLIMIT_SIGPENDING stands for this on Linux (its default is the threads-max figure);
    /// beyond it rt_sigqueueinfo fails with EAGAIN.
    public static let limit = 4096
    public init() {}

    public var isFull: Bool { entries.count >= SignalQueue.limit }

    /// Whether an instance of `signal` for this target is queued.
    public func contains(signal: Int, tid: Int?) -> Bool {
        entries.contains { $0.signal == signal && $0.tid == tid }
    }

    /// Queue an instance (the caller has decided it is to be queued).
    public mutating func append(_ q: QueuedSignal) { entries.append(q) }

    /// Take the oldest instance of `signal` for the target; FIFO within one signal, as
    /// Linux's collect_signal takes the first matching entry of the pending list.
    public mutating func take(signal: Int, tid: Int?) -> QueuedSignal? {
        guard let i = entries.firstIndex(where: { $0.signal == signal && $0.tid == tid }) else { return nil }
        return entries.remove(at: i)
    }

    /// Drop what is queued for `signal` and the target (its pending bit was found clear, so
    /// those entries are stale: SIG_IGN or a stop/continue discarded the signal).
    public mutating func discard(signal: Int, tid: Int?) {
        entries.removeAll { $0.signal == signal && $0.tid == tid }
    }
}

/// First real-time signal as the kernel counts (SIGRTMIN 32; the C libraries reserve 32-34).
let firstRealtimeSignal = 32

extension KernelState {
    /// Delivery asks whether signal `s`, just taken from a pending set, has a queued
    /// instance; if so its siginfo is used, and the pending bit comes back when more
    /// instances of `s` wait (one delivery per instance).
    public func takeQueuedSignalInfo(_ s: Int, thread t: Thread, fromThread: Bool) -> Siginfo? {
        guard let p = t.process, !p.queuedSignals.entries.isEmpty else { return nil }
        let tid: Int? = fromThread ? t.tid : nil
        guard let q = p.queuedSignals.take(signal: s, tid: tid) else { return nil }
        if p.queuedSignals.contains(signal: s, tid: tid) {
            if fromThread { t.pendingSignals |= signalBit(s) } else { p.processPendingSignals |= signalBit(s) }
        }
        return q.info
    }

    /// rt_sigqueueinfo/rt_tgsigqueueinfo: post signal `info.signal` with its siginfo to `p`
    /// (or to its thread `thread`). A standard signal already pending is dropped; a
    /// real-time one queues another instance. EAGAIN when the queue is full.
    /// `fromKill`: kill/tkill's own SI_USER/SI_TKILL record, which is sent even when the
    /// queue is full (it then carries no sender, as Linux's __send_signal when it cannot
    /// allocate for a kill).
    func postQueuedSignal(_ info: Siginfo, to p: Process, thread: Thread?, fromKill: Bool = false) throws(Errno) {
        let s = Int(info.signal)
        let tid = thread?.tid
        let bit = signalBit(s)
        let wasPending = (thread.map { $0.pendingSignals } ?? p.processPendingSignals) & bit != 0
        if !wasPending { p.queuedSignals.discard(signal: s, tid: tid) }
        let merged = wasPending && s < firstRealtimeSignal   // legacy_queue: one at a time
        let full = p.queuedSignals.isFull
        if full && !fromKill && !merged { throw .EAGAIN }
        // Posted even when merged: a second SIGCONT must still continue a stopped process.
        if let thread { postThreadSignal(s, to: thread) } else { postSignal(s, to: p) }
        let nowPending = (thread.map { $0.pendingSignals } ?? p.processPendingSignals) & bit != 0
        guard nowPending, !full, !merged else { return }   // ignored, full or merged: nothing to queue
        p.queuedSignals.append(QueuedSignal(signal: s, tid: tid, info: info))
        signalGenerated()
    }

    /// Whether generating `s` (disposition `handler`) for `p` discards it. A blocked signal
    /// that is ignored (SIG_IGN, or a default action of ignore) stays pending, because the
    /// disposition may change before it is unblocked and sigwait/signalfd may take it
    /// (kernel/signal.c sig_ignored). A namespace init's default-action stop signals are
    /// still dropped: Linux drops them at dequeue (get_signal, SIGNAL_UNKILLABLE), which
    /// egg's delivery does not do.
    func signalDiscarded(_ s: Int, handler: UInt64, for p: Process?, blocked: Bool) -> Bool {
        if handler == 1 { return !blocked }
        guard handler == 0 else { return false }
        if KernelState.ignoredByDefault(s) { return !blocked }
        return discardedByDefault(s, for: p)
    }

    /// kill(2) and tkill(2) record who sent the signal (si_pid, si_uid of the real uid), so
    /// a handler, signalfd or sigwaitinfo sees the sender (kernel/signal.c prepare_kill_siginfo).
    func postSignalFromSender(_ s: Int, to p: Process, thread: Thread?) {
        let me = currentThread
        let info = Siginfo(signal: Int32(s), code: thread == nil ? 0 : -6,    // SI_USER, SI_TKILL
                           detail: .sender(pid: Int32(process.pid), uid: me.credentials.uid))
        try? postQueuedSignal(info, to: p, thread: thread, fromKill: true)
    }

    /// The signals delivery would drop for `p`: SIG_IGN, or SIG_DFL with a default action of
    /// ignore. They can be pending now (blocked when sent) and must not end a wait once a
    /// temporary mask (ppoll, sigsuspend) unblocks them.
    func ignoredSignalBits(_ p: Process?) -> UInt64 {
        let handlers = p?.signalHandlers ?? signalHandlers
        var bits: UInt64 = 0
        for s in 1...64 where handlers[s] == 1 || (handlers[s] == 0 && KernelState.ignoredByDefault(s)) {
            bits |= signalBit(s)
        }
        return bits
    }

    /// Drop pending signals that delivery would ignore, now that they are unblocked (a
    /// temporary mask of ppoll/pselect/sigsuspend): what Linux's get_signal does with them.
    func discardIgnoredSignals(_ bits: UInt64, thread t: Thread) {
        t.pendingSignals &= ~bits
        t.process?.processPendingSignals &= ~bits
    }

    /// A signal became pending somewhere: signalfd readers and pollers look again (a signal
    /// a signalfd waits for is blocked, so it interrupts no one).
    func signalGenerated() { notifyPollers() }

    /// The siginfo delivery would give signal `s` taken from a pending set: the queued
    /// instance's, a POSIX timer's, a child's, else SI_TKILL / SI_USER, as returnToUser.
    func takeSignalInfo(_ s: Int, thread t: Thread, fromThread: Bool) -> Siginfo {
        var info = Siginfo(signal: Int32(s), code: fromThread ? -6 : 0,
                           detail: .sender(pid: Int32(t.process?.pid ?? process.pid), uid: 0))
        if s == sigchld && !fromThread, let p = t.process, let child = p.childSignalInfo {
            info = child
            p.childSignalInfo = nil
        }
        if let timerInfo = takeTimerSignalInfo(s, thread: t, fromThread: fromThread) { info = timerInfo }
        if let queued = takeQueuedSignalInfo(s, thread: t, fromThread: fromThread) { info = queued }
        return info
    }

    /// dequeue_signal(): take the lowest pending signal of `mask` for thread `t` (its own
    /// set first, then its process's) with its siginfo; nil when none is pending.
    func dequeueSignal(_ t: Thread, mask: UInt64) -> Siginfo? {
        let own = t.pendingSignals & mask
        if own != 0 {
            let s = own.trailingZeroBitCount + 1
            t.pendingSignals &= ~signalBit(s)
            return takeSignalInfo(s, thread: t, fromThread: true)
        }
        guard let p = t.process else { return nil }
        let shared = p.processPendingSignals & mask
        guard shared != 0 else { return nil }
        let s = shared.trailingZeroBitCount + 1
        p.processPendingSignals &= ~signalBit(s)
        return takeSignalInfo(s, thread: t, fromThread: false)
    }

    /// Signals of `mask` pending for `t` (its own and its process's).
    func pendingSignals(of t: Thread, mask: UInt64) -> UInt64 {
        (t.pendingSignals | (t.process?.processPendingSignals ?? 0)) & mask
    }
}

extension SignalSyscalls {
    /// rt_sigtimedwait(set, info, timeout, sigsetsize): kernel/signal.c do_sigtimedwait —
    /// the set is unblocked while the caller sleeps (so a signal of it wakes the thread),
    /// then a signal of the set is dequeued; EAGAIN when the timeout passes first, EINTR
    /// when another, handled signal arrives. SIGKILL and SIGSTOP are never waited for.
    static func rtSigtimedwait(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[3] == 8 else { throw .EINVAL }
        guard case .success(let requested) = k.memory.readUInt64(a.address(0)) else { throw .EFAULT }
        let set = requested & ~unblockable
        var deadline = Deadline.never
        if !a.address(2).isNull {
            let ns = try TimeSyscalls.readTimespec(k, a.address(2)).get()
            deadline = .after(ns, now: k.platform.monotonicNanoseconds())
        }
        let t = k.currentThread
        var info = k.dequeueSignal(t, mask: set)
        if info == nil {
            let blocked = t.signalMask
            t.signalMask = blocked & ~set
            t.realBlockedSignals = blocked
            let queue = WaitQueue()
            var interrupted = false
            while k.pendingSignals(of: t, mask: set) == 0 {
                if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) { break }
                if !k.wait(on: queue, deadline: deadline.monotonic) {
                    if k.pendingSignals(of: t, mask: set) == 0 { interrupted = true }
                    break
                }
            }
            t.signalMask = blocked
            t.realBlockedSignals = 0
            info = k.dequeueSignal(t, mask: set)
            if info == nil { throw interrupted ? .EINTR : .EAGAIN }
        }
        guard let info else { throw .EAGAIN }
        if !a.address(1).isNull {
            var w = ByteWriter()
            info.encode(into: &w)
            if let e = k.memory.copyOut(a.address(1), from: w.bytes) { throw e }
        }
        return Int(info.signal)
    }

    /// The siginfo given to rt_sigqueueinfo/rt_tgsigqueueinfo, with si_signo forced to the
    /// signal (kernel/signal.c copy_siginfo_from_user and do_rt_sigqueueinfo). The sigqueue
    /// layout (_rt: pid, uid, sigval) is kept; other layouts keep their first 16 bytes.
    static func queuedInfo(_ bytes: [UInt8], signal: Int) -> Siginfo {
        let r = ByteReader(bytes)
        return Siginfo(signal: Int32(signal), code: Int32(bitPattern: r.u32(8)), errno: Int32(bitPattern: r.u32(4)),
                       detail: .queued(pid: Int32(bitPattern: r.u32(16)), uid: r.u32(20), value: r.u64(24)))
    }

    /// Linux refuses a siginfo that pretends to come from the kernel (si_code >= 0) or from
    /// tkill (SI_TKILL) when it is sent to another process: do_rt_sigqueueinfo's EPERM.
    static func checkQueuedCode(_ k: KernelState, _ info: Siginfo, target pid: Int) throws(Errno) {
        if (info.code >= 0 || info.code == -6) && k.process.pid != pid { throw .EPERM }
    }

    /// rt_sigqueueinfo(tgid, sig, info).
    static func rtSigqueueinfo(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0), s = a.int(1)
        guard s >= 0 && s <= 64 else { throw .EINVAL }
        let bytes = try k.memory.copyIn(a.address(2), count: Siginfo.byteSize).get()
        let info = queuedInfo(bytes, signal: s)
        guard pid > 0, let p = k.processes[Int(pid)], !p.exiting else { throw .ESRCH }
        try checkQueuedCode(k, info, target: Int(pid))
        if s != 0 { try k.postQueuedSignal(info, to: p, thread: nil) }
        return 0
    }

    /// rt_tgsigqueueinfo(tgid, tid, sig, info).
    static func rtTgsigqueueinfo(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0), tid = a.int32(1), s = a.int(2)
        guard pid > 0, tid > 0, s >= 0 && s <= 64 else { throw .EINVAL }
        let bytes = try k.memory.copyIn(a.address(3), count: Siginfo.byteSize).get()
        let info = queuedInfo(bytes, signal: s)
        guard let t = k.scheduler.thread(withID: Int(tid)), let p = t.process, p.pid == Int(pid), !p.exiting else {
            throw .ESRCH
        }
        try checkQueuedCode(k, info, target: Int(pid))
        if s != 0 { try k.postQueuedSignal(info, to: p, thread: t) }
        return 0
    }
}
