// IntervalTimers — per-thread CPU-time accounting, the three interval timers of
// setitimer(2)/getitimer(2)/alarm(2), and the process's timer bookkeeping that POSIX timers
// (PosixTimers.swift) and timerfds (Events/EventFD.swift) share (KernelCore layer).
//
// CPU time: Thread.userNanoseconds / systemNanoseconds are charged at every entry from and
// exit to user mode (Sources/Kernel/Traps.swift calls accountKernelEntry/Exit) and when a
// thread leaves or takes a CPU (Scheduler.reschedule / idleLoop call stopRunning /
// startRunning), so time spent blocked counts for nobody. getrusage and /proc read the same
// two counters.
//
// Expiry: timers on the monotonic-based clocks (ITIMER_REAL, POSIX timers on REALTIME /
// MONOTONIC / BOOTTIME, armed timerfds) are checked by `fireDueTimers`, which the scheduler
// runs with its sleep time-outs (on every tick and whenever a CPU looks for work);
// `earliestTimerDeadline` tells an idle CPU when to wake. Timers on CPU-time clocks
// (ITIMER_VIRTUAL, ITIMER_PROF, POSIX timers on CPU clocks) are checked when CPU time is
// charged, at kernel entry, as Linux checks them from the tick (kernel/time/posix-cpu-timers.c
// run_posix_cpu_timers). References: setitimer(2), alarm(2), kernel/time/itimer.c.
import LinuxABI

/// A countdown on some clock: the next expiry and the period. Times are on the timer's own
/// clock (monotonic ns, or CPU ns for CPU-time timers).
public struct TimerSchedule: Equatable, Sendable {
    /// The next expiry; nil when disarmed.
    public var expiry: UInt64?
    /// 0 = one-shot.
    public var interval: UInt64

    public init(expiry: UInt64? = nil, interval: UInt64 = 0) {
        self.expiry = expiry
        self.interval = interval
    }

    public var isArmed: Bool { expiry != nil }

    /// The number of expiries that passed by `now` (0 if none), moving `expiry` past `now`
    /// for a periodic timer (hrtimer_forward's arithmetic) or disarming a one-shot one.
    /// Saturating: an expiry pushed beyond UInt64 disarms, a count beyond UInt64 saturates.
    public mutating func expire(now: UInt64) -> UInt64 {
        guard let e = expiry, now >= e else { return 0 }
        if interval == 0 {
            expiry = nil
            return 1
        }
        let n = (now - e) / interval + 1
        let (step, o1) = n.multipliedReportingOverflow(by: interval)
        let (next, o2) = e.addingReportingOverflow(step)
        expiry = o1 || o2 ? nil : next
        return n
    }

    /// Time left at `now`: 0 when disarmed; an armed timer that is due but not yet processed
    /// reports `dueFloor` (Linux reports a tiny positive value so "armed" stays visible).
    public func remaining(now: UInt64, dueFloor: UInt64) -> UInt64 {
        guard let e = expiry else { return 0 }
        return e > now ? e - now : dueFloor
    }
}

/// One pending timer signal (POSIX timers): which timer, for delivery with SI_TIMER.
public struct QueuedTimerSignal: Equatable {
    public let signal: Int
    public let timerID: Int
    /// nil: to the process; else the thread id (SIGEV_THREAD_ID).
    public let thread: Int?
}

/// Timer state. Each Process owns one for its interval and POSIX timers (Process.ownTimers);
/// the machine's (KernelState.timers) keeps the armed timerfds, the realtime clock offset
/// set by clock_settime and the timezone.
public final class ProcessTimers {
    /// ITIMER_REAL on the monotonic clock; ITIMER_VIRTUAL on process user CPU time;
    /// ITIMER_PROF on process user+system CPU time.
    public var real = TimerSchedule()
    public var virtual = TimerSchedule()
    public var profiling = TimerSchedule()
    /// POSIX timers by id (timer_create(2)); ids are allocated from 0 upward as on Linux.
    public var posix: [PosixTimer] = []
    /// Timer signals posted and not yet delivered (their siginfo is built at delivery).
    public var queuedSignals: [QueuedTimerSignal] = []
    /// Armed timerfds: their expiry must wake poll/select/epoll waiters.
    var armedTimerFDs: [Timer] = []
    /// clock_settime / settimeofday: added to the platform's realtime clock.
    public var realtimeOffset: Int64 = 0
    /// settimeofday's struct timezone (minutes west, dst type), returned by gettimeofday.
    public var timezone: (minutesWest: Int32, dstTime: Int32) = (0, 0)

    public init() {}

    /// Whether ITIMER_REAL or a POSIX timer on a monotonic-based clock is armed.
    public var hasMonotonicTimer: Bool {
        real.isArmed || posix.contains { $0.clock.isMonotonicBased && $0.schedule.isArmed }
    }

    /// The earliest monotonic expiry of anything here (nil: none), for an idle CPU's wake-up.
    public func earliestDeadline() -> UInt64? {
        var best = real.expiry
        func consider(_ e: UInt64?) {
            guard let e else { return }
            best = min(best ?? e, e)
        }
        for t in posix where t.clock.isMonotonicBased { consider(t.schedule.expiry) }
        for t in armedTimerFDs where t.deadline != 0 && t.deadline != Timer.never { consider(t.deadline) }
        return best
    }
}

extension KernelState {
    /// CLOCK_REALTIME now: the platform's clock plus what clock_settime changed.
    public func realtimeNow() -> Int64 {
        platform.realtimeNanoseconds() &+ timers.realtimeOffset
    }

    // MARK: CPU accounting

    /// Entry from user mode: charge the time since the last mark as user time, then check
    /// the CPU-time timers (a user-mode loop is interrupted by the tick, so they are seen).
    public func accountKernelEntry() {
        let t = currentThread
        let now = platform.monotonicNanoseconds()
        if t.accountingMark != 0 && now > t.accountingMark { t.userNanoseconds &+= now - t.accountingMark }
        t.accountingMark = now
        fireCPUTimers()
    }

    /// Exit to user mode: charge the time since the last mark as system time.
    public func accountKernelExit() {
        chargeSystemTime(currentThread)
    }

    func chargeSystemTime(_ t: Thread) {
        let now = platform.monotonicNanoseconds()
        if t.accountingMark != 0 && now > t.accountingMark { t.systemNanoseconds &+= now - t.accountingMark }
        t.accountingMark = now
    }

    /// The scheduler takes `t` off its CPU (it blocks, yields or exits): its time so far is
    /// system time; nothing is charged until it runs again.
    public func stopRunning(_ t: Thread) {
        chargeSystemTime(t)
        t.accountingMark = 0
    }

    /// `t` gets a CPU (it resumes in the kernel, or a new thread starts toward user mode).
    public func startRunning(_ t: Thread) {
        t.accountingMark = platform.monotonicNanoseconds()
    }

    /// A thread's CPU time (user, user+system) including the part running now.
    public func threadCPUTime(_ t: Thread) -> (user: UInt64, total: UInt64) {
        var system = t.systemNanoseconds
        if t.accountingMark != 0 && t === currentThread {
            let now = platform.monotonicNanoseconds()
            if now > t.accountingMark { system &+= now - t.accountingMark }
        }
        return (t.userNanoseconds, t.userNanoseconds &+ system)
    }

    /// The process's CPU time (user, user+system): live threads and exited ones.
    public func processCPUTime() -> (user: UInt64, total: UInt64) {
        var user = process.exitedUserNanoseconds
        var total = user &+ process.exitedSystemNanoseconds
        for t in process.threads {
            let c = threadCPUTime(t)
            user &+= c.user
            total &+= c.total
        }
        return (user, total)
    }

    /// A thread is exiting: its CPU time stays in the process's total.
    public func retireThreadCPUTime(_ t: Thread) {
        chargeSystemTime(t)
        let p = t.process ?? process
        p.exitedUserNanoseconds &+= t.userNanoseconds
        p.exitedSystemNanoseconds &+= t.systemNanoseconds
    }

    // MARK: expiry

    /// Expire the monotonic-clock timers due at `now`: SIGALRM for ITIMER_REAL, POSIX timer
    /// signals, and a poll wake-up for each timerfd that expired. Run by the scheduler with
    /// its sleep time-outs.
    public func fireDueTimers() {
        let now = platform.monotonicNanoseconds()
        // Each process's own timers, expired in its context (processOverride), whatever
        // thread the CPU happens to run.
        for p in processes.values where !p.exiting && p.ownTimers.hasMonotonicTimer {
            guard let due = p.ownTimers.earliestDeadline(), due <= now else { continue }
            let saved = processOverride
            processOverride = p
            fireDueTimersInContext(now)
            processOverride = saved
        }
        fireTimerFDs()
    }

    func fireDueTimersInContext(_ now: UInt64) {
        let own = process.ownTimers
        if own.real.expire(now: now) > 0 { postProcessSignal(14) }  // SIGALRM
        for t in own.posix where t.clock.isMonotonicBased {
            let n = t.schedule.expire(now: now)
            if n > 0 { timerExpired(t, count: n) }
        }
    }

    func fireTimerFDs() {
        let now = platform.monotonicNanoseconds()
        if !timers.armedTimerFDs.isEmpty {
            var woke = false
            for t in timers.armedTimerFDs {
                let before = t.expirations
                t.update(now)
                if t.expirations != before { woke = true }
            }
            timers.armedTimerFDs.removeAll { $0.deadline == 0 || $0.deadline == Timer.never }
            if woke { notifyPollers() }
        }
    }

    /// The earliest monotonic time any timer or sleeping thread wants the CPU back.
    public func earliestTimerDeadline() -> UInt64? {
        var best = timers.earliestDeadline()   // timerfds
        for p in processes.values where !p.exiting && p.ownTimers.hasMonotonicTimer {
            if let e = p.ownTimers.earliestDeadline() { best = min(best ?? e, e) }
        }
        return best
    }

    /// Expire the CPU-time timers (ITIMER_VIRTUAL → SIGVTALRM, ITIMER_PROF → SIGPROF, POSIX
    /// timers on CPU clocks).
    func fireCPUTimers() {
        let own = process.ownTimers      // the running process's CPU-time timers
        let anyPosixCPU = own.posix.contains { !$0.clock.isMonotonicBased }
        guard own.virtual.isArmed || own.profiling.isArmed || anyPosixCPU else { return }
        let process = processCPUTime()
        if own.virtual.expire(now: process.user) > 0 { postProcessSignal(26) }     // SIGVTALRM
        if own.profiling.expire(now: process.total) > 0 { postProcessSignal(27) }  // SIGPROF
        for t in own.posix where !t.clock.isMonotonicBased {
            guard let now = cpuClockNow(t.clock) else { continue }
            let n = t.schedule.expire(now: now)
            if n > 0 { timerExpired(t, count: n) }
        }
    }

    /// Register an armed timerfd so its expiry wakes pollers.
    func timerFDArmed(_ t: Timer) {
        if !timers.armedTimerFDs.contains(where: { $0 === t }) { timers.armedTimerFDs.append(t) }
    }

    func timerFDClosed(_ t: Timer) {
        timers.armedTimerFDs.removeAll { $0 === t }
    }
}

/// setitimer(2), getitimer(2), alarm(2).
enum IntervalTimerSyscalls {
    /// struct itimerval { struct timeval it_interval, it_value; } (32 bytes).
    static func encode(_ s: TimerSchedule, now: UInt64) -> [UInt8] {
        // Linux: an armed timer already due reads as 1 µs left (kernel/time/itimer.c
        // itimer_get_remtime: "if (rem <= 0) rem = NSEC_PER_USEC"), never as disarmed.
        let left = s.remaining(now: now, dueFloor: 1000)
        // A remaining fraction of a microsecond rounds up so an armed timer never reads 0.
        let value = left == 0 ? 0 : max(1000, ((left + 999) / 1000) * 1000)
        return GuestTime.timeval(Int64(clamping: s.interval)) + GuestTime.timeval(Int64(clamping: value))
    }

    static func schedule(_ k: KernelState, which: Int32) -> (TimerSchedule, UInt64)? {
        switch which {
        case 0: return (k.process.ownTimers.real, k.platform.monotonicNanoseconds())
        case 1: return (k.process.ownTimers.virtual, k.processCPUTime().user)
        case 2: return (k.process.ownTimers.profiling, k.processCPUTime().total)
        default: return nil
        }
    }

    static func getitimer(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard let (s, now) = schedule(k, which: a.int32(0)) else { throw .EINVAL }
        if let e = k.memory.copyOut(a.address(1), from: encode(s, now: now)) { throw e }
        return 0
    }

    /// A struct timeval as nanoseconds: EINVAL for tv_usec outside [0, 999999] (setitimer(2),
    /// "since Linux 2.6.22"); a negative tv_sec is a time already past.
    static func timevalNanoseconds(_ r: ByteReader, at offset: Int) -> Result<Int64, Errno> {
        let seconds = r.i64(offset), micro = r.i64(offset + 8)
        guard micro >= 0 && micro < 1_000_000 else { return .failure(.EINVAL) }
        if seconds < 0 { return .success(-1) }
        return .success(GuestTime.saturatingNanoseconds(seconds: seconds, nanoseconds: micro * 1000))
    }

    /// Arm (or with a zero it_value disarm) interval timer `which` and return the old setting.
    static func set(_ k: KernelState, which: Int32, interval: Int64, value: Int64) -> [UInt8] {
        guard let (old, now) = schedule(k, which: which) else { return [] }
        let before = encode(old, now: now)
        var s = TimerSchedule()
        if value != 0 {
            s.interval = UInt64(max(0, interval))
            s.expiry = Deadline.after(value, now: now).monotonic
            if s.expiry == nil { s = TimerSchedule() }  // beyond the end of time: never fires
            if value < 0 { s.expiry = now }
        }
        switch which {
        case 0: k.process.ownTimers.real = s
        case 1: k.process.ownTimers.virtual = s
        default: k.process.ownTimers.profiling = s
        }
        return before
    }

    /// setitimer(which, new, old): a NULL new value is treated as zero (disarm), as Linux
    /// does with a warning (kernel/time/itimer.c).
    static func setitimer(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let which = a.int32(0)
        guard which >= 0 && which <= 2 else { throw .EINVAL }
        var interval: Int64 = 0, value: Int64 = 0
        if !a.address(1).isNull {
            let r = ByteReader(try k.memory.copyIn(a.address(1), count: 32).get())
            interval = try timevalNanoseconds(r, at: 0).get()
            value = try timevalNanoseconds(r, at: 16).get()
        }
        if !a.address(2).isNull {
            // Check the old-value pointer before changing anything.
            let (old, now) = schedule(k, which: which)!
            if let e = k.memory.copyOut(a.address(2), from: encode(old, now: now)) { throw e }
        }
        _ = set(k, which: which, interval: max(0, interval), value: value)
        return 0
    }

    /// alarm(seconds): ITIMER_REAL one-shot; returns the seconds left on the previous alarm,
    /// rounded to nearest and at least 1 while armed (kernel/time/itimer.c alarm_setitimer).
    static func alarm(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let seconds = Int64(a.uint32(0))
        let now = k.platform.monotonicNanoseconds()
        let left = k.process.ownTimers.real.remaining(now: now, dueFloor: 1000)
        _ = set(k, which: 0, interval: 0, value: seconds * 1_000_000_000)
        if left == 0 { return 0 }
        let whole = Int(left / 1_000_000_000), micro = (left % 1_000_000_000) / 1000
        return max(1, whole + (micro >= 500_000 ? 1 : 0))
    }
}
