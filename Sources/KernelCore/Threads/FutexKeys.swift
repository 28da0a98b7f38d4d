// FutexKeys — which futex a guest address names (KernelCore layer, beside Futex.swift).
//
// Linux keys a private futex by (mm, address) and a shared one by the page it lies in
// (kernel/futex/core.c get_futex_key): after fork, parent and child run the same binary with
// their futex words at the same addresses, and a FUTEX_WAKE in one must never take a waiter
// of the other (Go's os/exec child hung: its wake-up went to a parent thread). Here a word in
// a MAP_SHARED area is keyed by its physical address (bit 63 set), so processes sharing the
// page meet on it; any other word by its address space's number (bits 47-62) and address.
// The table itself (FutexTable) only sees keys; `k.futexes` is the view that translates.

extension KernelState {
    /// The key of the futex word at `address` in the current address space.
    func futexKey(_ address: UInt64) -> UInt64 {
        let space = memory
        if let area = space.map.area(containing: address), area.shared,
           let physical = space.physicalAddress(of: address, write: false) {
            return 1 << 63 | physical
        }
        if space.futexSpaceID == 0 {
            nextFutexSpaceID = nextFutexSpaceID % 0xFFFF + 1
            space.futexSpaceID = nextFutexSpaceID
        }
        return space.futexSpaceID << 47 | (address & (1 << 47 - 1))
    }

    /// The futex table as handlers use it: guest addresses of the current address space.
    public var futexes: FutexView { FutexView(k: self) }
}

public struct FutexView {
    let k: KernelState

    public func enqueue(address: UInt64, tid: Int, bitset: UInt32) {
        k.futexTable.enqueue(address: k.futexKey(address), tid: tid, bitset: bitset)
    }

    public func remove(address: UInt64, tid: Int) {
        k.futexTable.remove(address: k.futexKey(address), tid: tid)
    }

    public func take(address: UInt64, count: Int, bitset: UInt32 = 0xFFFF_FFFF) -> [Int] {
        k.futexTable.take(address: k.futexKey(address), count: count, bitset: bitset)
    }

    public func requeue(from source: UInt64, to target: UInt64, count: Int) -> Int {
        k.futexTable.requeue(from: k.futexKey(source), to: k.futexKey(target), count: count)
    }

    public func isWaiting(address: UInt64, tid: Int) -> Bool {
        k.futexTable.isWaiting(address: k.futexKey(address), tid: tid)
    }

    /// Whether anyone (other than `tid`, when given) waits on the word at `address`.
    public func hasWaiters(address: UInt64, other tid: Int? = nil) -> Bool {
        let key = k.futexKey(address)
        return k.futexTable.queues.contains { q in
            q.address == key && q.waiters.contains { tid == nil || $0.tid != tid }
        }
    }

    /// Drop every wait of the threads `tids` (threads that end without leaving the queue).
    public func removeWaiters(tids: [Int]) {
        for q in k.futexTable.queues {
            for w in q.waiters where tids.contains(w.tid) { k.futexTable.remove(address: q.address, tid: w.tid) }
        }
    }

    /// Whether nobody waits on any futex (tests).
    public var isEmpty: Bool { k.futexTable.queues.isEmpty }
}
