// NetworkPump — moves frames between the network card and the TCP/IP stack and wakes the
// threads whose sockets changed (KernelCore/Sockets).
//
// Net's NetworkStack (Sources/Net/NetworkStack.swift) never blocks and has no clock: the
// kernel feeds it received frames, runs its timers through `poll(now:)` and sends what that
// returns through the card (NetworkInterface.swift). Three callers drive it:
//   - the socket syscalls (SocketSyscalls.swift), after each call that changes state and
//     whenever a blocked socket call wakes up;
//   - the card's interrupt and the timer tick (Sources/Kernel/), through `pumpNetwork()`
//     when `networkTimerDue(now:)` says a TCP/ARP timer has passed;
//   - host tests, which pump two kernels joined by fake cards.
// Waiters: sockets block on KernelState.pollWaiters, the queue poll/select/epoll already
// use, so one `notifyPollers()` wakes a blocked recv as well as an epoll_wait.
// Not re-entrant: call it from syscall context or from an interrupt that did not interrupt
// kernel code (the kernel lock in Sources/Kernel/Traps.swift guarantees that).
import Net

extension KernelState {
    /// The stack, created loopback-only on first use when boot set up no card, so that
    /// 127.0.0.1 works on every machine.
    public func networkStack() -> NetworkStack {
        if let stack = network { return stack }
        var seed = [UInt8](repeating: 0, count: 8)
        platform.fillRandom(&seed, count: 8)
        var value: UInt64 = 0
        for b in seed { value = value << 8 | UInt64(b) }
        let stack = NetworkStack(mac: nil, randomSeed: value)
        network = stack
        return stack
    }

    /// Receive what the card has, run the stack's timers and loopback, transmit its output,
    /// and wake pollers if any socket's readiness changed.
    public func pumpNetwork() {
        guard let stack = network else { return }
        let now = platform.monotonicNanoseconds()
        if let card = networkInterface {
            for frame in card.receive() { stack.receive(frame: frame, now: now) }
        }
        let frames = stack.poll(now: now)
        if !frames.isEmpty { networkInterface?.transmit(frames) }
        if !stack.takeReadinessChanges().isEmpty { notifyPollers() }
    }

    /// Whether the stack has timer work due at `now` (monotonic ns): the timer tick pumps
    /// only then.
    public func networkTimerDue(now: UInt64) -> Bool {
        guard let deadline = network?.nextDeadline() else { return false }
        return deadline <= now
    }

    /// Park the calling socket syscall until something may have changed: a wake-up of
    /// pollWaiters, `deadline` (the caller's timeout), or the stack's next timer, whichever
    /// comes first; then pump. False when a signal interrupts (EINTR).
    func waitForNetwork(until deadline: UInt64?) -> Bool {
        var wake = deadline
        if let next = network?.nextDeadline() { wake = min(wake ?? next, next) }
        guard wait(on: pollWaiters, deadline: wake) else { return false }
        pumpNetwork()
        return true
    }
}

extension KernelState {
    /// The program is ending: close every Internet socket it still holds, as Linux does when
    /// a process's files are released at exit, so peers get their FIN (or RST for unread
    /// data) while the kernel lingers to send what is queued (Sources/Kernel/NetworkSetup.swift).
    /// Returns how many sockets it closed.
    @discardableResult
    public func closeSocketsAtExit() -> Int {
        guard let stack = network else { return 0 }
        var closed: [SocketID] = []
        let now = platform.monotonicNanoseconds()
        for fd in 0..<files.count {
            guard let socket = files[fd]?.object as? KernelSocket,
                  case .internet(let id) = socket.backing, stack.exists(id), !closed.contains(id) else { continue }
            stack.close(id, now: now)
            closed.append(id)
        }
        if !closed.isEmpty { pumpNetwork() }
        return closed.count
    }
}
