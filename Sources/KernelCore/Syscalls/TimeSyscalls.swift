// TimeSyscalls — clock_gettime, gettimeofday, time, nanosleep (KernelCore layer).
//
// CLOCK_REALTIME comes from the RTC at boot plus the TSC; CLOCK_MONOTONIC and its
// relatives from the TSC alone (clock_gettime(2); clock ids in include/uapi/linux/time.h).
// Sleeps block the thread (Threads/Scheduler.swift) so others run meanwhile.
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

    static func timespec(_ ns: Int64) -> [UInt8] {
        var w = ByteWriter()
        w.i64(ns / 1_000_000_000)
        w.i64(ns % 1_000_000_000)
        return w.bytes
    }

    static func clockGettime(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        switch nanoseconds(clock: a.int32(0), k) {
        case .failure(let e): return .failure(e)
        case .success(let ns):
            if let e = k.memory.copyOut(a.address(1), from: timespec(ns)) { return .failure(e) }
            return .success(0)
        }
    }

    static func clockGetres(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success = nanoseconds(clock: a.int32(0), k) else { return .failure(.EINVAL) }
        if !a.address(1).isNull, let e = k.memory.copyOut(a.address(1), from: timespec(1)) { return .failure(e) }
        return .success(0)
    }

    static func gettimeofday(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let ns = k.platform.realtimeNanoseconds()
        if !a.address(0).isNull {
            var w = ByteWriter()
            w.i64(ns / 1_000_000_000)
            w.i64((ns % 1_000_000_000) / 1000)
            if let e = k.memory.copyOut(a.address(0), from: w.bytes) { return .failure(e) }
        }
        if !a.address(1).isNull {
            // struct timezone: minutes west 0, dst 0 (UTC).
            if let e = k.memory.copyOut(a.address(1), from: [UInt8](repeating: 0, count: 8)) { return .failure(e) }
        }
        return .success(0)
    }

    static func time(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let seconds = k.platform.realtimeNanoseconds() / 1_000_000_000
        if !a.address(0).isNull, let e = k.memory.writeUInt64(a.address(0), UInt64(bitPattern: seconds)) {
            return .failure(e)
        }
        return .success(Int(seconds))
    }

    static func readTimespec(_ k: KernelState, _ address: UserAddress) -> Result<Int64, Errno> {
        switch k.memory.copyIn(address, count: 16) {
        case .failure(let e): return .failure(e)
        case .success(let b):
            let r = ByteReader(b)
            let sec = r.i64(0), nsec = r.i64(8)
            guard sec >= 0, nsec >= 0, nsec < 1_000_000_000 else { return .failure(.EINVAL) }
            let (total, overflow) = sec.multipliedReportingOverflow(by: 1_000_000_000)
            return .success(overflow ? Int64.max : total &+ nsec)
        }
    }

    /// Block until `deadline` on `clock`; other threads run meanwhile. False if a signal
    /// interrupted the sleep (EINTR).
    static func sleep(until deadline: Int64, clock: Int32, _ k: KernelState) -> Bool {
        let queue = WaitQueue()
        while true {
            guard case .success(let now) = nanoseconds(clock: clock, k), now < deadline else { return true }
            let monotonicDeadline = UInt64(Int64(k.platform.monotonicNanoseconds()) &+ (deadline &- now))
            if !k.wait(on: queue, deadline: monotonicDeadline) { return false }
        }
    }

    static func nanosleep(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        switch readTimespec(k, a.address(0)) {
        case .failure(let e): return .failure(e)
        case .success(let ns):
            let start = Int64(k.platform.monotonicNanoseconds())
            if sleep(until: start &+ ns, clock: 1, k) { return .success(0) }
            if !a.address(1).isNull {
                let left = max(0, start &+ ns &- Int64(k.platform.monotonicNanoseconds()))
                _ = k.memory.copyOut(a.address(1), from: timespec(left))
            }
            return .failure(.EINTR)
        }
    }

    /// clock_nanosleep(2): flags 1 = TIMER_ABSTIME. Errors are returned, not via errno.
    static func clockNanosleep(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let clock = a.int32(0)
        guard clock != 2 && clock != 3, case .success(let now) = nanoseconds(clock: clock, k) else { return .failure(.EINVAL) }
        guard a[1] & ~1 == 0 else { return .failure(.EINVAL) }
        switch readTimespec(k, a.address(2)) {
        case .failure(let e): return .failure(e)
        case .success(let ns):
            return sleep(until: a[1] & 1 != 0 ? ns : now &+ ns, clock: clock, k) ? .success(0) : .failure(.EINTR)
        }
    }
}
