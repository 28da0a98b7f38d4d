// EventFD and TimerFD — eventfd(2) counters and timerfd_create(2) timers (KernelCore/Events).
import LinuxABI

public final class EventCounter: PollableObject {
    var counter: UInt64
    let semaphore: Bool
    init(initial: UInt64, semaphore: Bool) {
        counter = initial
        self.semaphore = semaphore
    }

    public var fileMode: UInt32 { 0o600 }

    public func pollEvents(_ k: KernelState) -> UInt32 {
        var e: UInt32 = 0
        if counter > 0 { e |= PollEvents.input }
        if counter < UInt64.max - 1 { e |= PollEvents.output }
        return e
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard count >= 8 else { throw .EINVAL }
        while counter == 0 {
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters) else { throw .EINTR }
        }
        let value = semaphore ? 1 : counter
        if let e = k.memory.writeUInt64(address, value) { throw e }
        counter -= value
        k.notifyPollers()
        return 8
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard count >= 8 else { throw .EINVAL }
        guard case .success(let value) = k.memory.readUInt64(address) else { throw .EFAULT }
        guard value != UInt64.max else { throw .EINVAL }
        while UInt64.max - 1 - counter < value {
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters) else { throw .EINTR }
        }
        counter += value
        k.notifyPollers()
        return 8
    }

    public func closed(_ k: KernelState) {}
}

public final class Timer: PollableObject {
    let clock: Int32
    /// Next expiry on the monotonic clock (ns), 0 = disarmed, `never` = armed past the end
    /// of time; interval 0 = one-shot.
    var deadline: UInt64 = 0
    static let never = UInt64.max
    var interval: UInt64 = 0
    var expirations: UInt64 = 0
    init(clock: Int32) { self.clock = clock }

    public var fileMode: UInt32 { 0o600 }

    /// Fold the expiries that have passed into `expirations`.
    /// Saturating: a huge interval (timerfd_settime accepts up to KTIME_MAX) runs the next
    /// expiry out to `never` instead of overflowing.
    func update(_ now: UInt64) {
        guard deadline != 0, deadline != Timer.never, now >= deadline else { return }
        if interval == 0 {
            expirations &+= 1
            deadline = 0
        } else {
            let n = (now - deadline) / interval + 1
            expirations = expirations.addingReportingOverflow(n).overflow ? UInt64.max : expirations + n
            let (step, o1) = n.multipliedReportingOverflow(by: interval)
            let (next, o2) = deadline.addingReportingOverflow(step)
            deadline = o1 || o2 ? Timer.never : next
        }
    }

    public func pollEvents(_ k: KernelState) -> UInt32 {
        update(k.platform.monotonicNanoseconds())
        return expirations > 0 ? PollEvents.input : 0
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard count >= 8 else { throw .EINVAL }
        while true {
            update(k.platform.monotonicNanoseconds())
            if expirations > 0 { break }
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters, deadline: deadline == 0 || deadline == Timer.never ? nil : deadline) else {
                throw .EINTR
            }
        }
        if let e = k.memory.writeUInt64(address, expirations) { throw e }
        expirations = 0
        return 8
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int { throw .EINVAL }

    public func closed(_ k: KernelState) { k.timerFDClosed(self) }
}
