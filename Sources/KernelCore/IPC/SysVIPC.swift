// SysVIPC — what System V message queues, semaphore sets and shared memory segments share:
// the ipc_perm record with its access rule, keys and ids, and the namespace that holds the
// objects (KernelCore layer, pure logic; host-tested in Tests/KernelCoreTests/SysVIPCTests.swift).
//
// Follows ipc/util.c (ipcget, ipc_addid's ids, ipcperms, ipc_update_perm) and svipc(7).
// The objects themselves are SysVMessageQueue.swift and SysVSemaphoreSet.swift; the syscalls that copy arguments
// in and out are Syscalls/SysVIPCSyscalls.swift; credentials are Process/Credentials.swift.
import LinuxABI

/// struct kern_ipc_perm: the key, owner, creator and mode of one IPC object.
public struct IPCPermissions: Equatable {
    public var key: Int32
    public var uid: UInt32, gid: UInt32, cuid: UInt32, cgid: UInt32
    /// The nine permission bits (the object's type bits are not stored).
    public var mode: UInt32
    public var sequence: UInt16

    public static let create: UInt32 = 0o1000, exclusive: UInt32 = 0o2000, noWait: UInt32 = 0o4000
    public static let privateKey: Int32 = 0

    public init(key: Int32, mode: UInt32, creator c: Credentials, sequence: UInt16) {
        self.key = key
        uid = c.euid; cuid = c.euid
        gid = c.egid; cgid = c.egid
        self.mode = mode & 0o777
        self.sequence = sequence
    }

    /// ipcperms: `requested` is permission bits in any class (flags & 0o777 of the get call,
    /// or 0o400/0o200 for reading/writing, as S_IRUGO/S_IWUGO); the owner class applies to
    /// the owner or creator (effective uid), the group class to the owner's or creator's group
    /// (effective gid and supplementary groups); CAP_IPC_OWNER bypasses.
    public func denies(_ requested: UInt32, _ c: Credentials) -> Bool {
        let wanted = (requested >> 6 | requested >> 3 | requested) & 7
        var granted = mode
        if c.euid == cuid || c.euid == uid { granted >>= 6 }
        else if c.egid == cgid || c.egid == gid || c.groups.contains(cgid) || c.groups.contains(gid) { granted >>= 3 }
        return wanted & ~granted & 7 != 0 && !c.capable(CapabilitySet.ipcOwner)
    }

    /// IPC_SET and IPC_RMID (ipcctl_obtain_check): the owner or creator, or CAP_SYS_ADMIN.
    public func mayControl(_ c: Credentials) -> Bool {
        c.euid == uid || c.euid == cuid || c.capable(CapabilitySet.sysAdmin)
    }

    /// struct ipc64_perm as x86-64 lays it out (48 bytes).
    public func encode(into w: inout ByteWriter) {
        w.i32(key); w.u32(uid); w.u32(gid); w.u32(cuid); w.u32(cgid); w.u32(mode)
        w.u16(sequence); w.u16(0); w.u32(0); w.u64(0); w.u64(0)
    }

    /// IPC_SET of msgctl, semctl and shmctl: the owner and the permission bits come from the
    /// struct ipc64_perm at the start of the caller's buffer (ipc_update_perm in ipc/util.c);
    /// key, creator and sequence stay.
    public mutating func applySet(from r: ByteReader) {
        uid = r.u32(4)
        gid = r.u32(8)
        mode = r.u32(20) & 0o777
    }
}

/// One kind of IPC object (msg, sem, shm) in the IPC namespace: ids built as Linux does
/// (index + sequence * 32768, so a recycled index gets a new id), lookup by key.
public final class IPCObjectTable<Object: AnyObject> {
    public static var indexLimit: Int { 32768 }   // IPCMNI
    public private(set) var objects: [Int: (perms: IPCPermissions, object: Object)] = [:]
    var sequence: UInt16 = 0
    /// msgmni/semmni/shmmni: how many may exist (ENOSPC past it).
    public var limit: Int

    public init(limit: Int) { self.limit = limit }

    public var count: Int { objects.count }
    public var highestIndex: Int { objects.keys.map { $0 % IPCObjectTable.indexLimit }.max() ?? 0 }

    public func lookup(id: Int) -> (perms: IPCPermissions, object: Object)? {
        guard id >= 0 else { return nil }
        return objects[id]
    }

    public func id(forKey key: Int32) -> Int? {
        guard key != IPCPermissions.privateKey else { return nil }
        for (id, entry) in objects where entry.perms.key == key { return id }
        return nil
    }

    /// ipcget: the id of `key` (checking IPC_EXCL and the requested permissions), or a new
    /// object when IPC_PRIVATE or IPC_CREAT allows. `make` builds it, or fails (EINVAL).
    public func get(key: Int32, flags: UInt32, _ c: Credentials,
                    make: () -> Result<Object, Errno>, check: (Object) -> Errno? = { _ in nil }) -> Result<Int, Errno> {
        if let id = id(forKey: key), let entry = objects[id] {
            if flags & IPCPermissions.create != 0 && flags & IPCPermissions.exclusive != 0 { return .failure(.EEXIST) }
            if entry.perms.denies(flags & 0o777, c) { return .failure(.EACCES) }
            if let e = check(entry.object) { return .failure(e) }
            return .success(id)
        }
        if key != IPCPermissions.privateKey && flags & IPCPermissions.create == 0 { return .failure(.ENOENT) }
        guard objects.count < limit else { return .failure(.ENOSPC) }
        var index = 0
        while objects.keys.contains(where: { $0 % IPCObjectTable.indexLimit == index }) { index += 1 }
        let object: Object
        switch make() {
        case .failure(let e): return .failure(e)
        case .success(let o): object = o
        }
        let id = index + Int(sequence) * IPCObjectTable.indexLimit
        objects[id] = (IPCPermissions(key: key, mode: flags, creator: c, sequence: sequence), object)
        sequence = sequence &+ 1   // 65535 * 32768 + 32767 is still a positive int32
        return .success(id)
    }

    public func update(id: Int, _ perms: IPCPermissions) { objects[id]?.perms = perms }
    public func remove(id: Int) { objects[id] = nil }
}

/// The IPC namespace's objects (one per machine: egg has one namespace).
public final class SysVIPCNamespace {
    /// msgmni default (ipc/msg.c MSGMNI 32000).
    public let messageQueues = IPCObjectTable<SysVMessageQueue>(limit: 32000)
    /// semmni default (ipc/sem.c SEMMNI 32000).
    public let semaphoreSets = IPCObjectTable<SysVSemaphoreSet>(limit: 32000)
    /// shmmni default (ipc/shm.c SHMMNI 4096).
    public let sharedMemory = IPCObjectTable<SysVSharedMemorySegment>(limit: 4096)
    public init() {}

    /// Segments marked SHM_DEST whose last attach went (at shmdt, exit or exec) leave the
    /// table; their frames already went with the file. Run before each shm call looks.
    public func sweepDestroyedSegments() {
        var gone: [Int] = []
        for (id, entry) in sharedMemory.objects where entry.object.destroyed && entry.object.attachCount == 0 {
            gone.append(id)
        }
        for id in gone { sharedMemory.remove(id: id) }
    }

    /// exit_sem: a process's SEM_UNDO adjustments are applied when it exits. With one
    /// process the machine ends with it; the process table calls this once processes can
    /// exit separately. Returns the sets changed (their waiters should be woken).
    public func applySemaphoreUndo(pid: Int) -> [SysVSemaphoreSet] {
        var changed: [SysVSemaphoreSet] = []
        for (_, entry) in semaphoreSets.objects where entry.object.adjustments[pid] != nil {
            entry.object.applyUndo(pid: pid)
            changed.append(entry.object)
        }
        return changed
    }
}
