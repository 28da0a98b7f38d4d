// Deadline — guest time values (struct timespec, struct timeval, milliseconds) turned into
// monotonic deadlines: validated, and saturated instead of overflowing (KernelCore layer,
// pure, host-tested in Tests/KernelCoreTests/ThreadingTests.swift).
//
// Every call that waits converts through here — futex, nanosleep, clock_nanosleep
// (TimeSyscalls.swift), poll/ppoll/select/pselect6 (PollSyscalls.swift), epoll_wait,
// epoll_pwait2 and timerfd_settime (Events/Epoll.swift, Events/EventFD.swift), SO_RCVTIMEO /
// SO_SNDTIMEO (Sockets/) — so no handler does time arithmetic that can trap on a guest value.
// The rules are Linux's: timespec64_valid (include/linux/time64.h) rejects tv_sec < 0 and
// tv_nsec outside [0, NSEC_PER_SEC) with EINVAL; timespec64_to_ktime saturates at KTIME_MAX;
// ktime_add_safe and timespec64_add_safe saturate rather than wrap. A deadline past the end
// of the clock is "never" (KTIME_MAX is 292 years away): the wait ends only by its event or
// a signal, as on Linux.
import LinuxABI

/// When a wait ends, on the monotonic clock (nanoseconds since boot); `never` waits for ever.
public struct Deadline: Equatable, Sendable {
    /// Monotonic nanoseconds; nil for never.
    public let monotonic: UInt64?

    public init(monotonic: UInt64?) { self.monotonic = monotonic }

    public static let never = Deadline(monotonic: nil)

    /// `nanoseconds` from `now` (a negative duration has already passed). Saturates to never.
    public static func after(_ nanoseconds: Int64, now: UInt64) -> Deadline {
        if nanoseconds <= 0 { return Deadline(monotonic: now) }
        let (sum, overflow) = now.addingReportingOverflow(UInt64(nanoseconds))
        return overflow || sum > UInt64(Int64.max) ? .never : Deadline(monotonic: sum)
    }

    /// The absolute time `target` of a clock that reads `clockNow` while the monotonic clock
    /// reads `now` (TIMER_ABSTIME, FUTEX_WAIT_BITSET, TFD_TIMER_ABSTIME). A time in the past
    /// is due now; one beyond the clock's range never comes.
    public static func at(_ target: Int64, clockNow: Int64, now: UInt64) -> Deadline {
        let (distance, overflow) = target.subtractingReportingOverflow(clockNow)
        if overflow { return target > clockNow ? .never : Deadline(monotonic: now) }
        return after(distance, now: now)
    }

    public func hasPassed(now: UInt64) -> Bool {
        guard let monotonic else { return false }
        return now >= monotonic
    }

    /// Nanoseconds left at `now`: 0 once passed, Int64.max for never.
    public func remaining(now: UInt64) -> Int64 {
        guard let monotonic else { return Int64.max }
        if now >= monotonic { return 0 }
        let left = monotonic - now
        return left > UInt64(Int64.max) ? Int64.max : Int64(left)
    }

    /// The earlier of two deadlines.
    public func earlier(_ other: Deadline) -> Deadline {
        guard let a = monotonic else { return other }
        guard let b = other.monotonic else { return self }
        return Deadline(monotonic: min(a, b))
    }
}

/// Guest time structures in and out, checked as Linux checks them.
public enum GuestTime {
    public static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// seconds × 10⁹ + nanoseconds, saturated at Int64.max (timespec64_to_ktime's KTIME_MAX).
    /// Both parts must already be valid (non-negative, nanoseconds below a second).
    public static func saturatingNanoseconds(seconds: Int64, nanoseconds: Int64) -> Int64 {
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: nanosecondsPerSecond)
        if overflow { return Int64.max }
        let (sum, overflow2) = whole.addingReportingOverflow(nanoseconds)
        return overflow2 ? Int64.max : sum
    }

    /// A struct timespec as a duration or absolute time in nanoseconds: EINVAL unless
    /// tv_sec ≥ 0 and 0 ≤ tv_nsec < 10⁹ (timespec64_valid); saturates at Int64.max.
    public static func nanoseconds(seconds: Int64, nanoseconds: Int64) -> Result<Int64, Errno> {
        guard seconds >= 0, nanoseconds >= 0, nanoseconds < nanosecondsPerSecond else { return .failure(.EINVAL) }
        return .success(saturatingNanoseconds(seconds: seconds, nanoseconds: nanoseconds))
    }

    /// The 16 bytes of a struct timespec (EINVAL as above).
    public static func nanoseconds(timespec bytes: [UInt8]) -> Result<Int64, Errno> {
        guard bytes.count >= 16 else { return .failure(.EFAULT) }
        let r = ByteReader(bytes)
        return nanoseconds(seconds: r.i64(0), nanoseconds: r.i64(8))
    }

    /// select(2)'s struct timeval: kern_select (fs/select.c) carries whole seconds of
    /// tv_usec into tv_sec (with C's wrap-around) and then applies timespec64_valid, so a
    /// tv_usec of 1500000 is 1.5 s while a negative part is EINVAL.
    public static func nanoseconds(selectTimevalSeconds seconds: Int64, microseconds: Int64) -> Result<Int64, Errno> {
        let carried = seconds &+ microseconds / 1_000_000
        let rest = (microseconds % 1_000_000) &* 1000
        return nanoseconds(seconds: carried, nanoseconds: rest)
    }

    /// poll(2) and epoll_wait(2) milliseconds: negative waits for ever (nil).
    public static func nanoseconds(milliseconds: Int32) -> Int64? {
        milliseconds < 0 ? nil : Int64(milliseconds) * 1_000_000
    }

    /// A struct timespec for `ns` (negative counts as 0).
    public static func timespec(_ ns: Int64) -> [UInt8] {
        let v = max(0, ns)
        var w = ByteWriter()
        w.i64(v / nanosecondsPerSecond)
        w.i64(v % nanosecondsPerSecond)
        return w.bytes
    }

    /// A struct timeval for `ns` (negative counts as 0).
    public static func timeval(_ ns: Int64) -> [UInt8] {
        let v = max(0, ns)
        var w = ByteWriter()
        w.i64(v / nanosecondsPerSecond)
        w.i64((v % nanosecondsPerSecond) / 1000)
        return w.bytes
    }
}
