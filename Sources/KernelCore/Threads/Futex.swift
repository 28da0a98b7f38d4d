// Futex — per-address wait queues for futex(2) (KernelCore layer).
//
// One process, one address space: a futex is identified by its user virtual address (the
// PRIVATE flag changes nothing). Each waiter records the bitset it waits with, so
// FUTEX_WAKE_BITSET wakes only matching waiters (futex(2), "FUTEX_WAIT_BITSET").
import LinuxABI

public struct FutexWaiter: Equatable {
    public let tid: Int
    public let bitset: UInt32
}

public struct FutexTable {
    /// key → waiters in arrival order. A hash table, as Linux's futex_hash buckets
    /// (kernel/futex/core.c): FUTEX_WAIT and FUTEX_WAKE find their queue in O(1) however
    /// many futexes have sleepers (a Go or Java program parks hundreds of threads, each on
    /// its own word).
    var buckets: [UInt64: [FutexWaiter]] = [:]

    /// Every non-empty queue (in no particular order): the slow paths that scan all
    /// waiters (PI checks, thread teardown) and tests.
    public var queues: [(address: UInt64, waiters: [FutexWaiter])] {
        var out: [(address: UInt64, waiters: [FutexWaiter])] = []
        for (key, waiters) in buckets { out.append((key, waiters)) }
        return out
    }

    public init() {}

    public mutating func enqueue(address: UInt64, tid: Int, bitset: UInt32) {
        buckets[address, default: []].append(FutexWaiter(tid: tid, bitset: bitset))
    }

    public mutating func remove(address: UInt64, tid: Int) {
        guard var waiters = buckets[address] else { return }
        waiters.removeAll { $0.tid == tid }
        buckets[address] = waiters.isEmpty ? nil : waiters
    }

    /// Remove up to `count` waiters on `address` whose bitset intersects `bitset`.
    public mutating func take(address: UInt64, count: Int, bitset: UInt32 = 0xFFFF_FFFF) -> [Int] {
        guard count > 0, let waiters = buckets[address] else { return [] }
        // The common case — wake every waiter, any bitset — without rebuilding the queue.
        // Not when a requeue-PI waiter (bitset 0, FutexRequeuePI.swift) is queued: no plain
        // wake may take it.
        if bitset == 0xFFFF_FFFF && count >= waiters.count && !waiters.contains(where: { $0.bitset == 0 }) {
            buckets[address] = nil
            return waiters.map { $0.tid }
        }
        var taken: [Int] = []
        var kept: [FutexWaiter] = []
        for w in waiters {
            if taken.count < count && w.bitset & bitset != 0 { taken.append(w.tid) } else { kept.append(w) }
        }
        buckets[address] = kept.isEmpty ? nil : kept
        return taken
    }

    /// Move up to `count` waiters from `source` to `target` (FUTEX_REQUEUE). Each keeps its
    /// bitset, as Linux's requeue_futex moves the whole futex_q; bitset-0 waiters
    /// (FUTEX_WAIT_REQUEUE_PI, FutexRequeuePI.swift) stay, as take leaves them.
    public mutating func requeue(from source: UInt64, to target: UInt64, count: Int) -> Int {
        guard count > 0, let waiters = buckets[source] else { return 0 }
        var moved: [FutexWaiter] = []
        var kept: [FutexWaiter] = []
        for w in waiters {
            if moved.count < count && w.bitset != 0 { moved.append(w) } else { kept.append(w) }
        }
        buckets[source] = kept.isEmpty ? nil : kept
        for w in moved { enqueue(address: target, tid: w.tid, bitset: w.bitset) }
        return moved.count
    }

    public func isWaiting(address: UInt64, tid: Int) -> Bool {
        buckets[address]?.contains { $0.tid == tid } ?? false
    }

    /// Whether anyone other than `tid` (anyone, when nil) waits on `address`.
    public func hasWaiters(address: UInt64, other tid: Int? = nil) -> Bool {
        guard let waiters = buckets[address] else { return false }
        return waiters.contains { tid == nil || $0.tid != tid }
    }
}

// MARK: robust futex lists and PI futex words
//
// The futex word protocol of PI and robust futexes (include/uapi/linux/futex.h): the low 30
// bits are the owner's TID, bit 31 FUTEX_WAITERS (someone sleeps in the kernel, so unlock must
// enter it), bit 30 FUTEX_OWNER_DIED (the owner exited holding it).

public enum FutexWord {
    public static let waiters: UInt32 = 0x8000_0000
    public static let ownerDied: UInt32 = 0x4000_0000
    public static let tidMask: UInt32 = 0x3FFF_FFFF
}

/// Guest memory as the robust-list walk needs it: nil / false for an address that cannot be
/// read or written (the walk then stops, as Linux's does on a fault).
public protocol FutexMemory {
    func load64(_ address: UInt64) -> UInt64?
    func load32(_ address: UInt64) -> UInt32?
    func store32(_ address: UInt64, _ value: UInt32) -> Bool
    /// Atomically replace the word with `desired` if it holds `expected`; the value found,
    /// or nil for a fault (cmpxchg_futex_value_locked).
    func compareExchange32(_ address: UInt64, expected: UInt32, desired: UInt32) -> UInt32?
}

extension FutexMemory {
    /// Load, compare, store — for memories nothing else touches meanwhile (test fakes).
    public func compareExchange32(_ address: UInt64, expected: UInt32, desired: UInt32) -> UInt32? {
        guard let found = load32(address) else { return nil }
        if found == expected && !store32(address, desired) { return nil }
        return found
    }
}

extension AddressSpace: FutexMemory {
    public func load64(_ address: UInt64) -> UInt64? {
        if case .success(let v) = readUInt64(UserAddress(address)) { return v }
        return nil
    }
    public func load32(_ address: UInt64) -> UInt32? {
        var b = [UInt8](repeating: 0, count: 4)
        if copyIn(UserAddress(address), count: 4, into: &b) != nil { return nil }
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
    public func store32(_ address: UInt64, _ value: UInt32) -> Bool {
        writeUInt32(UserAddress(address), value) == nil
    }
    public func compareExchange32(_ address: UInt64, expected: UInt32, desired: UInt32) -> UInt32? {
        if case .success(let found) = compareExchangeUInt32(UserAddress(address), expected: expected, desired: desired) { return found }
        return nil
    }
}

/// The walk Linux does at thread exit over the list registered with set_robust_list(2)
/// (kernel/futex/core.c exit_robust_list, handle_futex_death). The head is
/// struct robust_list_head { next, long futex_offset, list_op_pending }; each entry's first
/// word is the next pointer, with bit 0 flagging a PI futex; the futex word is at entry +
/// futex_offset. At most ROBUST_LIST_LIMIT (2048) entries are visited, so a looped list
/// ends. The pending entry (a lock or unlock in progress) is handled last, once.
public enum RobustList {
    public static let limit = 2048
    public static let headSize: UInt64 = 24

    /// Walk `head` for the exiting thread `tid`; `wake(address)` wakes one waiter there.
    /// Returns the futex word addresses marked FUTEX_OWNER_DIED.
    @discardableResult
    public static func release<M: FutexMemory>(head: UInt64, tid: UInt32, memory: M, wake: (UInt64) -> Void) -> [UInt64] {
        var marked: [UInt64] = []
        guard head != 0, let first = memory.load64(head), let offsetBits = memory.load64(head &+ 8),
              let pendingRaw = memory.load64(head &+ 16) else { return marked }
        let offset = Int64(bitPattern: offsetBits)
        let pending = pendingRaw & ~1, pendingPI = pendingRaw & 1 != 0
        var entry = first & ~1, entryPI = first & 1 != 0
        var visited = 0
        while entry != head {
            // Read the next pointer before the word is touched: another thread may free the
            // entry once it sees OWNER_DIED.
            let next = memory.load64(entry)
            if entry != pending {
                if let word = handleDeath(entry &+ UInt64(bitPattern: offset), tid: tid, pi: entryPI, pendingOp: false, memory: memory, wake: wake) {
                    marked.append(word)
                }
            }
            guard let next else { break }
            entry = next & ~1
            entryPI = next & 1 != 0
            visited += 1
            if visited >= limit { break }
        }
        if pending != 0 {
            if let word = handleDeath(pending &+ UInt64(bitPattern: offset), tid: tid, pi: pendingPI, pendingOp: true, memory: memory, wake: wake) {
                marked.append(word)
            }
        }
        return marked
    }

    /// handle_futex_death: if `tid` owns the word, keep FUTEX_WAITERS, set FUTEX_OWNER_DIED,
    /// clear the TID, and wake one waiter if there were any. A pending op on a non-PI word
    /// of 0 (the lock was being taken) still wakes one waiter, since the dying thread may
    /// have consumed a wake-up.
    static func handleDeath<M: FutexMemory>(_ address: UInt64, tid: UInt32, pi: Bool, pendingOp: Bool, memory: M, wake: (UInt64) -> Void) -> UInt64? {
        guard address & 3 == 0, var value = memory.load32(address) else { return nil }
        while true {
            if pendingOp && !pi && value == 0 {
                wake(address)
                return nil
            }
            guard value & FutexWord.tidMask == tid else { return nil }
            let marked = (value & FutexWord.waiters) | FutexWord.ownerDied
            // A compare-and-swap, as Linux's: a waiter on another CPU may set FUTEX_WAITERS
            // (or user space change the word) between the read and the write; then the word
            // is read again and judged afresh.
            guard let found = memory.compareExchange32(address, expected: value, desired: marked) else { return nil }
            if found == value { break }
            value = found
        }
        // PI waiters in egg sleep in the same queues, so they are woken the same way and
        // take the now ownerless word themselves (Linux hands the rt_mutex over instead).
        if value & FutexWord.waiters != 0 { wake(address) }
        return address
    }
}

/// What FUTEX_LOCK_PI / FUTEX_TRYLOCK_PI do with the word they read (futex_lock_pi_atomic).
public enum PILockStep: Equatable {
    /// Store this value: the caller owns the futex now.
    case acquire(UInt32)
    /// The caller already owns it.
    case deadlock
    /// The owner TID names no thread.
    case ownerGone
    /// Owned by someone else: store this value (FUTEX_WAITERS set) and sleep.
    case wait(UInt32)

    /// `value` is the word, `tid` the caller; `ownerExists` says whether a TID is a live
    /// thread; `othersWaiting` whether the kernel already has sleepers on this futex.
    public static func decide(value: UInt32, tid: UInt32, othersWaiting: Bool, ownerExists: (UInt32) -> Bool) -> PILockStep {
        let owner = value & FutexWord.tidMask
        if owner == tid { return .deadlock }
        if owner == 0 {
            // Free (perhaps after its owner died: OWNER_DIED stays for the new owner to see).
            return .acquire(tid | (value & FutexWord.ownerDied) | (othersWaiting ? FutexWord.waiters : 0))
        }
        if !ownerExists(owner) { return .ownerGone }
        return .wait(value | FutexWord.waiters)
    }
}

/// The PI futex operations, get_robust_list and the exit-time robust walk (futex(2),
/// get_robust_list(2); kernel/futex/pi.c). egg's scheduler has no priorities, so priority
/// inheritance itself — boosting the owner to its top waiter's priority — has nothing to
/// do; the ownership protocol in the futex word and its error answers are Linux's.
enum FutexSyscalls {
    static func read(_ k: KernelState, _ address: UserAddress) throws(Errno) -> UInt32 {
        guard address.value & 3 == 0 else { throw .EINVAL }
        guard let v = k.memory.load32(address.value) else { throw .EFAULT }
        return v
    }

    static func write(_ k: KernelState, _ address: UserAddress, _ value: UInt32) throws(Errno) {
        if let e = k.memory.writeUInt32(address, value) { throw e }
    }

    /// Anyone asleep in the kernel on `address`.
    static func hasWaiters(_ k: KernelState, _ address: UInt64) -> Bool {
        k.futexes.hasWaiters(address: address)
    }

    /// FUTEX_LOCK_PI / FUTEX_LOCK_PI2 (`deadline` absolute) and FUTEX_TRYLOCK_PI (`trying`).
    /// `requeued`: the second half of FUTEX_WAIT_REQUEUE_PI (FutexRequeuePI.swift), whose
    /// caller may already be queued here or own the word, and which a signal ends with
    /// EAGAIN instead of a restart (futex_wait_requeue_pi: "return -EWOULDBLOCK directly").
    static func lockPI(_ k: KernelState, _ address: UserAddress, deadline: Deadline, trying: Bool, requeued: Bool = false) throws(Errno) -> Int {
        let me = k.currentThread
        let tid = UInt32(truncatingIfNeeded: me.tid)
        var first = !requeued
        let queue = WaitQueue()
        while true {
            let value = try read(k, address)
            let queued = k.futexes.isWaiting(address: address.value, tid: me.tid)
            // Woken by FUTEX_UNLOCK_PI's hand-over: the word already names us.
            if !first && !queued && value & FutexWord.tidMask == tid { return 0 }
            let others = k.futexes.hasWaiters(address: address.value, other: me.tid)
            let step = PILockStep.decide(value: value, tid: tid, othersWaiting: others) { owner in
                k.scheduler.thread(withID: Int(owner)) != nil
            }
            switch step {
            case .acquire(let new):
                let swapped: Bool
                switch k.memory.compareExchangeUInt32(address, expected: value, desired: new) {
                case .success(let found): swapped = found == value
                case .failure(let e):
                    if queued { giveUp(k, address, me) }
                    throw e
                }
                if !swapped { continue }  // changed under us: decide again (futex_lock_pi_atomic)
                if queued { k.futexes.remove(address: address.value, tid: me.tid) }
                return 0
            case .deadlock:
                if queued { k.futexes.remove(address: address.value, tid: me.tid) }
                throw .EDEADLK
            case .ownerGone:
                if queued { k.futexes.remove(address: address.value, tid: me.tid) }
                throw .ESRCH
            case .wait(let new):
                if trying { throw .EAGAIN }
                if new != value {
                    let swapped: Bool
                    switch k.memory.compareExchangeUInt32(address, expected: value, desired: new) {
                    case .success(let found): swapped = found == value
                    case .failure(let e):
                        if queued { giveUp(k, address, me) }
                        throw e
                    }
                    // The owner may have unlocked in user space meanwhile: look again
                    // instead of sleeping on a word that names a stale owner.
                    if !swapped { continue }
                }
                if !queued { k.futexes.enqueue(address: address.value, tid: me.tid, bitset: 0xFFFF_FFFF) }
                first = false
                if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) {
                    giveUp(k, address, me)
                    throw .ETIMEDOUT
                }
                if !k.wait(on: queue, deadline: deadline.monotonic) {
                    // Linux restarts FUTEX_LOCK_PI after a handler (ERESTARTNOINTR): a
                    // lock call must not fail with EINTR, glibc does not expect it.
                    giveUp(k, address, me)
                    if requeued { throw .EAGAIN }
                    me.restartAfterAnySignal = true
                    throw .EINTR
                }
            }
        }
    }

    /// A PI waiter leaves without the lock: out of the queue, and FUTEX_WAITERS cleared when
    /// nobody else waits (so the owner's unlock can stay in user space).
    static func giveUp(_ k: KernelState, _ address: UserAddress, _ me: Thread) {
        k.futexes.remove(address: address.value, tid: me.tid)
        guard !hasWaiters(k, address.value), var v = k.memory.load32(address.value) else { return }
        while v & FutexWord.waiters != 0 {
            guard let found = k.memory.compareExchange32(address.value, expected: v, desired: v & ~FutexWord.waiters) else { return }
            if found == v { return }
            v = found
        }
    }

    /// FUTEX_UNLOCK_PI: EPERM unless the caller owns the word; the first waiter becomes the
    /// owner (TID | FUTEX_WAITERS, as wake_futex_pi does) and is woken; with none the word
    /// becomes 0.
    static func unlockPI(_ k: KernelState, _ address: UserAddress) throws(Errno) -> Int {
        let tid = UInt32(truncatingIfNeeded: k.currentThread.tid)
        var value = try read(k, address)
        guard value & FutexWord.tidMask == tid else { throw .EPERM }
        // The heir leaves the queue now; the kernel lock keeps the table still until the
        // word is swapped, and a failed unlock puts it back.
        let heir = k.futexes.take(address: address.value, count: 1).first
        let new = heir.map { UInt32(truncatingIfNeeded: $0) | FutexWord.waiters } ?? 0
        // futex_unlock_pi / wake_futex_pi: cmpxchg the word from what was read; another CPU
        // may have set FUTEX_WAITERS (or OWNER_DIED) meanwhile, then read it and try again.
        while true {
            let found: UInt32
            switch k.memory.compareExchangeUInt32(address, expected: value, desired: new) {
            case .success(let f): found = f
            case .failure(let e):
                if let heir { k.futexes.enqueue(address: address.value, tid: heir, bitset: 0xFFFF_FFFF) }
                throw e
            }
            if found == value { break }
            guard found & FutexWord.tidMask == tid else {
                if let heir { k.futexes.enqueue(address: address.value, tid: heir, bitset: 0xFFFF_FFFF) }
                throw .EPERM
            }
            value = found
        }
        if let heir, let t = k.scheduler.thread(withID: heir), let q = t.waitQueue { k.wake(q) }
        return 0
    }

    /// get_robust_list(pid, head_ptr, len_ptr): pid 0 is the caller; ESRCH for no such
    /// thread (the caller is root, so the permission check passes).
    static func getRobustList(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        let t: Thread
        if pid == 0 {
            t = k.currentThread
        } else if let found = k.scheduler.thread(withID: Int(pid)) {
            t = found
        } else {
            throw .ESRCH
        }
        if let e = k.memory.writeUInt64(a.address(1), t.robustList) { throw e }
        if let e = k.memory.writeUInt64(a.address(2), RobustList.headSize) { throw e }
        return 0
    }

    /// At thread exit: mark the futexes the thread still holds and wake their waiters.
    static func releaseRobustList(_ k: KernelState, _ t: Thread) {
        guard t.robustList != 0 else { return }
        RobustList.release(head: t.robustList, tid: UInt32(truncatingIfNeeded: t.tid), memory: k.memory) { address in
            ThreadSyscalls.wakeFutex(k, address: address, count: 1)
        }
    }
}

extension FutexSyscalls {
    /// futex_waitv(waiters, nr_futexes, flags, timeout, clockid) (syscall 449, Linux 5.16;
    /// kernel/futex/syscalls.c, futex_parse_waitv): wait on up to 128 u32 futexes at once.
    /// Each struct futex_waitv is { u64 val; u64 uaddr; u32 flags; u32 __reserved } with
    /// flags FUTEX2_SIZE_U32 (2), optionally FUTEX2_PRIVATE (128); anything else, a non-zero
    /// reserved word, a non-zero syscall flags argument or a count outside 1...128 is EINVAL.
    /// The timeout is absolute on CLOCK_MONOTONIC or CLOCK_REALTIME. Returns the index of a
    /// futex that was woken; EAGAIN when a word already differs from its value.
    static func futexWaitv(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let count = a.int(1)
        guard a[2] == 0, count >= 1 && count <= 128 else { throw .EINVAL }
        let clock = a.int32(4)
        var deadline = Deadline.never
        if !a.address(3).isNull {
            guard clock == 0 || clock == 1 else { throw .EINVAL }
            deadline = try ThreadSyscalls.deadline(k, a.address(3), absolute: true, realtime: clock == 0).get()
        }
        let bytes = try k.memory.copyIn(a.address(0), count: count * 24).get()
        let r = ByteReader(bytes)
        var addresses: [UInt64] = []
        var values: [UInt32] = []
        for i in 0..<count {
            let value = r.u64(i * 24), address = r.u64(i * 24 + 8)
            let flags = r.u32(i * 24 + 16), reserved = r.u32(i * 24 + 20)
            guard reserved == 0, flags & ~UInt32(2 | 128) == 0, flags & 3 == 2 else { throw .EINVAL }
            guard address & 3 == 0 else { throw .EINVAL }
            // The value must fit the futex size (u32), as futex_parse_waitv checks.
            guard value >> 32 == 0 else { throw .EINVAL }
            addresses.append(address)
            values.append(UInt32(value))
        }
        let me = k.currentThread
        // Queue on every futex first, then compare (futex_wait_multiple_setup), so a wake
        // between the comparison and the sleep is not lost.
        for address in addresses { k.futexes.enqueue(address: address, tid: me.tid, bitset: 0xFFFF_FFFF) }
        func leaveAll() { for address in addresses { k.futexes.remove(address: address, tid: me.tid) } }
        for i in 0..<count {
            guard let current = k.memory.load32(addresses[i]) else { leaveAll(); throw .EFAULT }
            if current != values[i] { leaveAll(); throw .EAGAIN }
        }
        let queue = WaitQueue()
        while true {
            if let woken = addresses.firstIndex(where: { !k.futexes.isWaiting(address: $0, tid: me.tid) }) {
                leaveAll()
                return woken
            }
            if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) { leaveAll(); throw .ETIMEDOUT }
            if !k.wait(on: queue, deadline: deadline.monotonic) { leaveAll(); throw .EINTR }
        }
    }
}
