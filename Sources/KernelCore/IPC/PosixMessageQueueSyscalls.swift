// PosixMessageQueueSyscalls — mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify
// and mq_getsetattr, and the descriptor a queue is opened as (KernelCore/IPC).
//
// The queue, its limits and the name space are PosixMessageQueue.swift (pure). The order of
// the checks and the errors follow ipc/mqueue.c (do_mq_open, prepare_open, do_mq_timedsend,
// do_mq_timedreceive, do_mq_notify, do_mq_getsetattr) and mq_open(3), mq_send(3),
// mq_receive(3), mq_notify(3), mq_getattr(3). Descriptors are PollableObjects
// (Events/PollableObject.swift), so poll, select and epoll see POLLIN/POLLOUT.
import LinuxABI

/// An open queue: one per open file description (dup and fork share it).
public final class MessageQueueFile: PollableObject {
    let queue: PosixMessageQueue
    let name: [UInt8]
    /// Where a read(2) of the status text is (ipc/mqueue.c mqueue_read_file).
    var textOffset = 0

    init(queue: PosixMessageQueue, name: [UInt8]) {
        self.queue = queue
        self.name = name
        queue.openDescriptions += 1
    }

    /// A regular file of the mqueue file system, with the queue's mode.
    public var fileMode: UInt32 { 0o100000 | queue.mode }

    public func pollEvents(_ k: KernelState) -> UInt32 {
        var e: UInt32 = 0
        if !queue.store.isEmpty { e |= PollEvents.input | 0x40 }     // POLLRDNORM
        if !queue.store.isFull { e |= PollEvents.output | 0x100 }    // POLLWRNORM
        return e
    }

    /// read(2) gives the queue's status line, as Linux's mqueue_read_file.
    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        var text = "QSIZE:" + MessageQueueFile.padded(String(queue.store.totalBytes), 10)
        let n = queue.notification
        let notify = n == nil ? 0 : (n!.signal == 0 ? 1 : 0)   // SIGEV_NONE 1, SIGEV_SIGNAL 0
        text += " NOTIFY:" + MessageQueueFile.padded(String(notify), 5)
        text += " SIGNO:" + MessageQueueFile.padded(String(n?.signal ?? 0), 5)
        text += " NOTIFY_PID:" + String(n?.pid ?? 0) + "\n"
        let bytes = Array(text.utf8)
        guard textOffset < bytes.count, count > 0 else { return 0 }
        let chunk = Array(bytes[textOffset..<min(bytes.count, textOffset + count)])
        if let e = k.memory.copyOut(address, from: chunk) { throw e }
        textOffset += chunk.count
        return chunk.count
    }

    static func padded(_ s: String, _ width: Int) -> String {
        var s = s
        while s.utf8.count < width { s += " " }
        return s
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        throw .EINVAL
    }

    /// The last descriptor closed: a notification the closing process registered goes
    /// (mqueue_flush_file), and an unlinked queue gives back its bytes.
    public func closed(_ k: KernelState) {
        if queue.notification?.pid == k.process.pid { queue.notification = nil }
        queue.openDescriptions -= 1
        k.messageQueues.releaseIfUnused(queue)
    }
}

extension MessageQueueNamespace {
    /// An unlinked queue with no open description left is gone: its bytes go back to its
    /// creator's RLIMIT_MSGQUEUE budget (mqueue_evict_inode).
    func releaseIfUnused(_ q: PosixMessageQueue) {
        guard q.unlinked, q.openDescriptions == 0, q.reservedBytes > 0 else { return }
        bytesByUser[q.creatorUID, default: 0] -= q.reservedBytes
        q.reservedBytes = 0
    }
}

enum MessageQueueSyscalls {
    static let oCreat: UInt64 = 0o100, oExcl: UInt64 = 0o200, oNonblock: UInt64 = 0o4000

    static func readName(_ k: KernelState, _ address: UserAddress) throws(Errno) -> [UInt8] {
        let name = try k.memory.readCString(address, maximum: 4096).get()
        if let e = MessageQueueNamespace.checkName(name) { throw e }
        return name
    }

    /// The queue open at `fd`, and its file (EBADF for anything else, as fdget + the
    /// f_op check in do_mq_timedsend).
    static func queueFile(_ k: KernelState, _ fd: Int32) throws(Errno) -> (OpenFile, MessageQueueFile) {
        guard fd >= 0, Int(fd) < k.files.count, let f = k.files[Int(fd)],
              let q = f.object as? MessageQueueFile else { throw .EBADF }
        return (f, q)
    }

    /// An absolute CLOCK_REALTIME timeout (mq_timedsend(3)), read and checked before anything
    /// else as Linux's prepare_timeout (EINVAL for a bad tv_nsec or a negative tv_sec).
    static func absoluteDeadline(_ k: KernelState, _ address: UserAddress) throws(Errno) -> Deadline {
        guard !address.isNull else { return .never }
        let target = try TimeSyscalls.readTimespec(k, address).get()
        return .at(target, clockNow: k.realtimeNow(), now: k.platform.monotonicNanoseconds())
    }

    /// mq_open(name, oflag, mode, attr). Descriptors are always close-on-exec
    /// (do_mq_open's get_unused_fd_flags(O_CLOEXEC)).
    static func mqOpen(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[1]
        let name = try readName(k, a.address(0))
        let accessMode = flags & 3
        guard accessMode != 3 else { throw .EINVAL }
        guard FileSyscalls.lowestFreeDescriptor(k, from: 0) != nil else { throw .EMFILE }
        let c = k.currentThread.credentials
        let ns = k.messageQueues
        let wanted: UInt32 = accessMode == 0 ? 4 : (accessMode == 1 ? 2 : 6)
        let queue: PosixMessageQueue
        if let existing = ns.queues[name] {
            if flags & oCreat != 0 && flags & oExcl != 0 { throw .EEXIST }
            if existing.denies(wanted, c) { throw .EACCES }
            queue = existing
        } else {
            guard flags & oCreat != 0 else { throw .ENOENT }
            var attr = MessageQueueAttributes(flags: 0, maxMessages: Int64(MessageQueueLimits.messagesDefault),
                                              messageSize: Int64(MessageQueueLimits.messageSizeDefault), currentMessages: 0)
            if !a.address(3).isNull {
                attr = MessageQueueAttributes(try k.memory.copyIn(a.address(3), count: MessageQueueAttributes.byteSize).get())
                if let e = MessageQueueLimits.validate(attr, privileged: c.capable(CapabilitySet.sysResource)) { throw e }
            }
            if ns.queues.count >= MessageQueueLimits.queuesMax && !c.capable(CapabilitySet.sysResource) { throw .ENOSPC }
            let mode = UInt32(truncatingIfNeeded: a[2]) & ~k.process.umask & 0o777
            let q = PosixMessageQueue(maxMessages: Int(attr.maxMessages), messageSize: Int(attr.messageSize),
                                      uid: c.fsuid, gid: c.fsgid, mode: mode)
            q.creatorUID = c.uid
            // RLIMIT_MSGQUEUE: the creator's queues may reserve this many bytes (EMFILE beyond).
            let used = ns.bytesByUser[c.uid, default: 0]
            guard used + q.reservedBytes <= MessageQueueLimits.userBytes else { throw .EMFILE }
            ns.bytesByUser[c.uid] = used + q.reservedBytes
            ns.queues[name] = q
            queue = q
        }
        let file = MessageQueueFile(queue: queue, name: name)
        do {
            return try k.installObject(file, flags: accessMode | (flags & oNonblock), closeOnExec: true)
        } catch {
            queue.openDescriptions -= 1
            throw error
        }
    }

    /// mq_unlink(name): the name goes at once; open descriptors keep the queue. The mqueue
    /// root is sticky (01777), so only the queue's owner or CAP_FOWNER may remove it.
    static func mqUnlink(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let name = try readName(k, a.address(0))
        let ns = k.messageQueues
        guard let q = ns.queues[name] else { throw .ENOENT }
        let c = k.currentThread.credentials
        if c.fsuid != q.uid && c.fsuid != 0 && !c.capable(CapabilitySet.fowner) { throw .EPERM }
        ns.queues[name] = nil
        q.unlinked = true
        ns.releaseIfUnused(q)
        return 0
    }

    /// mq_timedsend(mqdes, msg, len, prio, abs_timeout).
    static func mqTimedsend(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let deadline = try absoluteDeadline(k, a.address(4))
        let priority = a[3]
        guard priority < UInt64(MessageQueueLimits.priorityMax) else { throw .EINVAL }
        let (file, mq) = try queueFile(k, a.int32(0))
        guard file.statusFlags & 3 != 0 else { throw .EBADF }   // not open for writing
        let q = mq.queue
        let length = Int(a[2])
        guard a[2] <= UInt64(q.store.messageSize) else { throw .EMSGSIZE }
        let body = try k.memory.copyIn(a.address(1), count: length).get()
        while q.store.isFull {
            if file.statusFlags & oNonblock != 0 { throw .EAGAIN }
            if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) { throw .ETIMEDOUT }
            guard k.wait(on: q.senders, deadline: deadline.monotonic) else { throw .EINTR }
        }
        q.store.insert(body, priority: UInt32(priority))
        // __do_notify: the queue went from empty to one message and no receiver waits.
        if q.store.count == 1 && q.waitingReceivers == 0, let n = q.notification {
            q.notification = nil
            if n.signal != 0, let owner = k.processes[n.pid], !owner.exiting {
                let me = k.currentThread
                let info = Siginfo(signal: Int32(n.signal), code: -3,    // SI_MESGQ
                                   detail: .queued(pid: Int32(k.process.pid), uid: me.credentials.uid, value: n.value))
                try? k.postQueuedSignal(info, to: owner, thread: nil)
            }
        }
        k.wake(q.receivers)
        k.notifyPollers()
        return 0
    }

    /// mq_timedreceive(mqdes, msg, len, prio*, abs_timeout): the oldest message of the
    /// highest priority; EMSGSIZE when the buffer is smaller than mq_msgsize.
    static func mqTimedreceive(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let deadline = try absoluteDeadline(k, a.address(4))
        let (file, mq) = try queueFile(k, a.int32(0))
        guard file.statusFlags & 3 != 1 else { throw .EBADF }   // not open for reading
        let q = mq.queue
        guard a[2] >= UInt64(q.store.messageSize) else { throw .EMSGSIZE }
        while q.store.isEmpty {
            if file.statusFlags & oNonblock != 0 { throw .EAGAIN }
            if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) { throw .ETIMEDOUT }
            q.waitingReceivers += 1
            let woken = k.wait(on: q.receivers, deadline: deadline.monotonic)
            q.waitingReceivers -= 1
            guard woken else { throw .EINTR }
        }
        guard let m = q.store.takeFirst() else { throw .EAGAIN }
        k.wake(q.senders)
        k.notifyPollers()
        if let e = k.memory.copyOut(a.address(1), from: m.body) { throw e }
        if !a.address(3).isNull, let e = k.memory.writeUInt32(a.address(3), m.priority) { throw e }
        return m.body.count
    }

    static let sigevSignal: Int32 = 0, sigevNone: Int32 = 1, sigevThread: Int32 = 2

    /// mq_notify(mqdes, sevp). SIGEV_THREAD is the C library's: it passes a netlink socket in
    /// sigev_signo, and egg has no AF_NETLINK, so the libraries fail earlier at socket();
    /// a raw call is answered as Linux's netlink_getsockbyfilp would for what it names.
    static func mqNotify(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var request: MessageQueueNotification? = nil
        if !a.address(1).isNull {
            let b = try k.memory.copyIn(a.address(1), count: 64).get()
            let r = ByteReader(b)
            let value = r.u64(0)
            let signo = Int32(bitPattern: r.u32(8)), how = Int32(bitPattern: r.u32(12))
            switch how {
            case sigevNone:
                request = MessageQueueNotification(pid: k.process.pid, signal: 0, value: value)
            case sigevSignal:
                guard SignalSyscalls.validSignal(Int(signo)) else { throw .EINVAL }
                request = MessageQueueNotification(pid: k.process.pid, signal: Int(signo), value: value)
            case sigevThread:
                guard signo >= 0, Int(signo) < k.files.count, let f = k.files[Int(signo)] else { throw .EBADF }
                _ = f
                throw .ENOTSOCK   // only a netlink socket will do, and egg has none
            default:
                throw .EINVAL
            }
        }
        let (_, mq) = try queueFile(k, a.int32(0))
        let q = mq.queue
        guard let request else {
            if q.notification?.pid == k.process.pid { q.notification = nil }
            return 0
        }
        guard q.notification == nil else { throw .EBUSY }
        q.notification = request
        return 0
    }

    /// mq_getsetattr(mqdes, newattr, oldattr): only O_NONBLOCK may change.
    static func mqGetsetattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var newFlags: Int64? = nil
        if !a.address(1).isNull {
            let attr = MessageQueueAttributes(try k.memory.copyIn(a.address(1), count: MessageQueueAttributes.byteSize).get())
            guard attr.flags & ~Int64(oNonblock) == 0 else { throw .EINVAL }
            newFlags = attr.flags
        }
        let (file, mq) = try queueFile(k, a.int32(0))
        let q = mq.queue
        if !a.address(2).isNull {
            let old = MessageQueueAttributes(flags: Int64(file.statusFlags & oNonblock), maxMessages: Int64(q.store.capacity),
                                             messageSize: Int64(q.store.messageSize), currentMessages: Int64(q.store.count))
            if let e = k.memory.copyOut(a.address(2), from: old.encode()) { throw e }
        }
        if let newFlags {
            file.statusFlags = (file.statusFlags & ~oNonblock) | (UInt64(newFlags) & oNonblock)
        }
        return 0
    }
}
