// SysVIPCSyscalls — System V message queues (msgget, msgsnd, msgrcv, msgctl) and semaphore
// sets (semget, semop, semtimedop, semctl) (KernelCore layer). Arguments are copied in and
// out here and blocking happens here; the rules are IPC/SysVMessageQueue.swift and
// IPC/SysVSemaphoreSet.swift, ids, keys and permissions IPC/SysVIPC.swift.
//
// msgget(2), msgop(2), msgctl(2), ipc/msg.c, semop(2), semctl(2), ipc/sem.c. As there,
// msgsnd, msgrcv and semop are never restarted after a signal handler (signal(7)): EINTR.
// IPC_RMID wakes every waiter, which then fails with EIDRM. Permission checks use the
// caller's effective ids.
import LinuxABI

enum SysVIPCSyscalls {
    static let ipcRMID = 0, ipcSet = 1, ipcStat = 2, ipcInfo = 3, msgInfo = 12

    static func credentials(_ k: KernelState) -> Credentials { k.currentThread.credentials }

    static func queue(_ k: KernelState, _ id: Int) throws(Errno) -> (perms: IPCPermissions, object: SysVMessageQueue) {
        guard let entry = k.sysvIPC.messageQueues.lookup(id: id) else { throw .EINVAL }
        return entry
    }

    /// msgget(key, msgflg).
    static func msgget(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let now = k.platform.realtimeNanoseconds() / 1_000_000_000
        let make = { () -> Result<SysVMessageQueue, Errno> in .success(SysVMessageQueue(now: now)) }
        return try k.sysvIPC.messageQueues.get(key: a.int32(0), flags: a.uint32(1), credentials(k), make: make).get()
    }

    /// msgsnd(msqid, msgp, msgsz, msgflg): msgp is { long mtype; char mtext[msgsz]; }.
    static func msgsnd(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let id = a.int(0), address = a.address(1), size = a.int(2), flags = a.uint32(3)
        let typeBytes = try k.memory.copyIn(address, count: 8).get()
        let type = Int(Int64(bitPattern: ByteReader(typeBytes).u64(0)))
        guard size >= 0 && size <= SysVMessageQueue.messageMax && id >= 0 else { throw .EINVAL }
        guard type >= 1 else { throw .EINVAL }
        let text = size == 0 ? [] : try k.memory.copyIn(address.advanced(by: 8), count: size).get()
        while true {
            let (perms, q) = try queue(k, id)
            if perms.denies(0o222, credentials(k)) { throw .EACCES }
            if q.fits(size) {
                q.append(SysVMessageQueue.Message(type: type, text: text))
                q.lastSender = k.process.pid
                q.sendTime = k.platform.realtimeNanoseconds() / 1_000_000_000
                k.wake(q.receivers)
                return 0
            }
            if flags & IPCPermissions.noWait != 0 { throw .EAGAIN }
            guard k.wait(on: q.senders) else { throw .EINTR }
            if q.removed { throw .EIDRM }
        }
    }

    /// msgrcv(msqid, msgp, msgsz, msgtyp, msgflg).
    static func msgrcv(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let id = a.int(0), address = a.address(1), size = a.int(2), type = a.int(3), flags = a.uint32(4)
        guard id >= 0 && size >= 0 else { throw .EINVAL }
        if flags & SysVMessageQueue.copy != 0 {
            // MSG_COPY needs CONFIG_CHECKPOINT_RESTORE; without it Linux answers ENOSYS
            // (after checking the flags it is combined with).
            guard flags & SysVMessageQueue.except == 0 && flags & IPCPermissions.noWait != 0 else { throw .EINVAL }
            throw .ENOSYS
        }
        while true {
            let (perms, q) = try queue(k, id)
            if perms.denies(0o444, credentials(k)) { throw .EACCES }
            if let index = q.select(type: type, flags: flags) {
                let length = q.messages[index].text.count
                if length > size && flags & SysVMessageQueue.noError == 0 { throw .E2BIG }
                let m = q.messages[index]
                var w = ByteWriter()
                w.i64(Int64(m.type))
                w.append(Array(m.text.prefix(size)))
                if let e = k.memory.copyOut(address, from: w.bytes) { throw e }
                _ = q.remove(at: index)
                q.lastReceiver = k.process.pid
                q.receiveTime = k.platform.realtimeNanoseconds() / 1_000_000_000
                k.wake(q.senders)
                return min(size, length)
            }
            if flags & IPCPermissions.noWait != 0 { throw .ENOMSG }
            guard k.wait(on: q.receivers) else { throw .EINTR }
            if q.removed { throw .EIDRM }
        }
    }

    /// msgctl(msqid, cmd, buf): IPC_STAT, IPC_SET, IPC_RMID, IPC_INFO and MSG_INFO.
    /// MSG_STAT and MSG_STAT_ANY (index-based) are not offered: EINVAL, as an unknown command.
    static func msgctl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let id = a.int32(0), command = Int(a.int32(1)), buffer = a.address(2)
        guard id >= 0 && command >= 0 else { throw .EINVAL }
        let table = k.sysvIPC.messageQueues
        let c = credentials(k)
        switch command {
        case ipcInfo, msgInfo:
            var w = ByteWriter()
            var messages = 0, bytes = 0
            for (_, entry) in table.objects { messages += entry.object.messages.count; bytes += entry.object.byteCount }
            let info = command == ipcInfo
            w.i32(info ? Int32(32000 * SysVMessageQueue.queueBytesDefault / 1024) : Int32(table.count))  // msgpool
            w.i32(info ? Int32(SysVMessageQueue.queueBytesDefault) : Int32(messages))                    // msgmap
            w.i32(Int32(SysVMessageQueue.messageMax))                                                    // msgmax
            w.i32(Int32(SysVMessageQueue.queueBytesDefault))                                             // msgmnb
            w.i32(Int32(table.limit))                                                                    // msgmni
            w.i32(16)                                                                                    // msgssz
            w.i32(info ? Int32(SysVMessageQueue.queueBytesDefault) : Int32(bytes))                       // msgtql
            w.u16(0xFFFF); w.u16(0)                                                                      // msgseg
            if let e = k.memory.copyOut(buffer, from: w.bytes) { throw e }
            return table.highestIndex
        case ipcStat:
            let (perms, q) = try queue(k, Int(id))
            if perms.denies(0o444, c) { throw .EACCES }
            var w = ByteWriter()
            perms.encode(into: &w)
            w.i64(q.sendTime); w.i64(q.receiveTime); w.i64(q.changeTime)
            w.u64(UInt64(q.byteCount)); w.u64(UInt64(q.messages.count)); w.u64(UInt64(q.byteLimit))
            w.i32(Int32(q.lastSender)); w.i32(Int32(q.lastReceiver))
            w.u64(0); w.u64(0)
            if let e = k.memory.copyOut(buffer, from: w.bytes) { throw e }
            return 0
        case ipcSet:
            let b = try k.memory.copyIn(buffer, count: 120).get()
            let r = ByteReader(b)
            var (perms, q) = try queue(k, Int(id))
            guard perms.mayControl(c) else { throw .EPERM }
            let limit = Int(r.u64(88))
            if limit > SysVMessageQueue.queueBytesDefault && !c.capable(CapabilitySet.sysResource) { throw .EPERM }
            perms.applySet(from: r)
            table.update(id: Int(id), perms)
            q.byteLimit = limit
            q.changeTime = k.platform.realtimeNanoseconds() / 1_000_000_000
            k.wake(q.senders)   // a larger queue may take a waiting message now
            return 0
        case ipcRMID:
            let (perms, q) = try queue(k, Int(id))
            guard perms.mayControl(c) else { throw .EPERM }
            table.remove(id: Int(id))
            q.removed = true
            k.wake(q.senders)
            k.wake(q.receivers)
            return 0
        default:
            throw .EINVAL
        }
    }
}

// MARK: semaphores (semget(2), semop(2), semctl(2), ipc/sem.c)

extension SysVIPCSyscalls {
    static let getPID = 11, getVal = 12, getAll = 13, getNCnt = 14, getZCnt = 15, setVal = 16, setAll = 17
    static let semInfo = 19

    static func semaphoreSet(_ k: KernelState, _ id: Int) throws(Errno) -> (perms: IPCPermissions, object: SysVSemaphoreSet) {
        guard let entry = k.sysvIPC.semaphoreSets.lookup(id: id) else { throw .EINVAL }
        return entry
    }

    static func seconds(_ k: KernelState) -> Int64 { k.platform.realtimeNanoseconds() / 1_000_000_000 }

    /// semget(key, nsems, semflg): nsems above SEMMSL, or 0 when creating, is EINVAL; an
    /// existing set with fewer semaphores than asked for is EINVAL.
    static func semget(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let count = Int(a.int32(1))
        guard count >= 0 && count <= SysVSemaphoreSet.setMax else { throw .EINVAL }
        let now = seconds(k)
        let make = { () -> Result<SysVSemaphoreSet, Errno> in
            count == 0 ? .failure(.EINVAL) : .success(SysVSemaphoreSet(count: count, now: now))
        }
        let check = { (s: SysVSemaphoreSet) -> Errno? in count > s.count ? .EINVAL : nil }
        return try k.sysvIPC.semaphoreSets.get(key: a.int32(0), flags: a.uint32(2), credentials(k),
                                               make: make, check: check).get()
    }

    static func semop(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try semaphoreOperations(k, Int(a.int32(0)), a.address(1), a.int(2), timeout: nil)
    }

    static func semtimedop(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var timeout: Int64? = nil
        if !a.address(3).isNull { timeout = try TimeSyscalls.readTimespec(k, a.address(3)).get() }
        return try semaphoreOperations(k, Int(a.int32(0)), a.address(1), a.int(2), timeout: timeout)
    }

    /// do_semtimedop: nsops < 1 EINVAL, above SEMOPM E2BIG, then the array (EFAULT), the set
    /// (EINVAL), a sem_num past the set EFBIG, permission (alter when any op is non-zero)
    /// EACCES. All operations happen together or the caller waits (EAGAIN with IPC_NOWAIT
    /// or when the timeout passes); IPC_RMID while waiting is EIDRM.
    static func semaphoreOperations(_ k: KernelState, _ id: Int, _ address: UserAddress, _ count: Int,
                                    timeout: Int64?) throws(Errno) -> Int {
        guard count >= 1 else { throw .EINVAL }
        guard count <= SysVSemaphoreSet.operationsMax else { throw .E2BIG }
        let bytes = try k.memory.copyIn(address, count: count * 6).get()
        let r = ByteReader(bytes)
        var ops: [SysVSemaphoreSet.Operation] = []
        for i in 0..<count {
            ops.append(.init(number: Int(UInt16(truncatingIfNeeded: r.u32(i * 6))),
                             delta: Int(Int16(bitPattern: UInt16(truncatingIfNeeded: r.u32(i * 6) >> 16))),
                             flags: Int16(bitPattern: UInt16(bytes[i * 6 + 4]) | UInt16(bytes[i * 6 + 5]) << 8)))
        }
        let deadline = timeout.map { Deadline.after($0, now: k.platform.monotonicNanoseconds()) }
        while true {
            let (perms, set) = try semaphoreSet(k, id)
            if ops.contains(where: { $0.number >= set.count }) { throw .EFBIG }
            if perms.denies(ops.contains { $0.delta != 0 } ? 0o222 : 0o444, credentials(k)) { throw .EACCES }
            switch set.perform(ops, pid: k.process.pid, now: seconds(k)) {
            case .done:
                k.wake(set.waiters)
                return 0
            case .failed(let e):
                throw e
            case .blocked(let op):
                if op.flags & SysVSemaphoreSet.noWait != 0 { throw .EAGAIN }
                if let deadline, deadline.hasPassed(now: k.platform.monotonicNanoseconds()) { throw .EAGAIN }
                set.blockedOn.append(op)
                let woken = k.wait(on: set.waiters, deadline: deadline?.monotonic)
                if let i = set.blockedOn.firstIndex(of: op) { set.blockedOn.remove(at: i) }
                guard woken else { throw .EINTR }
                if set.removed { throw .EIDRM }
            }
        }
    }

    /// semctl(semid, semnum, cmd, arg): arg is the union semun, passed by value (an int or
    /// a pointer) in the fourth register.
    static func semctl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let id = a.int32(0), number = Int(a.int32(1)), command = Int(a.int32(2)), argument = a.address(3)
        guard id >= 0 && command >= 0 else { throw .EINVAL }
        let table = k.sysvIPC.semaphoreSets
        let c = credentials(k)
        switch command {
        case ipcInfo, semInfo:
            var total = 0
            for (_, entry) in table.objects { total += entry.object.count }
            var w = ByteWriter()
            // struct seminfo: semmap semmni semmns semmnu semmsl semopm semume semusz semvmx semaem
            let info = command == ipcInfo
            for v in [info ? 1024000000 : table.count, table.limit, info ? 1024000000 : total, 1024000000,
                      SysVSemaphoreSet.setMax, SysVSemaphoreSet.operationsMax, SysVSemaphoreSet.operationsMax,
                      info ? 20 : total, SysVSemaphoreSet.valueMax, SysVSemaphoreSet.adjustMax] {
                w.i32(Int32(truncatingIfNeeded: v))
            }
            if let e = k.memory.copyOut(argument, from: w.bytes) { throw e }
            return table.highestIndex
        case ipcRMID:
            let (perms, set) = try semaphoreSet(k, Int(id))
            guard perms.mayControl(c) else { throw .EPERM }
            table.remove(id: Int(id))
            set.removed = true
            k.wake(set.waiters)
            return 0
        case ipcSet:
            let b = try k.memory.copyIn(argument, count: 48).get()
            let r = ByteReader(b)
            var (perms, set) = try semaphoreSet(k, Int(id))
            guard perms.mayControl(c) else { throw .EPERM }
            perms.applySet(from: r)
            table.update(id: Int(id), perms)
            set.changeTime = seconds(k)
            return 0
        case ipcStat:
            let (perms, set) = try semaphoreSet(k, Int(id))
            if perms.denies(0o444, c) { throw .EACCES }
            var w = ByteWriter()
            perms.encode(into: &w)
            w.i64(set.operationTime); w.u64(0); w.i64(set.changeTime); w.u64(0)
            w.u64(UInt64(set.count)); w.u64(0); w.u64(0)
            if let e = k.memory.copyOut(argument, from: w.bytes) { throw e }
            return 0
        case getPID, getVal, getNCnt, getZCnt:
            let (perms, set) = try semaphoreSet(k, Int(id))
            if perms.denies(0o444, c) { throw .EACCES }
            guard number >= 0 && number < set.count else { throw .EINVAL }
            switch command {
            case getPID: return set.lastPIDs[number]
            case getVal: return set.values[number]
            case getNCnt: return set.waitingCount(number, forZero: false)
            default: return set.waitingCount(number, forZero: true)
            }
        case getAll:
            let (perms, set) = try semaphoreSet(k, Int(id))
            if perms.denies(0o444, c) { throw .EACCES }
            var w = ByteWriter()
            for v in set.values { w.u16(UInt16(v)) }
            if let e = k.memory.copyOut(argument, from: w.bytes) { throw e }
            return 0
        case setVal:
            let (perms, set) = try semaphoreSet(k, Int(id))
            guard number >= 0 && number < set.count else { throw .EINVAL }
            let value = Int(Int32(truncatingIfNeeded: argument.value))
            guard value >= 0 && value <= SysVSemaphoreSet.valueMax else { throw .ERANGE }
            if perms.denies(0o222, c) { throw .EACCES }
            set.set(number, to: value, pid: k.process.pid, now: seconds(k))
            k.wake(set.waiters)
            return 0
        case setAll:
            let (perms, set) = try semaphoreSet(k, Int(id))
            if perms.denies(0o222, c) { throw .EACCES }
            let b = try k.memory.copyIn(argument, count: set.count * 2).get()
            var values: [Int] = []
            for i in 0..<set.count { values.append(Int(UInt16(b[2 * i]) | UInt16(b[2 * i + 1]) << 8)) }
            if values.contains(where: { $0 > SysVSemaphoreSet.valueMax }) { throw .ERANGE }
            for (i, v) in values.enumerated() { set.set(i, to: v, pid: k.process.pid, now: seconds(k)) }
            k.wake(set.waiters)
            return 0
        default:
            throw .EINVAL
        }
    }
}
