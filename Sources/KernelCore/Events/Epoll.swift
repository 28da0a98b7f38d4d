// Epoll — epoll_create1/epoll_ctl/epoll_wait (KernelCore/Events), level- and edge-
// triggered, EPOLLONESHOT and EPOLLRDHUP (epoll(7)). The interest list holds descriptor
// numbers and the open file description they named when added; waiting re-scans readiness
// of every interest, blocking on KernelState.pollWaiters between scans.
//
// An epoll instance may watch another: it is readable when the inner one has something to
// report, so readiness propagates up a chain. As in fs/eventpoll.c, epoll_ctl(ADD) refuses
// (ELOOP) an addition that would close a cycle or make a chain of more than five instances
// (EPOLL_MAX_NESTS 4 links: the depth above the outer one, plus one, plus the depth below
// the inner one). EPOLLEXCLUSIVE is accepted with ADD only, with EPOLLIN/OUT/ERR/HUP/
// WAKEUP/ET, and not on an epoll target; MOD of such an interest is EINVAL. EPOLLWAKEUP is
// accepted (egg never suspends, so it has nothing to hold off).
import LinuxABI

public final class EpollInstance: PollableObject {
    struct Interest {
        var fd: Int
        var file: OpenFile
        var events: UInt32
        var data: UInt64
        var disabled = false       // EPOLLONESHOT fired
        var lastReported: UInt32 = 0
    }
    static let edgeTriggered: UInt32 = 1 << 31, oneShot: UInt32 = 1 << 30
    static let wakeUp: UInt32 = 1 << 29, exclusive: UInt32 = 1 << 28
    var interests: [Interest] = []

    public var fileMode: UInt32 { 0o600 }

    public func pollEvents(_ k: KernelState) -> UInt32 {
        ready(k, maximum: 1, consume: false).isEmpty ? 0 : PollEvents.input
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int { throw .EINVAL }
    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int { throw .EINVAL }
    public func closed(_ k: KernelState) {
        for i in interests { k.unwatchEdges(self, of: i.file.object) }
        interests.removeAll()
    }

    /// Ready (events, data) pairs; `consume` applies ONESHOT/edge bookkeeping.
    func ready(_ k: KernelState, maximum: Int, consume: Bool) -> [(UInt32, UInt64)] {
        var out: [(UInt32, UInt64)] = []
        for i in interests.indices where out.count < maximum {
            let interest = interests[i]
            if interest.disabled { continue }
            // A closed descriptor drops out (Linux removes it when the description closes).
            guard interest.fd < k.files.count, let f = k.files[interest.fd], f === interest.file else { continue }
            let mask = interest.events | PollEvents.error | PollEvents.hangUp
            let now = FileSyscalls.readiness(k, f) & mask
            // Edge bookkeeping forgets each condition that went away (EPOLLIN drained while
            // the socket stays writable), so its next arrival is an edge again.
            if consume { interests[i].lastReported &= now }
            if now == 0 { continue }
            if interest.events & EpollInstance.edgeTriggered != 0 && now & ~interests[i].lastReported == 0 { continue }
            out.append((now, interest.data))
            if consume {
                interests[i].lastReported = now
                if interest.events & EpollInstance.oneShot != 0 { interests[i].disabled = true }
            }
        }
        return out
    }

    /// The epoll instances this one watches.
    var children: [EpollInstance] {
        var out: [EpollInstance] = []
        for i in interests { if let e = i.file.object as? EpollInstance { out.append(e) } }
        return out
    }

    /// The longest chain of epoll instances below this one (0: it watches none), or nil when
    /// `target` is among them (adding this one to `target` would close a cycle).
    func depthBelow(avoiding target: EpollInstance, limit: Int = EpollInstance.maximumNesting + 1) -> Int? {
        var deepest = 0
        if limit < 0 { return deepest }
        for child in children {
            if child === target { return nil }
            guard let d = child.depthBelow(avoiding: target, limit: limit - 1) else { return nil }
            deepest = max(deepest, d + 1)
        }
        return deepest
    }

    /// EPOLL_MAX_NESTS: the most links in a chain of epoll instances.
    static let maximumNesting = 4
    /// EPOLLEXCLUSIVE_OK_BITS: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLWAKEUP, EPOLLET,
    /// EPOLLEXCLUSIVE.
    static let exclusiveAllowed: UInt32 = PollEvents.input | PollEvents.output | PollEvents.error | PollEvents.hangUp
        | wakeUp | edgeTriggered | exclusive

    /// The earliest timerfd deadline among the interests, so a wait wakes for it.
    func nextTimerDeadline() -> UInt64? {
        var best: UInt64? = nil
        for i in interests {
            if let t = i.file.object as? Timer, t.deadline != 0, t.deadline != Timer.never { best = min(best ?? t.deadline, t.deadline) }
        }
        return best
    }
}

enum EpollSyscalls {
    static func create(_ k: KernelState, flags: UInt64) throws(Errno) -> Int {
        guard flags & ~cloexecFlag == 0 else { throw .EINVAL }
        return try k.installObject(EpollInstance(), flags: 2, closeOnExec: flags & cloexecFlag != 0)
    }

    static func epollCreate1(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try create(k, flags: a[0]) }

    static func epollCreate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a.int32(0) > 0 else { throw .EINVAL }
        return try create(k, flags: 0)
    }

    static func instance(_ k: KernelState, _ fd: Int32) -> Result<EpollInstance, Errno> {
        guard fd >= 0, Int(fd) < k.files.count, let f = k.files[Int(fd)] else { return .failure(.EBADF) }
        guard let e = f.object as? EpollInstance else { return .failure(.EINVAL) }
        return .success(e)
    }

    /// epoll_ctl(epfd, op, fd, event): EPOLL_CTL_ADD 1, DEL 2, MOD 3.
    static func epollCtl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let ep: EpollInstance
        ep = try instance(k, a.int32(0)).get()
        let fd = Int(a.int32(2))
        guard fd >= 0, fd < k.files.count, let target = k.files[fd] else { throw .EBADF }
        if target.object === ep { throw .EINVAL }
        if target.kind == .snapshot || target.kind == .inode { throw .EPERM }  // files cannot be polled
        let op = a.int(1)
        var events: UInt32 = 0, data: UInt64 = 0
        if op != 2 {
            switch k.memory.copyIn(a.address(3), count: 12) {  // packed struct epoll_event
            case .failure(let e): throw e
            case .success(let b):
                let r = ByteReader(b + [0, 0, 0, 0])
                events = r.u32(0)
                data = r.u64(4)
            }
        }
        let inner = target.object as? EpollInstance
        if op != 2 && events & EpollInstance.exclusive != 0 {
            if op == 3 { throw .EINVAL }
            if op == 1 && (inner != nil || events & ~EpollInstance.exclusiveAllowed != 0) { throw .EINVAL }
        }
        let index = ep.interests.firstIndex { $0.fd == fd && $0.file === target }
        switch op {
        case 1:
            if index != nil { throw .EEXIST }
            if let inner {
                // ep_loop_check: no cycle, and no chain longer than EPOLL_MAX_NESTS links.
                guard let below = inner.depthBelow(avoiding: ep) else { throw .ELOOP }
                if k.epollDepthAbove(ep) + 1 + below > EpollInstance.maximumNesting { throw .ELOOP }
            }
            ep.interests.append(EpollInstance.Interest(fd: fd, file: target, events: events, data: data))
            if events & EpollInstance.edgeTriggered != 0 { k.watchEdges(ep, of: target.object) }
        case 2:
            guard let i = index else { throw .ENOENT }
            ep.interests.remove(at: i)
            if !ep.interests.contains(where: { $0.file.object === target.object }) { k.unwatchEdges(ep, of: target.object) }
        case 3:
            guard let i = index else { throw .ENOENT }
            if ep.interests[i].events & EpollInstance.exclusive != 0 { throw .EINVAL }
            ep.interests[i].events = events
            ep.interests[i].data = data
            ep.interests[i].disabled = false
            ep.interests[i].lastReported = 0
            if events & EpollInstance.edgeTriggered != 0 { k.watchEdges(ep, of: target.object) }
        default:
            throw .EINVAL
        }
        k.notifyPollers()
        return 0
    }

    static func wait(_ k: KernelState, epfd: Int32, events: UserAddress, maximum: Int, timeoutNs: Int64?) throws(Errno) -> Int {
        let ep: EpollInstance
        ep = try instance(k, epfd).get()
        guard maximum > 0 && maximum <= 1 << 20 else { throw .EINVAL }
        let deadline = PollSyscalls.deadline(k, afterNanoseconds: timeoutNs)
        while true {
            let ready = ep.ready(k, maximum: maximum, consume: true)
            if !ready.isEmpty {
                var w = ByteWriter()
                for (e, d) in ready { w.u32(e); w.u64(d) }
                if let err = k.memory.copyOut(events, from: w.bytes) { throw err }
                return ready.count
            }
            if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) { return 0 }
            var wake = deadline
            if let t = ep.nextTimerDeadline() { wake = wake.earlier(Deadline(monotonic: t)) }
            guard k.wait(on: k.pollWaiters, deadline: wake.monotonic) else { throw .EINTR }
        }
    }

    static func timeout(ms: Int32) -> Int64? { GuestTime.nanoseconds(milliseconds: ms) }

    static func epollWait(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try wait(k, epfd: a.int32(0), events: a.address(1), maximum: a.int(2), timeoutNs: timeout(ms: a.int32(3)))
    }

    /// epoll_pwait: the signal mask argument applies only while waiting.
    static func epollPwait(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try withTemporaryMask(k, a.address(4), a[5]) { () throws(Errno) -> Int in
            try wait(k, epfd: a.int32(0), events: a.address(1), maximum: a.int(2), timeoutNs: timeout(ms: a.int32(3)))
        }
    }

    static func epollPwait2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var ns: Int64? = nil
        if !a.address(3).isNull {
            ns = try TimeSyscalls.readTimespec(k, a.address(3)).get()
        }
        return try withTemporaryMask(k, a.address(4), a[5]) { () throws(Errno) -> Int in
            try wait(k, epfd: a.int32(0), events: a.address(1), maximum: a.int(2), timeoutNs: ns)
        }
    }

    static func withTemporaryMask(_ k: KernelState, _ mask: UserAddress, _ size: UInt64, _ body: () throws(Errno) -> Int) throws(Errno) -> Int {
        if mask.isNull { return try body() }
        guard size == 8 else { throw .EINVAL }
        guard case .success(let m) = k.memory.readUInt64(mask) else { throw .EFAULT }
        let t = k.currentThread
        let saved = t.signalMask
        t.signalMask = m & ~SignalSyscalls.unblockable
        do {
            let result = try body()
            t.signalMask = saved
            return result
        } catch {
            // Interrupted: the mask is restored by rt_sigreturn after the handler runs.
            if error == .EINTR { t.savedSignalMask = saved } else { t.signalMask = saved }
            throw error
        }
    }
}

enum EventSyscalls {
    static func eventfd2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[1]
        guard flags & ~(cloexecFlag | nonblockFlag | 1) == 0 else { throw .EINVAL }
        return try k.installObject(EventCounter(initial: UInt64(a.uint32(0)), semaphore: flags & 1 != 0),
                               flags: 2 | (flags & nonblockFlag), closeOnExec: flags & cloexecFlag != 0)
    }

    static func eventfd(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try eventfd2(k, SyscallArguments(number: 290, a[0], 0))
    }

    static func pipe2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[1]
        guard flags & ~(cloexecFlag | nonblockFlag | 0o40000) == 0 else { throw .EINVAL }
        let buffer = PipeBuffer()
        guard let r = try? k.installObject(PipeEnd(buffer: buffer, isReadEnd: true), flags: flags & nonblockFlag,
                                           closeOnExec: flags & cloexecFlag != 0) else { throw .EMFILE }
        guard let w = try? k.installObject(PipeEnd(buffer: buffer, isReadEnd: false), flags: 1 | (flags & nonblockFlag),
                                           closeOnExec: flags & cloexecFlag != 0) else {
            k.files[r] = nil
            throw .EMFILE
        }
        var b = ByteWriter()
        b.u32(UInt32(r)); b.u32(UInt32(w))
        if let e = k.memory.copyOut(a.address(0), from: b.bytes) {
            k.files[r] = nil
            k.files[w] = nil
            throw e
        }
        return 0
    }

    static func pipe(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try pipe2(k, SyscallArguments(number: 293, a[0], 0))
    }

    /// timerfd_create(clockid, flags): CLOCK_REALTIME 0, CLOCK_MONOTONIC 1, BOOTTIME 7.
    static func timerfdCreate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let clock = a.int32(0)
        guard clock == 0 || clock == 1 || clock == 7 else { throw .EINVAL }
        let flags = a[1]
        guard flags & ~(cloexecFlag | nonblockFlag) == 0 else { throw .EINVAL }
        return try k.installObject(Timer(clock: clock), flags: flags & nonblockFlag, closeOnExec: flags & cloexecFlag != 0)
    }

    static func timer(_ k: KernelState, _ fd: Int32) -> Result<Timer, Errno> {
        guard fd >= 0, Int(fd) < k.files.count, let f = k.files[Int(fd)] else { return .failure(.EBADF) }
        guard let t = f.object as? Timer else { return .failure(.EINVAL) }
        return .success(t)
    }

    static func currentSetting(_ k: KernelState, _ t: Timer) -> [UInt8] {
        let now = k.platform.monotonicNanoseconds()
        t.update(now)
        let remaining = t.deadline == 0 ? 0 : Deadline(monotonic: t.deadline == Timer.never ? nil : t.deadline).remaining(now: now)
        return TimeSyscalls.timespec(Int64(t.interval)) + TimeSyscalls.timespec(remaining)
    }

    /// timerfd_settime(fd, flags, new, old): TFD_TIMER_ABSTIME 1.
    static func timerfdSettime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t: Timer
        t = try timer(k, a.int32(0)).get()
        guard a[1] & ~UInt64(3) == 0 else { throw .EINVAL }
        // itimerspec64_valid: both halves valid timespecs, else EINVAL; EFAULT for the address.
        let interval: Int64, value: Int64
        let b = try k.memory.copyIn(a.address(2), count: 32).get()
        switch (GuestTime.nanoseconds(timespec: Array(b[0..<16])), GuestTime.nanoseconds(timespec: Array(b[16..<32]))) {
        case (.success(let i), .success(let v)): (interval, value) = (i, v)
        default: throw .EINVAL
        }
        if !a.address(3).isNull, let e = k.memory.copyOut(a.address(3), from: currentSetting(k, t)) { throw e }
        let now = k.platform.monotonicNanoseconds()
        t.expirations = 0
        t.interval = UInt64(interval)
        if value == 0 {
            t.deadline = 0
        } else {
            // A time beyond the clock's range never expires (Timer.never); one in the past is
            // due at once (but never 0, which means disarmed).
            let clockNow = t.clock == 0 ? k.platform.realtimeNanoseconds() : Int64(now)
            let due = a[1] & 1 != 0 ? Deadline.at(value, clockNow: clockNow, now: now) : Deadline.after(value, now: now)
            t.deadline = max(1, due.monotonic ?? Timer.never)
            // Its expiry must wake poll/select/epoll waiters (fireDueTimers).
            k.timerFDArmed(t)
        }
        k.notifyPollers()
        return 0
    }

    static func timerfdGettime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try timer(k, a.int32(0)).get()
        if let e = k.memory.copyOut(a.address(1), from: currentSetting(k, t)) { throw e }
        return 0
    }
}

extension KernelState {
    /// The longest chain of epoll instances above `ep` (0: none watches it), over the
    /// instances the descriptor table reaches.
    func epollDepthAbove(_ ep: EpollInstance) -> Int {
        var all: [EpollInstance] = []
        func collect(_ e: EpollInstance, _ depth: Int) {
            if all.contains(where: { $0 === e }) || depth > EpollInstance.maximumNesting + 1 { return }
            all.append(e)
            for c in e.children { collect(c, depth + 1) }
        }
        for fd in 0..<files.count { if let e = files[fd]?.object as? EpollInstance { collect(e, 0) } }
        func above(_ e: EpollInstance, _ limit: Int) -> Int {
            if limit < 0 { return 0 }
            var best = 0
            for parent in all where parent.children.contains(where: { $0 === e }) {
                best = max(best, 1 + above(parent, limit - 1))
            }
            return best
        }
        return above(ep, EpollInstance.maximumNesting + 1)
    }

    /// epoll(7)'s edge-triggered mode reports a descriptor again once its readiness fell and
    /// rose. A scan notices a fall only if it happens to run between the two; an object whose
    /// one condition fell while another stays (a socket drained of input stays writable)
    /// calls this when the fall happens, so every interest watching it forgets the bits that
    /// went away, as that scan would have.
    public func readinessFell(of object: any PollableObject) {
        let now = object.pollEvents(self)
        for fd in 0..<files.count {
            guard let f = files[fd], let ep = f.object as? EpollInstance else { continue }
            for i in ep.interests.indices where ep.interests[i].file.object === object {
                ep.interests[i].lastReported &= now
            }
        }
    }
}

// MARK: edge-triggered wake-ups
//
// Linux queues an epoll item on every wake-up of the file it watches (fs/eventpoll.c
// ep_poll_callback), and ep_send_events then reports whatever the file's poll says. So an
// edge-triggered interest sees EPOLLIN again after each write to a pipe or socket that was
// already readable, not only when readiness rises (pipe_write calls wake_up_interruptible_
// sync_poll with EPOLLIN for every write; unix_stream_sendmsg calls sk_data_ready). egg
// keeps, per wake-up source, the epoll instances with an edge-triggered interest in it;
// the writer calls pollWakeup and those interests forget what they last reported, so the
// next epoll_wait reports them once more. The source is the object both ends share: a
// pipe's buffer, the receiving end of an AF_UNIX socket.

extension KernelState {
    /// What a write to `object`'s peer wakes, as a registry key: both ends of a pipe (or a
    /// FIFO) share its buffer; an AF_UNIX socket is woken through its own end. nil: no per-write
    /// wake-ups (TCP and UDP report edges when readiness rises, see README "Not yet").
    func edgeSource(_ object: (any PollableObject)?) -> AnyObject? {
        if let p = object as? PipeEnd { return p.buffer }
        if let f = object as? FifoEnd { return f.channel.buffer }
        if let s = object as? KernelSocket, case .local(let end) = s.backing { return end }
        return nil
    }

    func watchEdges(_ ep: EpollInstance, of object: (any PollableObject)?) {
        guard let source = edgeSource(object) else { return }
        let key = ObjectIdentifier(source)
        var list = epollEdgeWatchers[key] ?? []
        if !list.contains(where: { $0 === ep }) { list.append(ep) }
        epollEdgeWatchers[key] = list
    }

    func unwatchEdges(_ ep: EpollInstance, of object: (any PollableObject)?) {
        guard let source = edgeSource(object) else { return }
        let key = ObjectIdentifier(source)
        guard var list = epollEdgeWatchers[key] else { return }
        list.removeAll { $0 === ep }
        epollEdgeWatchers[key] = list.isEmpty ? nil : list
    }

    /// A write delivered data to `source` (a pipe buffer, a unix socket's receiving end):
    /// every edge-triggered interest watching it for one of `events` reports again.
    public func pollWakeup(source: AnyObject, events: UInt32) {
        guard let watchers = epollEdgeWatchers[ObjectIdentifier(source)] else { return }
        for ep in watchers {
            for i in ep.interests.indices where ep.interests[i].events & events != 0 {
                if edgeSource(ep.interests[i].file.object) === source { ep.interests[i].lastReported = 0 }
            }
        }
    }
}
