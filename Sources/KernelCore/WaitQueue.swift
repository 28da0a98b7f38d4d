// WaitQueue — where a blocked thread waits for an event (KernelCore layer).
//
// A handler that must block (pipe empty, futex, sleep, socket) loops on its condition:
//
//     while pipe.isEmpty {
//         guard k.wait(on: pipe.readable) else { return .failure(.EINTR) }
//     }
//
// and whoever changes the condition calls `k.wake(pipe.readable)`. Wake-ups may be spurious,
// so the condition is always re-checked. The scheduler (Sources/KernelCore/Threads/) parks
// the calling thread on the queue and runs another; with one runnable thread the CPU idles.

public final class WaitQueue {
    /// Thread ids parked here, in arrival order.
    public var waiters: [Int] = []
    public init() {}
}

extension KernelState {
    /// Block the current thread until `queue` is woken, a timer tick passes, or a signal
    /// arrives. Returns false when a signal should interrupt the call (EINTR).
    public func wait(on queue: WaitQueue, deadline: UInt64? = nil) -> Bool {
        scheduler.block(self, on: queue, deadline: deadline)
    }

    /// Make the threads waiting on `queue` runnable (at most `count` of them).
    @discardableResult
    public func wake(_ queue: WaitQueue, count: Int = Int.max) -> Int {
        scheduler.wake(self, queue, count: count)
    }
}
