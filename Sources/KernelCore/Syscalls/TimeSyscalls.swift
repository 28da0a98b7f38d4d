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
        case 0, 8, 11: return .success(k.platform.realtimeNanoseconds())  // REALTIME, _ALARM, TAI
        case 1, 4, 6, 7, 9: return .success(Int64(k.platform.monotonicNanoseconds()))  // MONOTONIC, _RAW, _COARSE, BOOTTIME, _ALARM
        case 5: return .success(k.platform.realtimeNanoseconds())  // REALTIME_COARSE
        case 2, 3: return .success(Int64(k.platform.monotonicNanoseconds()))  // PROCESS/THREAD_CPUTIME: the guest is all that runs
        default: return .failure(.EINVAL)
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
        let ns = k.platform.realtimeNanoseconds()
        if !a.address(0).isNull {
            if let e = k.memory.copyOut(a.address(0), from: GuestTime.timeval(ns)) { throw e }
        }
        if !a.address(1).isNull {
            // struct timezone: minutes west 0, dst 0 (UTC).
            if let e = k.memory.copyOut(a.address(1), from: [UInt8](repeating: 0, count: 8)) { throw e }
        }
        return 0
    }

    static func time(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let seconds = k.platform.realtimeNanoseconds() / 1_000_000_000
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
}
