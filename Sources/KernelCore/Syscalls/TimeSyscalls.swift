// TimeSyscalls — clock_gettime, gettimeofday, time, nanosleep, clock_nanosleep (KernelCore layer).
//
// CLOCK_REALTIME comes from the RTC at boot plus the TSC; CLOCK_MONOTONIC and its
// relatives from the TSC alone (clock_gettime(2); clock ids in include/uapi/linux/time.h).
// Sleeps block the thread (Threads/Scheduler.swift) so others run meanwhile; guest time
// values become deadlines only through Threads/Deadline.swift (validated, saturating).
import LinuxABI

enum TimeSyscalls {
    static func nanoseconds(clock: Int32, _ k: KernelState) -> Result<Int64, Errno> {
        switch clock {
        case 0, 8, 11: return .success(k.realtimeNow())  // REALTIME, _ALARM, TAI
        case 1, 4, 6, 7, 9: return .success(Int64(k.platform.monotonicNanoseconds()))  // MONOTONIC, _RAW, _COARSE, BOOTTIME, _ALARM
        case 5: return .success(k.realtimeNow())  // REALTIME_COARSE
        default:
            // PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID and the pid/tid encodings of
            // clock_getcpuclockid(3): user+system time, user only for the VIRT encoding.
            switch k.timerClock(clock) {
            case .failure: return .failure(.EINVAL)
            case .success(let c):
                let userOnly = clock < 0 && clock & 3 == 1
                guard let ns = k.cpuClockNow(c, userOnly: userOnly) else { return .failure(.EINVAL) }
                return .success(Int64(clamping: ns))
            }
        }
    }

    static func timespec(_ ns: Int64) -> [UInt8] { GuestTime.timespec(ns) }

    static func clockGettime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let ns = try nanoseconds(clock: a.int32(0), k).get()
        if let e = k.memory.copyOut(a.address(1), from: timespec(ns)) { throw e }
        return 0
    }

    static func clockGetres(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard case .success = nanoseconds(clock: a.int32(0), k) else { throw .EINVAL }
        if !a.address(1).isNull, let e = k.memory.copyOut(a.address(1), from: timespec(1)) { throw e }
        return 0
    }

    static func gettimeofday(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let ns = k.realtimeNow()
        if !a.address(0).isNull {
            if let e = k.memory.copyOut(a.address(0), from: GuestTime.timeval(ns)) { throw e }
        }
        if !a.address(1).isNull {
            // struct timezone: what settimeofday last set (UTC, no DST at boot).
            var w = ByteWriter()
            w.i32(k.timers.timezone.minutesWest)
            w.i32(k.timers.timezone.dstTime)
            if let e = k.memory.copyOut(a.address(1), from: w.bytes) { throw e }
        }
        return 0
    }

    static func time(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let seconds = k.realtimeNow() / 1_000_000_000
        if !a.address(0).isNull, let e = k.memory.writeUInt64(a.address(0), UInt64(bitPattern: seconds)) {
            throw e
        }
        return Int(seconds)
    }

    /// A struct timespec from the guest, validated and saturated (Threads/Deadline.swift):
    /// EFAULT for a bad address, EINVAL for a negative or malformed value.
    static func readTimespec(_ k: KernelState, _ address: UserAddress) -> Result<Int64, Errno> {
        switch k.memory.copyIn(address, count: 16) {
        case .failure(let e): return .failure(e)
        case .success(let b): return GuestTime.nanoseconds(timespec: b)
        }
    }

    /// Block until `deadline`; other threads run meanwhile. False if a signal interrupted
    /// the sleep (EINTR). A deadline of never sleeps until a signal comes.
    static func sleep(until deadline: Deadline, _ k: KernelState) -> Bool {
        let queue = WaitQueue()
        while !deadline.hasPassed(now: k.platform.monotonicNanoseconds()) {
            if !k.wait(on: queue, deadline: deadline.monotonic) { return false }
        }
        return true
    }

    /// nanosleep(2): EINVAL for tv_sec < 0 or tv_nsec outside [0, 999999999]; a huge request
    /// sleeps (hrtimer_nanosleep saturates at KTIME_MAX); on EINTR the time left goes to *rem.
    static func nanosleep(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let ns = try readTimespec(k, a.address(0)).get()
        let deadline = Deadline.after(ns, now: k.platform.monotonicNanoseconds())
        if sleep(until: deadline, k) { return 0 }
        if !a.address(1).isNull {
            let left = deadline.remaining(now: k.platform.monotonicNanoseconds())
            if let e = k.memory.copyOut(a.address(1), from: timespec(left)) { throw e }
        }
        throw .EINTR
    }

    /// clock_nanosleep(2): flags 1 = TIMER_ABSTIME. Errors are returned, not via errno. A
    /// relative sleep interrupted by a signal stores the time left in *rem, as nanosleep.
    static func clockNanosleep(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let clock = a.int32(0)
        guard clock != 2 && clock != 3, case .success(let clockNow) = nanoseconds(clock: clock, k) else { throw .EINVAL }
        guard a[1] & ~1 == 0 else { throw .EINVAL }
        let absolute = a[1] & 1 != 0
        let ns = try readTimespec(k, a.address(2)).get()
        let now = k.platform.monotonicNanoseconds()
        let deadline = absolute ? Deadline.at(ns, clockNow: clockNow, now: now) : Deadline.after(ns, now: now)
        if sleep(until: deadline, k) { return 0 }
        if !absolute && !a.address(3).isNull {
            let left = deadline.remaining(now: k.platform.monotonicNanoseconds())
            if let e = k.memory.copyOut(a.address(3), from: timespec(left)) { throw e }
        }
        throw .EINTR
    }

    // MARK: setting the clock

    /// CAP_SYS_TIME: the guest runs as root (uid 0) and egg has no capability sets, so it
    /// holds it. When credentials exist this must read the caller's effective capabilities.
    /// CAP_SYS_TIME (25) in the caller's effective set (capabilities(7)).
    static func mayChangeTime(_ k: KernelState) -> Bool { k.currentThread.credentials.effective.contains(25) }

    /// Set CLOCK_REALTIME to `ns` (timekeeping.c do_settimeofday64): absolute REALTIME
    /// timers keep their wall-clock expiry.
    static func setRealtime(_ k: KernelState, _ ns: Int64) {
        let delta = ns &- k.realtimeNow()
        k.timers.realtimeOffset = ns &- k.platform.realtimeNanoseconds()
        k.publishRealtimeToVDSO()  // the vDSO's CLOCK_REALTIME follows (Process/VDSO.swift)
        k.realtimeClockWasSet(delta: delta)
    }

    /// clock_settime(2): only CLOCK_REALTIME is settable (EINVAL for the others and for a bad
    /// id); EPERM without CAP_SYS_TIME; EINVAL for an invalid timespec.
    static func clockSettime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let clock = a.int32(0)
        guard clock == 0 else { throw .EINVAL }  // no clock_set for any other clock
        let ns = try readTimespec(k, a.address(1)).get()
        guard mayChangeTime(k) else { throw .EPERM }
        setRealtime(k, ns)
        return 0
    }

    /// settimeofday(tv, tz): tv_usec in [0, 999999] and tv_sec ≥ 0 else EINVAL
    /// (kernel/time/time.c); a timezone alone is stored for gettimeofday.
    static func settimeofday(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var ns: Int64? = nil
        if !a.address(0).isNull {
            let r = ByteReader(try k.memory.copyIn(a.address(0), count: 16).get())
            let micro = r.i64(8)
            guard micro >= 0 && micro < 1_000_000 else { throw .EINVAL }
            ns = try GuestTime.nanoseconds(seconds: r.i64(0), nanoseconds: micro * 1000).get()
        }
        var zone: (Int32, Int32)? = nil
        if !a.address(1).isNull {
            let r = ByteReader(try k.memory.copyIn(a.address(1), count: 8).get())
            // tz_minuteswest must lie within ±15 hours (kernel/time/time.c do_sys_settimeofday64).
            guard Int32(bitPattern: r.u32(0)) >= -15 * 60 && Int32(bitPattern: r.u32(0)) <= 15 * 60 else { throw .EINVAL }
            zone = (Int32(bitPattern: r.u32(0)), Int32(bitPattern: r.u32(4)))
        }
        guard mayChangeTime(k) else { throw .EPERM }
        if let zone { k.timers.timezone = (zone.0, zone.1) }
        if let ns { setRealtime(k, ns) }
        return 0
    }

    /// adjtimex(2) / clock_adjtime(2) on CLOCK_REALTIME. egg's clock has no NTP discipline:
    /// the query modes (0, ADJ_OFFSET_SS_READ) report an unsynchronised clock as Linux does
    /// before NTP runs (status STA_UNSYNC, maxerror/esterror NTP_PHASE_LIMIT 16 s,
    /// tolerance MAXFREQ_SCALED, tick 10000 µs) and return TIME_ERROR (5); ADJ_SETOFFSET
    /// steps the clock. Modes that would tune a frequency egg cannot apply answer
    /// EOPNOTSUPP rather than pretend. struct timex layout: include/uapi/linux/timex.h.
    static func adjustTime(_ k: KernelState, _ address: UserAddress) throws(Errno) -> Int {
        let b = try k.memory.copyIn(address, count: 208).get()
        let r = ByteReader(b)
        let modes = r.u32(0)
        let readOnlyOffset: UInt32 = 0xa001, setOffset: UInt32 = 0x0100, nano: UInt32 = 0x2000, micro: UInt32 = 0x1000
        if modes != 0 && modes != readOnlyOffset {
            guard mayChangeTime(k) else { throw .EPERM }
            guard modes & ~(setOffset | nano | micro) == 0 else { throw .EOPNOTSUPP }
            if modes & setOffset != 0 {
                // time.tv_sec, time.tv_usec (tv_nsec with ADJ_NANO): a signed step.
                let sub = r.i64(80)
                let limit: Int64 = modes & nano != 0 ? 1_000_000_000 : 1_000_000
                guard sub >= 0 && sub < limit else { throw .EINVAL }
                let step = GuestTime.saturatingNanoseconds(seconds: abs(r.i64(72)), nanoseconds: 0) * (r.i64(72) < 0 ? -1 : 1)
                    &+ (modes & nano != 0 ? sub : sub * 1000)
                setRealtime(k, k.realtimeNow() &+ step)
            }
        }
        let now = k.realtimeNow()
        var w = ByteWriter()
        w.u32(modes); w.zeros(4)
        w.i64(0)            // offset
        w.i64(0)            // freq
        w.i64(16_000_000)   // maxerror (µs)
        w.i64(16_000_000)   // esterror (µs)
        w.i32(0x40); w.zeros(4)  // status STA_UNSYNC
        w.i64(2)            // constant
        w.i64(1)            // precision (µs)
        w.i64(500 << 16)    // tolerance MAXFREQ_SCALED
        w.i64(now / 1_000_000_000)
        w.i64((now % 1_000_000_000) / 1000)  // time (timeval)
        w.i64(10_000)       // tick
        w.zeros(208 - w.count)
        if let e = k.memory.copyOut(address, from: w.bytes) { throw e }
        return 5  // TIME_ERROR: the clock is not synchronised
    }

    static func adjtimex(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try adjustTime(k, a.address(0))
    }

    /// clock_adjtime(clock, timex): CLOCK_REALTIME only; other valid clocks EOPNOTSUPP
    /// (no clock_adj in their k_clock), unknown ids EINVAL.
    static func clockAdjtime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let clock = a.int32(0)
        guard case .success = nanoseconds(clock: clock, k) else { throw .EINVAL }
        guard clock == 0 else { throw .EOPNOTSUPP }
        return try adjustTime(k, a.address(1))
    }
}
