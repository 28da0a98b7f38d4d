// PollSyscalls — poll(2), ppoll(2), select(2), pselect6(2) (KernelCore layer).
//
// Readiness comes from FileSyscalls.readiness (pipes and other PollableObjects report their
// own; regular files and devices are always ready; the console is ready to read when the
// platform has input). Waiting re-scans after every wake of KernelState.pollWaiters, which
// pipes, eventfds and timers wake; console input does not wake that queue, so while the
// console is watched the wait is cut into 10 ms slices. epoll is Sources/KernelCore/Events.
import LinuxABI

enum PollSyscalls {
    static let pollRdNorm: UInt32 = 0x040, pollWrNorm: UInt32 = 0x100, pollNval: UInt32 = 0x020
    static let consoleSlice: UInt64 = 10_000_000

    /// Scan with `scan` (returns the number ready, > 0 to stop) until something is ready,
    /// the deadline passes (nil = forever) or a signal interrupts.
    static func waitUntilReady(_ k: KernelState, deadline: Deadline, watchesConsole: () -> Bool,
                               _ scan: () -> Int) throws(Errno) -> Int {
        while true {
            let n = scan()
            if n > 0 { return n }
            let now = k.platform.monotonicNanoseconds()
            if deadline.hasPassed(now: now) { return 0 }
            var wake = deadline
            if watchesConsole() { wake = wake.earlier(.after(Int64(consoleSlice), now: now)) }
            guard k.wait(on: k.pollWaiters, deadline: wake.monotonic) else {
                // A signal woke us, perhaps together with the event: Linux's do_poll looks
                // once more and reports what is ready; EINTR only when nothing is.
                let again = scan()
                if again > 0 { return again }
                throw .EINTR
            }
        }
    }

    /// The deadline `ns` from now (nil: never); saturating (Threads/Deadline.swift).
    static func deadline(_ k: KernelState, afterNanoseconds ns: Int64?) -> Deadline {
        guard let ns else { return .never }
        return .after(ns, now: k.platform.monotonicNanoseconds())
    }

    // MARK: poll

    static func pollCommon(_ k: KernelState, _ address: UserAddress, _ count: Int, deadline end: Deadline) throws(Errno) -> Int {
        guard count >= 0 && count <= FileTable.limit else { throw .EINVAL }
        var entries: [PollFd] = []
        let bytes = try k.memory.copyIn(address, count: count * PollFd.byteSize).get()
        guard let decoded = try? PollFd.decodeArray(from: bytes, count: count) else { throw .EFAULT }
        entries = decoded
        let result = try waitUntilReady(k, deadline: end, watchesConsole: {
            entries.contains { $0.fd >= 0 && k.files[Int($0.fd)]?.kind == .console }
        }) {
            var ready = 0
            for i in entries.indices {
                entries[i].revents = 0
                let fd = entries[i].fd
                if fd < 0 { continue }
                guard let f = k.files[Int(fd)] else {
                    entries[i].revents = UInt16(pollNval)
                    ready += 1
                    continue
                }
                let wanted = UInt32(entries[i].events)
                var now = FileSyscalls.readiness(k, f)
                if now & PollEvents.input != 0 { now |= pollRdNorm }
                if now & PollEvents.output != 0 { now |= pollWrNorm }
                let got = now & (wanted | PollEvents.error | PollEvents.hangUp)
                entries[i].revents = UInt16(truncatingIfNeeded: got)
                if got != 0 { ready += 1 }
            }
            return ready
        }
        if let e = k.memory.copyOut(address, from: encodeArray(entries)) { throw e }
        return result
    }

    static func poll(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try pollCommon(k, a.address(0), a.int(1), deadline: deadline(k, afterNanoseconds: GuestTime.nanoseconds(milliseconds: a.int32(2))))
    }

    static func ppoll(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var ns: Int64? = nil
        if !a.address(2).isNull {
            ns = try TimeSyscalls.readTimespec(k, a.address(2)).get()
        }
        let end = deadline(k, afterNanoseconds: ns)
        let result = try EpollSyscalls.withTemporaryMask(k, a.address(3), a[4]) { () throws(Errno) -> Int in
            try pollCommon(k, a.address(0), a.int(1), deadline: end)
        }
        writeTimeLeft(k, end, to: a.address(2))
        return result
    }

    /// ppoll and pselect6 store the time left back in their timespec (poll_select_finish).
    static func writeTimeLeft(_ k: KernelState, _ end: Deadline, to address: UserAddress) {
        guard !address.isNull else { return }
        _ = k.memory.copyOut(address, from: GuestTime.timespec(end.remaining(now: k.platform.monotonicNanoseconds())))
    }

    // MARK: select

    /// The fd_set bits (one UInt64 per 64 descriptors) at `address`, or nil for NULL.
    static func readSet(_ k: KernelState, _ address: UserAddress, words: Int) -> Result<[UInt64]?, Errno> {
        if address.isNull { return .success(nil) }
        switch k.memory.copyIn(address, count: words * 8) {
        case .failure(let e): return .failure(e)
        case .success(let b):
            let r = ByteReader(b)
            return .success((0..<words).map { r.u64($0 * 8) })
        }
    }

    static func selectCommon(_ k: KernelState, _ nfdsRaw: Int32, _ addresses: [UserAddress], deadline end: Deadline) throws(Errno) -> Int {
        guard nfdsRaw >= 0 else { throw .EINVAL }
        let nfds = min(Int(nfdsRaw), FileTable.limit)
        let words = (nfds + 63) / 64
        var sets: [[UInt64]?] = []
        for address in addresses {
            let s = try readSet(k, address, words: words).get()
            sets.append(s)
        }
        // Every descriptor named must be open.
        for fd in 0..<nfds {
            let bit = UInt64(1) << UInt64(fd % 64)
            var named = false
            for s in sets { if let s, s[fd / 64] & bit != 0 { named = true } }
            if named && k.files[fd] == nil { throw .EBADF }
        }
        var out: [[UInt64]] = [[], [], []]
        let result = try waitUntilReady(k, deadline: end, watchesConsole: {
            for fd in 0..<nfds where k.files[fd]?.kind == .console {
                if let s = sets[0], s[fd / 64] & (UInt64(1) << UInt64(fd % 64)) != 0 { return true }
            }
            return false
        }) {
            var ready = 0
            out = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: 3)
            for fd in 0..<nfds {
                let word = fd / 64, bit = UInt64(1) << UInt64(fd % 64)
                guard let f = k.files[fd] else { continue }
                let now = FileSyscalls.readiness(k, f)
                let masks: [UInt32] = [PollEvents.input | PollEvents.hangUp | PollEvents.error,
                                       PollEvents.output | PollEvents.error, PollEvents.priority]
                for i in 0..<3 {
                    if let s = sets[i], s[word] & bit != 0, now & masks[i] != 0 {
                        out[i][word] |= bit
                        ready += 1
                    }
                }
            }
            return ready
        }
        for i in 0..<3 where !addresses[i].isNull {
            var w = ByteWriter()
            for v in (result == 0 ? [UInt64](repeating: 0, count: words) : out[i]) { w.u64(v) }
            if let e = k.memory.copyOut(addresses[i], from: w.bytes) { throw e }
        }
        return result
    }

    /// select(2) with a struct timeval (tv_usec past a second carries, a negative part is
    /// EINVAL: GuestTime.nanoseconds(selectTimevalSeconds:)); Linux writes back the time left.
    static func select(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var ns: Int64? = nil
        if !a.address(4).isNull {
            let b = try k.memory.copyIn(a.address(4), count: 16).get()
            let r = ByteReader(b)
            ns = try GuestTime.nanoseconds(selectTimevalSeconds: r.i64(0), microseconds: r.i64(8)).get()
        }
        let end = deadline(k, afterNanoseconds: ns)
        let result = try selectCommon(k, a.int32(0), [a.address(1), a.address(2), a.address(3)], deadline: end)
        if ns != nil {
            _ = k.memory.copyOut(a.address(4), from: GuestTime.timeval(end.remaining(now: k.platform.monotonicNanoseconds())))
        }
        return result
    }

    /// pselect6: the sixth argument points at { const sigset_t *ss; size_t ss_len; }.
    static func pselect6(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var ns: Int64? = nil
        if !a.address(4).isNull {
            ns = try TimeSyscalls.readTimespec(k, a.address(4)).get()
        }
        var mask = UserAddress(0), size: UInt64 = 0
        if !a.address(5).isNull {
            let b = try k.memory.copyIn(a.address(5), count: 16).get()
            let r = ByteReader(b)
            mask = UserAddress(r.u64(0))
            size = r.u64(8)
        }
        let end = deadline(k, afterNanoseconds: ns)
        let result = try EpollSyscalls.withTemporaryMask(k, mask, size) { () throws(Errno) -> Int in
            try selectCommon(k, a.int32(0), [a.address(1), a.address(2), a.address(3)], deadline: end)
        }
        writeTimeLeft(k, end, to: a.address(4))
        return result
    }
}
