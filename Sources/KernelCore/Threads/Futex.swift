// Futex — per-address wait queues for futex(2) (KernelCore layer).
//
// One process, one address space: a futex is identified by its user virtual address (the
// PRIVATE flag changes nothing). Each waiter records the bitset it waits with, so
// FUTEX_WAKE_BITSET wakes only matching waiters (futex(2), "FUTEX_WAIT_BITSET").

public struct FutexWaiter: Equatable {
    public let tid: Int
    public let bitset: UInt32
}

public struct FutexTable {
    /// address → waiters in arrival order. Few futexes are contended at once: a short array.
    public private(set) var queues: [(address: UInt64, waiters: [FutexWaiter])] = []

    public init() {}

    public mutating func enqueue(address: UInt64, tid: Int, bitset: UInt32) {
        if let i = queues.firstIndex(where: { $0.address == address }) {
            queues[i].waiters.append(FutexWaiter(tid: tid, bitset: bitset))
        } else {
            queues.append((address, [FutexWaiter(tid: tid, bitset: bitset)]))
        }
    }

    public mutating func remove(address: UInt64, tid: Int) {
        guard let i = queues.firstIndex(where: { $0.address == address }) else { return }
        queues[i].waiters.removeAll { $0.tid == tid }
        if queues[i].waiters.isEmpty { queues.remove(at: i) }
    }

    /// Remove up to `count` waiters on `address` whose bitset intersects `bitset`.
    public mutating func take(address: UInt64, count: Int, bitset: UInt32 = 0xFFFF_FFFF) -> [Int] {
        guard let i = queues.firstIndex(where: { $0.address == address }), count > 0 else { return [] }
        var taken: [Int] = []
        var kept: [FutexWaiter] = []
        for w in queues[i].waiters {
            if taken.count < count && w.bitset & bitset != 0 { taken.append(w.tid) } else { kept.append(w) }
        }
        if kept.isEmpty { queues.remove(at: i) } else { queues[i].waiters = kept }
        return taken
    }

    /// Move up to `count` waiters from `source` to `target` (FUTEX_REQUEUE).
    public mutating func requeue(from source: UInt64, to target: UInt64, count: Int) -> Int {
        let moved = take(address: source, count: count)
        for tid in moved { enqueue(address: target, tid: tid, bitset: 0xFFFF_FFFF) }
        return moved.count
    }

    public func isWaiting(address: UInt64, tid: Int) -> Bool {
        queues.first { $0.address == address }?.waiters.contains { $0.tid == tid } ?? false
    }
}
