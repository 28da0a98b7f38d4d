// Scheduler — round-robin run queue, blocking and waking, time slices (KernelCore layer).
//
// Kernel code is never preempted: a thread leaves the CPU only when it blocks (wait(on:)),
// yields, exits, or when the timer interrupts it in user mode (preempt). The switch itself is
// the platform's (`Platform.switchThread`), which saves and restores the kernel context, the
// FPU/SSE/AVX state and the TLS bases. When the next thread belongs to another process the
// scheduler first loads that process's page tables (Platform.activateAddressSpace); the
// idle context runs on the kernel's own, so no CPU keeps a dead process's tables loaded.

public final class Scheduler {
    public private(set) var threads: [Thread] = []
    /// What each CPU runs (index = CPU number); `cpu` says which CPU is asking.
    var running: [Thread?]
    let cpu: () -> Int
    public var current: Thread {
        get { running[cpu()]! }
        set { running[cpu()] = newValue }
    }
    var runQueue: [Thread] = []
    var runQueueHead = 0
    public private(set) var nextTID: Int
    /// Threads that exited; their kernel stacks are released once we run on another stack.
    var zombies: [Thread] = []

    public static let maximumCPUs = 64

    public init(initial: Thread, cpu: @escaping () -> Int = { 0 }) {
        self.cpu = cpu
        running = [Thread?](repeating: nil, count: Scheduler.maximumCPUs)
        idleThreads = [Thread?](repeating: nil, count: Scheduler.maximumCPUs)
        running[cpu()] = initial
        initial.state = .running
        threads = [initial]
        byTID[initial.tid] = initial
        nextTID = initial.tid + 1
    }

    public func allocateTID() -> Int {
        let t = nextTID
        nextTID += 1
        return t
    }

    /// Threads by TID: futex wakes, signals and tgkill find theirs in O(1).
    var byTID: [Int: Thread] = [:]
    /// Blocked threads that gave a deadline (a superset: entries whose wait ended are
    /// dropped by the next scan), so timeouts are checked without walking every thread.
    var timedWaiters: [Thread] = []
    /// Wakes CPU `index` from its idle halt (the platform's reschedule IPI, installed by
    /// Sources/Kernel/SMP.swift); nil on one CPU and in host tests.
    public var kickCPU: ((Int) -> Void)? = nil

    public func thread(withID tid: Int) -> Thread? { byTID[tid] }

    public var hasRunnableThreads: Bool { runQueueHead < runQueue.count }

    func enqueue(_ t: Thread) {
        t.state = .runnable
        if runQueueHead > 64 && runQueueHead * 2 > runQueue.count {
            runQueue.removeFirst(runQueueHead)
            runQueueHead = 0
        }
        runQueue.append(t)
        kickIdleCPU()
    }

    /// A thread became runnable: if another CPU sits in its idle loop, interrupt its halt
    /// so it takes the thread now rather than at its next timer interrupt (up to a tick
    /// later). One CPU is kicked per thread; a CPU that finds the queue empty halts again.
    func kickIdleCPU() {
        guard let kick = kickCPU else { return }
        let here = cpu()
        for i in 0..<running.count where i != here {
            guard let r = running[i] else { continue }
            if r === idleThreads[i] {
                kick(i)
                return
            }
        }
    }

    func dequeue() -> Thread? {
        while runQueueHead < runQueue.count {
            let t = runQueue[runQueueHead]
            runQueueHead += 1
            if t.state == .runnable { return t }
        }
        return nil
    }

    public func add(_ t: Thread) {
        threads.append(t)
        byTID[t.tid] = t
        enqueue(t)
    }

    /// Wake threads whose timeout passed.
    func expireTimeouts(_ k: KernelState) {
        if !timedWaiters.isEmpty {
            let now = k.platform.monotonicNanoseconds()
            var i = 0
            while i < timedWaiters.count {
                let t = timedWaiters[i]
                guard t.state == .blocked, let d = t.wakeDeadline else {
                    timedWaiters.remove(at: i)  // its wait ended some other way
                    continue
                }
                if d <= now {
                    timedWaiters.remove(at: i)
                    makeRunnable(t)
                    continue
                }
                i += 1
            }
        }
        k.fireDueTimers()  // ITIMER_REAL, POSIX timers, timerfds (Threads/IntervalTimers.swift)
    }

    /// The earliest monotonic time a blocked thread's time-out or a timer
    /// (KernelState.earliestTimerDeadline) wants a CPU back; an idle CPU programs its timer
    /// for it (Sources/Kernel/SMP.swift LocalAPIC.rearm). nil: nothing is waiting on time.
    public func earliestWakeDeadline(_ k: KernelState) -> UInt64? {
        var best = k.earliestTimerDeadline()
        for t in timedWaiters where t.state == .blocked {
            if let d = t.wakeDeadline { best = min(best ?? d, d) }
        }
        return best
    }

    func makeRunnable(_ t: Thread) {
        guard t.state == .blocked else { return }
        if let q = t.waitQueue {
            q.waiters.removeAll { $0 == t.tid }
            t.waitQueue = nil
        }
        enqueue(t)
    }

    /// The CPU's idle context: runs `idleLoop` when no thread can run, so a blocked
    /// thread's kernel stack is never in use while another CPU might resume it.
    var idleThreads: [Thread?]
    public var idleThread: Thread? {
        get { idleThreads[cpu()] }
        set { idleThreads[cpu()] = newValue }
    }
    /// Install the idle context of CPU `index` (secondary CPUs, before they enter idleLoop).
    public func setIdleThread(_ t: Thread, forCPU index: Int) {
        idleThreads[index] = t
        if running[index] == nil { running[index] = t }
    }

    /// Leave the CPU: to the next runnable thread, back to `me` if it is still runnable, or
    /// to the idle context. The current thread must already be queued (yield), blocked or
    /// exited; returns when someone switches back to it.
    func reschedule(_ k: KernelState) {
        let me = current
        expireTimeouts(k)
        var next = dequeue()
        if next === me {
            me.state = .running
            return
        }
        if next == nil {
            if me.state == .runnable || me.state == .running {
                me.state = .running
                return
            }
            guard let idle = idleThread else {
                // No idle context (host tests): wait here for an interrupt, then let the
                // caller re-check its condition.
                k.platform.idle()
                expireTimeouts(k)
                if me.state == .blocked, let q = me.waitQueue { q.waiters.removeAll { $0 == me.tid }; me.waitQueue = nil }
                me.state = .running
                return
            }
            next = idle
        }
        let target = next!
        target.state = .running
        accountSwitch(k, from: me, to: target)
        current = target
        switchAddressSpace(k, from: me, to: target)
        k.stopRunning(me)  // CPU-time accounting (Threads/IntervalTimers.swift)
        k.startRunning(target)
        k.platform.switchThread(from: me.context, to: target.context)
        // Back on `me`'s stack: someone switched to us.
        current = me
        me.state = .running
        releaseZombies(k)
    }

    /// The body of the idle context (Sources/Kernel starts it once per CPU).
    public func idleLoop(_ k: KernelState) -> Never {
        guard let idle = idleThread else { fatalError("idle loop without an idle thread") }
        while true {
            expireTimeouts(k)
            if let next = dequeue() {
                next.state = .running
                accountSwitch(k, from: idle, to: next)
                current = next
                switchAddressSpace(k, from: idle, to: next)
                k.startRunning(next)
                k.platform.switchThread(from: idle.context, to: next.context)
                current = idle
                releaseZombies(k)
                continue
            }
            k.platform.idle()
        }
    }

    /// The page-table root `t` runs on: its process's, or the kernel's for an idle context.
    func root(of t: Thread, _ k: KernelState) -> UInt64 {
        t.process?.addressSpace.pageTable.root ?? k.kernelRoot
    }

    /// Load `to`'s address space when it differs from `from`'s (CR3 on x86; each CPU loads
    /// its own). With no kernel root known (host tests) the idle context keeps whatever is
    /// loaded.
    func switchAddressSpace(_ k: KernelState, from: Thread, to: Thread) {
        let target = root(of: to, k)
        if target != 0 && target != root(of: from, k) { k.platform.activateAddressSpace(root: target) }
    }

    func releaseZombies(_ k: KernelState) {
        let busy = { (z: Thread) in self.running.contains { $0 === z } }
        for z in zombies where !busy(z) { k.platform.releaseThread(z.context) }
        zombies.removeAll { !busy($0) }
    }

    /// Park the current thread on `queue` (optionally until `deadline`); returns false if a
    /// signal interrupted the wait.
    public func block(_ k: KernelState, on queue: WaitQueue, deadline: UInt64? = nil) -> Bool {
        let me = current
        if k.hasDeliverableSignal(me) { return false }
        me.state = .blocked
        me.waitQueue = queue
        me.wakeDeadline = deadline
        me.interrupted = false
        queue.waiters.append(me.tid)
        if deadline != nil && !timedWaiters.contains(where: { $0 === me }) { timedWaiters.append(me) }
        reschedule(k)
        me.wakeDeadline = nil
        let interrupted = me.interrupted || k.hasDeliverableSignal(me)
        me.interrupted = false
        return !interrupted
    }

    @discardableResult
    public func wake(_ k: KernelState, _ queue: WaitQueue, count: Int) -> Int {
        var woken = 0
        while woken < count, !queue.waiters.isEmpty {
            let tid = queue.waiters.removeFirst()
            if let t = thread(withID: tid), t.state == .blocked {
                t.waitQueue = nil
                enqueue(t)
                woken += 1
            }
        }
        return woken
    }

    /// Wake one specific blocked thread because a signal is pending for it.
    public func interrupt(_ t: Thread) {
        guard t.state == .blocked else { return }
        t.interrupted = true
        makeRunnable(t)
    }

    public func yield(_ k: KernelState) {
        guard hasRunnableThreads else { return }
        enqueue(current)
        reschedule(k)
    }

    /// Timer tick while the guest ran in user mode: round robin.
    public func preempt(_ k: KernelState) {
        expireTimeouts(k)
        yield(k)
    }

    /// The current thread ends. Never returns. The last thread of a process ends the
    /// process (Process/ProcessLifecycle.swift: zombie, SIGCHLD, or power-off for PID 1).
    public func exitCurrent(_ k: KernelState) -> Never {
        let me = current
        k.retireThreadCPUTime(me)  // the process's CPU clock keeps it (Threads/IntervalTimers.swift)
        me.state = .exited
        threads.removeAll { $0 === me }
        byTID[me.tid] = nil
        timedWaiters.removeAll { $0 === me }
        zombies.append(me)
        if let p = me.process {
            p.threads.removeAll { $0 === me }
            if p.threads.isEmpty { k.processEnded(p) }
        }
        if threads.isEmpty { k.powerOff(status: k.initProcess.exitStatus ?? 0) }
        reschedule(k)
        fatalError("an exited thread was scheduled again")
    }

    /// Whether `t` is on a CPU other than the caller's right now (in user mode there, or
    /// waiting for the kernel lock).
    public func isRunningElsewhere(_ t: Thread) -> Bool {
        let here = cpu()
        for i in 0..<running.count where i != here && running[i] === t { return true }
        return false
    }

    /// execve's de_thread (fs/exec.c): the threads `doomed` names, never the caller, end now
    /// without running again. None may be running on another CPU (isRunningElsewhere): the
    /// caller waits for that first. Their kernel stacks go the way of exited threads'.
    public func discardThreads(where doomed: (Thread) -> Bool) {
        let me = current
        for t in threads where t !== me && doomed(t) {
            if let q = t.waitQueue {
                q.waiters.removeAll { $0 == t.tid }
                t.waitQueue = nil
            }
            t.state = .exited
            zombies.append(t)
            byTID[t.tid] = nil
        }
        threads.removeAll { $0 !== me && $0.state == .exited }
        timedWaiters.removeAll { $0.state == .exited }
    }
}
