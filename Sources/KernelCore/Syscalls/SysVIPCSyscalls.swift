// SysVIPCSyscalls — System V message queues: msgget, msgsnd, msgrcv, msgctl (KernelCore
// layer). Arguments are copied in and out here and blocking happens here; the queue rules
// are IPC/SysVMessageQueue.swift, ids, keys and permissions IPC/SysVIPC.swift.
//
// msgget(2), msgop(2), msgctl(2), ipc/msg.c. As there, msgsnd and msgrcv are never
// restarted after a signal handler (signal(7)): they fail with EINTR. IPC_RMID wakes every
// waiter, which then fails with EIDRM. Permission checks use the caller's effective ids.
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
            perms.uid = r.u32(4)
            perms.gid = r.u32(8)
            perms.mode = r.u32(20) & 0o777
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
