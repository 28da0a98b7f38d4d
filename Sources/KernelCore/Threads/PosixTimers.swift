// PosixTimers — timer_create(2), timer_settime(2), timer_gettime(2), timer_getoverrun(2),
// timer_delete(2), the CPU-time clocks and their clockid encodings (KernelCore layer).
//
// A timer runs on a monotonic-based clock (REALTIME and its alarm/TAI variants are converted
// to the monotonic clock when armed, and absolute REALTIME timers move when clock_settime
// moves the clock, as Linux's timerfd/hrtimer "clock was set" does), or on a CPU-time clock
// (the process's or one thread's). Expiry is checked in IntervalTimers.swift (fireDueTimers /
// fireCPUTimers) and ends in `timerExpired`: a signal with si_code SI_TIMER carrying the
// timer id, sigev_value and the overrun count. As on Linux a timer has at most one signal
// queued: expiries while it is pending only count as overruns (kernel/time/posix-timers.c
// posix_timer_fn / posixtimer_send_sigqueue); timer_getoverrun reports the overrun of the
// last delivered signal, capped at DELAYTIMER_MAX (INT_MAX).
import LinuxABI

/// Which clock a timer or a clock read uses.
public enum TimerClock: Equatable {
    /// CLOCK_REALTIME-like (settable; absolute times move with it), kept as monotonic.
    case realtime
    /// CLOCK_MONOTONIC and BOOTTIME (egg never suspends, so they are equal).
    case monotonic
    case processCPU
    case threadCPU(tid: Int)

    var isMonotonicBased: Bool {
        switch self {
        case .realtime, .monotonic: return true
        default: return false
        }
    }
}

public final class PosixTimer {
    public enum Notification: Equatable {
        case none
        case signal(Int, value: UInt64)
        case threadSignal(Int, value: UInt64, tid: Int)
    }
    public let id: Int
    public let clock: TimerClock
    public let notification: Notification
    public var schedule = TimerSchedule()
    /// An absolute REALTIME expiry (moves when the clock is set).
    public var realtimeAbsolute = false
    /// A signal for this timer is queued and not yet delivered.
    public var signalQueued = false
    /// Expiries since the queued signal was posted, beyond the first.
    public var pendingOverrun: UInt64 = 0
    /// The overrun of the last delivered signal (timer_getoverrun).
    public var overrun: UInt64 = 0

    init(id: Int, clock: TimerClock, notification: Notification) {
        self.id = id
        self.clock = clock
        self.notification = notification
    }

    /// Count `n` expiries: returns true when a new signal must be posted (none is queued).
    public func record(expiries n: UInt64) -> Bool {
        if case .none = notification { return false }
        if signalQueued {
            pendingOverrun = pendingOverrun.addingReportingOverflow(n).overflow ? UInt64.max : pendingOverrun + n
            return false
        }
        signalQueued = true
        pendingOverrun = n - 1
        return true
    }

    /// The signal is being delivered: its overrun becomes the reported one.
    public func delivered() -> Int32 {
        overrun = pendingOverrun
        pendingOverrun = 0
        signalQueued = false
        return PosixTimer.clampOverrun(overrun)
    }

    /// DELAYTIMER_MAX is INT_MAX on Linux (include/linux/posix-timers.h).
    public static func clampOverrun(_ v: UInt64) -> Int32 { v > UInt64(Int32.max) ? Int32.max : Int32(v) }
}

extension KernelState {
    /// The clock named by `clock` for timers and CPU-time reads, or nil if it is not one.
    /// Negative ids are the CPU-clock encodings of clock_getcpuclockid(3) and
    /// pthread_getcpuclockid(3): (~pid << 3) | type, bit 2 = per-thread, type 0 PROF,
    /// 1 VIRT, 2 SCHED (include/linux/posix-timers_types.h CPUCLOCK_*); pid 0 is the caller.
    func timerClock(_ clock: Int32) -> Result<TimerClock, Errno> {
        switch clock {
        case 0, 8, 11: return .success(.realtime)
        case 1, 7, 9: return .success(.monotonic)
        case 2: return .success(.processCPU)
        case 3: return .success(.threadCPU(tid: currentThread.tid))
        case 4, 5, 6: return .failure(.EOPNOTSUPP)  // MONOTONIC_RAW, the COARSE clocks: no timers
        default:
            guard clock < 0, clock & 3 != 3 else { return .failure(.EINVAL) }
            let id = Int(~(clock >> 3))
            if clock & 4 != 0 {
                let tid = id == 0 ? currentThread.tid : id
                guard scheduler.thread(withID: tid) != nil else { return .failure(.EINVAL) }
                return .success(.threadCPU(tid: tid))
            }
            guard id == 0 || id == process.pid else { return .failure(.EINVAL) }
            return .success(.processCPU)
        }
    }

    /// CPU-clock time now (user+system; VIRT encodings read user time), nil for a thread
    /// that has gone.
    func cpuClockNow(_ clock: TimerClock, userOnly: Bool = false) -> UInt64? {
        switch clock {
        case .processCPU:
            let c = processCPUTime()
            return userOnly ? c.user : c.total
        case .threadCPU(let tid):
            guard let t = scheduler.thread(withID: tid) else { return nil }
            let c = threadCPUTime(t)
            return userOnly ? c.user : c.total
        default:
            return nil
        }
    }

    /// The timer's clock now, in the units its schedule uses (monotonic ns or CPU ns).
    func scheduleClockNow(_ clock: TimerClock) -> UInt64? {
        clock.isMonotonicBased ? platform.monotonicNanoseconds() : cpuClockNow(clock)
    }

    /// `n` expiries of `t` happened: queue its signal (or count an overrun).
    func timerExpired(_ t: PosixTimer, count n: UInt64) {
        // A queued signal that left the pending sets without passing through delivery
        // (ignored meanwhile, taken by sigwaitinfo) no longer holds the timer back.
        if t.signalQueued && !timerSignalPending(t) {
            process.ownTimers.queuedSignals.removeAll { $0.timerID == t.id }
            t.signalQueued = false
        }
        guard t.record(expiries: n) else { return }
        var signal = 0
        switch t.notification {
        case .signal(let s, _), .threadSignal(let s, _, _): signal = s
        case .none: break
        }
        if signal > 0 && (signalHandlers[signal] == 1 || (signalHandlers[signal] == 0 && KernelState.ignoredByDefault(signal))) {
            t.signalQueued = false  // an ignored signal is discarded at once (sig_ignored())
            return
        }
        switch t.notification {
        case .none:
            return
        case .signal(let s, _):
            process.ownTimers.queuedSignals.append(QueuedTimerSignal(signal: s, timerID: t.id, thread: nil))
            postProcessSignal(s)
        case .threadSignal(let s, _, let tid):
            guard let thread = scheduler.thread(withID: tid) else { t.signalQueued = false; return }
            process.ownTimers.queuedSignals.append(QueuedTimerSignal(signal: s, timerID: t.id, thread: tid))
            postThreadSignal(s, to: thread)
        }
    }

    func timerSignalPending(_ t: PosixTimer) -> Bool {
        switch t.notification {
        case .none: return false
        case .signal(let s, _): return processPendingSignals & signalBit(s) != 0
        case .threadSignal(let s, _, let tid):
            guard let thread = scheduler.thread(withID: tid) else { return false }
            return thread.pendingSignals & signalBit(s) != 0
        }
    }

    /// Signal delivery asks: is signal `s`, taken from the thread's (`fromThread`) or the
    /// process's pending set, a timer's? Then its siginfo is SI_TIMER with the timer's id,
    /// overrun and sigev_value (include/uapi/asm-generic/siginfo.h _timer).
    public func takeTimerSignalInfo(_ s: Int, thread: Thread, fromThread: Bool) -> Siginfo? {
        let timers = (thread.process ?? process).ownTimers
        guard !timers.queuedSignals.isEmpty else { return nil }
        guard let i = timers.queuedSignals.firstIndex(where: {
            $0.signal == s && (fromThread ? $0.thread == thread.tid : $0.thread == nil)
        }) else { return nil }
        let q = timers.queuedSignals.remove(at: i)
        guard let t = timers.posix.first(where: { $0.id == q.timerID }) else { return nil }
        let overrun = t.delivered()
        var value: UInt64 = 0
        switch t.notification {
        case .signal(_, let v), .threadSignal(_, let v, _): value = v
        case .none: break
        }
        return Siginfo(signal: Int32(s), code: -2,  // SI_TIMER
                       detail: .timer(id: Int32(t.id), overrun: overrun, value: value))
    }

    /// clock_settime moved CLOCK_REALTIME by `delta`: absolute REALTIME timers keep their
    /// wall-clock expiry, so their monotonic expiry moves the other way.
    func realtimeClockWasSet(delta: Int64) {
        for t in processes.values.flatMap({ $0.ownTimers.posix }) where t.realtimeAbsolute {
            guard let e = t.schedule.expiry else { continue }
            let moved = Int64(clamping: e) &- delta
            t.schedule.expiry = UInt64(max(0, moved))
        }
    }
}

enum PosixTimerSyscalls {
    static let sigevSignal: Int32 = 0, sigevNone: Int32 = 1, sigevThread: Int32 = 2, sigevThreadID: Int32 = 4

    static func timer(_ k: KernelState, _ id: Int32) -> Result<PosixTimer, Errno> {
        guard let t = k.process.ownTimers.posix.first(where: { $0.id == Int(id) }) else { return .failure(.EINVAL) }
        return .success(t)
    }

    /// timer_create(clockid, struct sigevent *, timer_t *): struct sigevent is sigev_value
    /// (8 bytes), sigev_signo, sigev_notify, then sigev_notify_thread_id (include/uapi/
    /// asm-generic/siginfo.h). NULL means SIGEV_SIGNAL, SIGALRM, value = the timer id.
    /// good_sigevent() rules: a signal in 1...64, a thread of this process for THREAD_ID.
    static func timerCreate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let clock = try k.timerClock(a.int32(0)).get()
        let id = (k.process.ownTimers.posix.map { $0.id }.max() ?? -1) + 1
        var notification = PosixTimer.Notification.signal(14, value: UInt64(id))
        if !a.address(1).isNull {
            let r = ByteReader(try k.memory.copyIn(a.address(1), count: 24).get())
            let value = r.u64(0), signo = Int(Int32(bitPattern: r.u32(8))), notify = Int32(bitPattern: r.u32(12)), tid = Int(Int32(bitPattern: r.u32(16)))
            switch notify {
            case sigevNone:
                notification = .none
            case sigevSignal, sigevThread:
                guard signo >= 1 && signo <= 64 else { throw .EINVAL }
                notification = .signal(signo, value: value)
            case sigevSignal | sigevThreadID:
                guard signo >= 1 && signo <= 64, k.scheduler.thread(withID: tid) != nil else { throw .EINVAL }
                notification = .threadSignal(signo, value: value, tid: tid)
            default:
                throw .EINVAL
            }
        }
        if let e = k.memory.writeUInt32(a.address(2), UInt32(id)) { throw e }
        k.process.ownTimers.posix.append(PosixTimer(id: id, clock: clock, notification: notification))
        return 0
    }

    /// struct itimerspec { it_interval, it_value } for the timer's current setting. An armed
    /// timer that is due reads as 1 ns left unless it is SIGEV_NONE (common_timer_get).
    static func currentSetting(_ k: KernelState, _ t: PosixTimer) -> [UInt8] {
        let now = k.scheduleClockNow(t.clock) ?? 0
        if case .none = t.notification {
            // SIGEV_NONE timers are never fired; reading one forwards it (common_timer_get).
            let n = t.schedule.expire(now: now)
            t.overrun = t.overrun.addingReportingOverflow(n).overflow ? UInt64.max : t.overrun + n
            if n > 0 && !t.schedule.isArmed { return GuestTime.timespec(0) + GuestTime.timespec(0) }
        }
        let left = t.schedule.remaining(now: now, dueFloor: 1)
        return GuestTime.timespec(Int64(clamping: t.schedule.interval)) + GuestTime.timespec(Int64(clamping: left))
    }

    /// timer_settime(id, flags, new, old): TIMER_ABSTIME 1; both timespecs valid
    /// (timespec64_valid) else EINVAL; a zero it_value disarms.
    static func timerSettime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try timer(k, a.int32(0)).get()
        let b = try k.memory.copyIn(a.address(2), count: 32).get()
        let interval = try GuestTime.nanoseconds(timespec: Array(b[0..<16])).get()
        let value = try GuestTime.nanoseconds(timespec: Array(b[16..<32])).get()
        if !a.address(3).isNull, let e = k.memory.copyOut(a.address(3), from: currentSetting(k, t)) { throw e }
        let absolute = a[1] & 1 != 0
        t.schedule = TimerSchedule()
        t.realtimeAbsolute = false
        t.pendingOverrun = 0
        t.overrun = 0
        guard value != 0 else { return 0 }
        t.schedule.interval = UInt64(interval)
        let expiry: UInt64?
        switch t.clock {
        case .realtime, .monotonic:
            let now = k.platform.monotonicNanoseconds()
            if absolute {
                let clockNow = t.clock == .realtime ? k.realtimeNow() : Int64(now)
                expiry = Deadline.at(value, clockNow: clockNow, now: now).monotonic
                t.realtimeAbsolute = t.clock == .realtime
            } else {
                expiry = Deadline.after(value, now: now).monotonic
            }
        case .processCPU, .threadCPU:
            guard let now = k.cpuClockNow(t.clock) else { throw .EINVAL }
            if absolute {
                expiry = UInt64(value)
            } else {
                let (sum, o) = now.addingReportingOverflow(UInt64(value))
                expiry = o ? nil : sum
            }
        }
        t.schedule.expiry = expiry
        if expiry == nil { t.schedule = TimerSchedule() }  // beyond the end of time
        // Due at once (an absolute time in the past): fire now rather than at the next tick.
        if t.clock.isMonotonicBased { k.fireDueTimers() } else { k.fireCPUTimers() }
        return 0
    }

    static func timerGettime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try timer(k, a.int32(0)).get()
        if let e = k.memory.copyOut(a.address(1), from: currentSetting(k, t)) { throw e }
        return 0
    }

    static func timerGetoverrun(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try timer(k, a.int32(0)).get()
        return Int(PosixTimer.clampOverrun(t.overrun))
    }

    /// timer_delete: the timer and its queued (undelivered) signal go.
    static func timerDelete(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try timer(k, a.int32(0)).get()
        k.process.ownTimers.posix.removeAll { $0 === t }
        k.process.ownTimers.queuedSignals.removeAll { $0.timerID == t.id }
        return 0
    }
}
