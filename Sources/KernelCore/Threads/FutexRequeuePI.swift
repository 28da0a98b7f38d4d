// FutexRequeuePI — FUTEX_WAIT_REQUEUE_PI / FUTEX_CMP_REQUEUE_PI and the futex2 calls
// futex_wake, futex_wait, futex_requeue (KernelCore layer, beside Futex.swift, which has
// the PI lock itself, and ThreadSyscalls.swift, which dispatches futex(2)).
//
// Requeue-PI (futex(2) "Priority-inheritance futexes"; kernel/futex/requeue.c): a waiter
// sleeps on a plain futex (a condition variable) naming the PI futex (the mutex) it will
// need; FUTEX_CMP_REQUEUE_PI either takes the PI futex for the first waiter on its behalf
// and wakes it with the lock held, or moves the waiters onto the PI futex, where they sleep
// as FUTEX_LOCK_PI waiters until FUTEX_UNLOCK_PI hands the lock over. Such a waiter sits
// in the futex table with bitset 0, which no FUTEX_WAKE(_BITSET) or FUTEX_REQUEUE
// matches (a real bitset is never 0), and in KernelState.requeuePIWaits with its target.
import LinuxABI

/// One thread in FUTEX_WAIT_REQUEUE_PI still on its first futex (keys, FutexKeys.swift).
public struct RequeuePIWait: Equatable {
    public let tid: Int
    public let source: UInt64
    public let target: UInt64
}

extension FutexSyscalls {
    /// The requeue-PI waits still queued on their source futex (a thread that ended or left
    /// drops out here: the table is the truth, this list only adds the target).
    static func liveRequeuePIWaits(_ k: KernelState) -> [RequeuePIWait] {
        if k.requeuePIWaits.isEmpty { return [] }
        k.requeuePIWaits.removeAll { !k.futexTable.isWaiting(address: $0.source, tid: $0.tid) }
        return k.requeuePIWaits
    }

    /// Whether a FUTEX_WAIT_REQUEUE_PI waiter sleeps on `address`: FUTEX_WAKE and the plain
    /// requeues refuse to touch it with EINVAL (futex_wake: "this->pi_state ||
    /// this->rt_waiter"; futex_requeue: "!!this->rt_waiter != requeue_pi").
    static func hasRequeuePIWaiter(_ k: KernelState, _ address: UInt64) -> Bool {
        if k.requeuePIWaits.isEmpty { return false }
        let key = k.futexKey(address)
        return liveRequeuePIWaits(k).contains { $0.source == key }
    }

    /// FUTEX_WAIT_REQUEUE_PI(uaddr, val, timeout, uaddr2): EINVAL when uaddr and uaddr2 are
    /// the same futex (futex_wait_requeue_pi) or misaligned, EAGAIN when *uaddr != val; then
    /// sleep on uaddr. Woken on uaddr (signal, timeout) it returns EINTR-and-restart /
    /// ETIMEDOUT (handle_early_requeue_pi_wakeup: ERESTARTNOINTR); once requeued it
    /// continues as a FUTEX_LOCK_PI on uaddr2 and returns 0 owning it.
    static func waitRequeuePI(_ k: KernelState, _ address: UserAddress, expected: UInt32, deadline: Deadline, target: UserAddress) throws(Errno) -> Int {
        guard address.value & 3 == 0, target.value & 3 == 0 else { throw .EINVAL }
        let source = k.futexKey(address.value), targetKey = k.futexKey(target.value)
        guard source != targetKey else { throw .EINVAL }
        guard try read(k, address) == expected else { throw .EAGAIN }
        let me = k.currentThread
        k.futexTable.enqueue(address: source, tid: me.tid, bitset: 0)
        k.requeuePIWaits.append(RequeuePIWait(tid: me.tid, source: source, target: targetKey))
        func leave() {
            k.futexTable.remove(address: source, tid: me.tid)
            k.requeuePIWaits.removeAll { $0.tid == me.tid }
        }
        let queue = WaitQueue()
        while k.futexTable.isWaiting(address: source, tid: me.tid) {
            if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) {
                leave()
                throw .ETIMEDOUT
            }
            if !k.wait(on: queue, deadline: deadline.monotonic) {
                leave()
                me.restartAfterAnySignal = true
                throw .EINTR
            }
        }
        return try lockPI(k, target, deadline: deadline, trying: false, requeued: true)
    }

    /// FUTEX_CMP_REQUEUE_PI(uaddr, nr_wake, nr_requeue, uaddr2, val3) (futex_requeue with
    /// requeue_pi): EINVAL for a negative count, nr_wake other than 1, the same futex twice,
    /// or a waiter that waits for another PI futex; EAGAIN when *uaddr != val3. The first
    /// waiter gets uaddr2 if it is free (futex_proxy_trylock_atomic, which sets
    /// FUTEX_WAITERS) and is woken owning it; the others, up to nr_requeue + 1 in all as
    /// Linux counts, move to uaddr2's queue with FUTEX_WAITERS set in its word. Returns how
    /// many were woken or moved.
    static func cmpRequeuePI(_ k: KernelState, _ address: UserAddress, target: UserAddress, wake: Int32, requeue: Int32, expected: UInt32) throws(Errno) -> Int {
        guard wake >= 0, requeue >= 0, wake == 1 else { throw .EINVAL }
        guard address.value & 3 == 0, target.value & 3 == 0 else { throw .EINVAL }
        let source = k.futexKey(address.value), targetKey = k.futexKey(target.value)
        guard source != targetKey else { throw .EINVAL }
        guard try read(k, address) == expected else { throw .EAGAIN }
        let waits = liveRequeuePIWaits(k).filter { $0.source == source }
        guard let top = waits.first else { return 0 }
        guard waits.allSatisfy({ $0.target == targetKey }) else { throw .EINVAL }
        // Take the PI futex for the top waiter if it is free; otherwise make sure its word
        // says FUTEX_WAITERS, so the owner's unlock comes to the kernel.
        var movable = waits[...]
        var done = 0
        while true {
            let value = try read(k, target)
            let step = PILockStep.decide(value: value, tid: UInt32(truncatingIfNeeded: top.tid), othersWaiting: true) { owner in
                k.scheduler.thread(withID: Int(owner)) != nil
            }
            var new = value
            switch step {
            case .acquire(let v): new = v
            case .wait(let v): new = v
            case .deadlock: throw .EDEADLK
            case .ownerGone: throw .ESRCH
            }
            if new != value {
                guard try k.memory.compareExchangeUInt32(target, expected: value, desired: new).get() == value else { continue }
            }
            if case .acquire = step {
                detach(k, top)
                wakeThread(k, top.tid)
                movable = movable.dropFirst()
                done = 1
            }
            break
        }
        let limit = Int(requeue) + 1 - done
        for w in movable.prefix(limit) {
            detach(k, w)
            k.futexTable.enqueue(address: w.target, tid: w.tid, bitset: 0xFFFF_FFFF)
            // It wakes, finds itself off the first futex, and sleeps again as a PI waiter.
            wakeThread(k, w.tid)
            done += 1
        }
        return done
    }

    static func detach(_ k: KernelState, _ w: RequeuePIWait) {
        k.futexTable.remove(address: w.source, tid: w.tid)
        k.requeuePIWaits.removeAll { $0.tid == w.tid }
    }

    static func wakeThread(_ k: KernelState, _ tid: Int) {
        if let t = k.scheduler.thread(withID: tid), let q = t.waitQueue { k.wake(q) }
    }
}

// MARK: futex2: futex_wake, futex_wait, futex_requeue (Linux 6.7, kernel/futex/syscalls.c)

extension FutexSyscalls {
    static let futex2SizeMask: UInt64 = 3
    static let futex2SizeU32: UInt64 = 2
    static let futex2Private: UInt64 = 128

    /// futex2 flags: only FUTEX2_SIZE_* and FUTEX2_PRIVATE are valid (FUTEX2_VALID_MASK of
    /// Linux 6.7; FUTEX2_NUMA, 4, came in 6.16 and is EINVAL here as there), and only
    /// 32-bit futexes are implemented (futex_flags_valid). `values` must fit the size
    /// (futex_validate_input).
    static func checkFutex2(flags: UInt64, values: [UInt64]) throws(Errno) {
        guard flags & ~(futex2SizeMask | futex2Private) == 0 else { throw .EINVAL }
        guard flags & futex2SizeMask == futex2SizeU32 else { throw .EINVAL }
        for v in values where v >> 32 != 0 { throw .EINVAL }
    }

    /// futex_wake(uaddr, mask, nr, flags): wakes up to nr waiters whose bitset meets mask;
    /// nr 0 wakes none (FLAGS_STRICT), a negative nr one, as futex_wake's loop counts.
    static func futex2Wake(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try checkFutex2(flags: UInt64(a.uint32(3)), values: [a[1]])
        let mask = UInt32(truncatingIfNeeded: a[1])
        guard mask != 0 else { throw .EINVAL }
        guard a[0] & 3 == 0 else { throw .EINVAL }
        if hasRequeuePIWaiter(k, a[0]) { throw .EINVAL }
        let nr = a.int32(2)
        if nr == 0 { return 0 }
        return ThreadSyscalls.wakeFutex(k, address: a[0], count: nr < 0 ? 1 : Int(nr), bitset: mask)
    }

    /// futex_wait(uaddr, val, mask, flags, timeout, clockid): FUTEX_WAIT_BITSET with an
    /// absolute timeout on CLOCK_MONOTONIC or CLOCK_REALTIME (futex2_setup_timeout: any
    /// other clock is EINVAL).
    static func futex2Wait(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try checkFutex2(flags: UInt64(a.uint32(3)), values: [a[1], a[2]])
        let mask = UInt32(truncatingIfNeeded: a[2])
        guard mask != 0 else { throw .EINVAL }
        var deadline = Deadline.never
        if !a.address(4).isNull {
            let clock = a.int32(5)
            guard clock == 0 || clock == 1 else { throw .EINVAL }
            deadline = try ThreadSyscalls.deadline(k, a.address(4), absolute: true, realtime: clock == 0).get()
        }
        return try ThreadSyscalls.futexWait(k, a.address(0), expected: UInt32(truncatingIfNeeded: a[1]), deadline: deadline, bitset: mask)
    }

    /// futex_requeue(waiters[2], flags, nr_wake, nr_requeue): flags must be 0; each
    /// struct futex_waitv is checked as futex_parse_waitv does; waiters[0].val is the
    /// compare value (EAGAIN when *waiters[0].uaddr differs). Wakes nr_wake on the first
    /// futex and moves up to nr_requeue of the rest to the second.
    static func futex2Requeue(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[1] == 0, !a.address(0).isNull else { throw .EINVAL }
        let bytes = try k.memory.copyIn(a.address(0), count: 48).get()
        let r = ByteReader(bytes)
        var addresses: [UInt64] = []
        var value: UInt64 = 0
        for i in 0..<2 {
            let v = r.u64(i * 24), address = r.u64(i * 24 + 8)
            let flags = r.u32(i * 24 + 16), reserved = r.u32(i * 24 + 20)
            guard reserved == 0 else { throw .EINVAL }
            try checkFutex2(flags: UInt64(flags), values: [v])
            guard address & 3 == 0 else { throw .EINVAL }
            if i == 0 { value = v }
            addresses.append(address)
        }
        let wake = a.int32(2), requeue = a.int32(3)
        guard wake >= 0, requeue >= 0 else { throw .EINVAL }
        guard let current = k.memory.load32(addresses[0]) else { throw .EFAULT }
        guard UInt64(current) == value else { throw .EAGAIN }
        if hasRequeuePIWaiter(k, addresses[0]) { throw .EINVAL }
        let woken = ThreadSyscalls.wakeFutex(k, address: addresses[0], count: Int(wake))
        let moved = k.futexes.requeue(from: addresses[0], to: addresses[1], count: Int(requeue))
        return woken + moved
    }
}
