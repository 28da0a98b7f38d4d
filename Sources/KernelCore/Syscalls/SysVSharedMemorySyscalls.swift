// SysVSharedMemorySyscalls — System V shared memory: shmget, shmat, shmdt, shmctl
// (KernelCore layer). The segment and its attach count are IPC/SysVSharedMemory.swift, ids,
// keys and permissions IPC/SysVIPC.swift; an attach is a MAP_SHARED mapping of the segment's
// file (Syscalls/MemorySyscalls.swift mapFile, Process/FileMappingFaults.swift).
//
// shmget(2), shmop(2), shmctl(2), ipc/shm.c (newseg, do_shmat, ksys_shmdt, shmctl_*).
// Limits are Linux's defaults (include/uapi/linux/shm.h): SHMMIN 1, SHMMAX and SHMALL
// ULONG_MAX - 2^24 (bytes and pages), SHMMNI 4096; a segment larger than RAM is ENOMEM, as
// the shmem file's memory accounting refuses it. SHMLBA is the page size on x86-64.
import LinuxABI

extension SysVIPCSyscalls {
    static let shmLock = 11, shmUnlock = 12, shmInfo = 14
    static let shmReadOnly: UInt32 = 0o10000, shmRound: UInt32 = 0o20000, shmRemap: UInt32 = 0o40000
    static let shmExec: UInt32 = 0o100000
    static let shmMax: UInt64 = UInt64.max - (1 << 24), shmAll: UInt64 = UInt64.max - (1 << 24)

    static func segment(_ k: KernelState, _ id: Int) throws(Errno) -> (perms: IPCPermissions, object: SysVSharedMemorySegment) {
        k.sysvIPC.sweepDestroyedSegments()
        guard let entry = k.sysvIPC.sharedMemory.lookup(id: id) else { throw .EINVAL }
        return entry
    }

    /// shmget(key, size, shmflg): a size below SHMMIN or above SHMMAX is EINVAL when
    /// creating, and so is an existing segment smaller than `size` (shm_more_checks); past
    /// SHMALL pages in all ENOSPC; more than RAM ENOMEM.
    static func shmget(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let size = a[1]
        k.sysvIPC.sweepDestroyedSegments()
        let table = k.sysvIPC.sharedMemory
        var totalPages = 0
        for (_, entry) in table.objects { totalPages += entry.object.pageCount }
        let store = k.fileBlocks, pid = k.process.pid, now = seconds(k), ram = k.frames.totalBytes
        let make = { () -> Result<SysVSharedMemorySegment, Errno> in
            guard size >= 1 && size <= shmMax else { return .failure(.EINVAL) }
            let pages = (size + 4095) / 4096
            if UInt64(totalPages) + pages < UInt64(totalPages) || UInt64(totalPages) + pages > shmAll { return .failure(.ENOSPC) }
            if size > ram { return .failure(.ENOMEM) }
            return .success(SysVSharedMemorySegment(size: Int(size), store: store, pid: pid, now: now))
        }
        let check = { (s: SysVSharedMemorySegment) -> Errno? in size > UInt64(s.size) ? .EINVAL : nil }
        return try table.get(key: a.int32(0), flags: a.uint32(2), credentials(k), make: make, check: check).get()
    }

    /// shmat(shmid, shmaddr, shmflg) — do_shmat: an address not on a SHMLBA boundary is
    /// rounded down with SHM_RND, EINVAL without; a given address is MAP_FIXED and must be
    /// free unless SHM_REMAP (EINVAL); SHM_REMAP without an address is EINVAL. SHM_RDONLY
    /// maps read-only and asks for read permission only. A segment marked for removal can
    /// still be attached while attaches remain (Linux-specific, shmat(2) NOTES).
    static func shmat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let id = Int(a.int32(0)), flags = a.uint32(2)
        var address = a[1]
        guard id >= 0 else { throw .EINVAL }
        var placement = MappingPlacement.hint
        if address != 0 {
            if address & 0xFFF != 0 {
                guard flags & shmRound != 0 else { throw .EINVAL }
                address &= ~0xFFF
                if address == 0 && flags & shmRemap != 0 { throw .EINVAL }
            }
            placement = flags & shmRemap != 0 ? .fixed : .fixedNoReplace
        } else if flags & shmRemap != 0 {
            throw .EINVAL
        }
        let readOnly = flags & shmReadOnly != 0
        var prot: MemoryProtection = readOnly ? .read : .readWrite
        var access: UInt32 = readOnly ? 0o444 : 0o666
        if flags & shmExec != 0 { prot.insert(.execute); access |= 0o111 }
        let (perms, s) = try segment(k, id)
        if perms.denies(access, credentials(k)) { throw .EACCES }
        guard let file = s.file else { throw .EIDRM }
        let handle = k.memory.registerFileMapping(file, store: k.fileBlocks)
        s.attached(handle: handle)
        let length = UInt64(s.pageCount) * 4096
        var name: [UInt8] = Array("/SYSV".utf8)
        appendHex(UInt64(UInt32(bitPattern: perms.key)), minimumDigits: 8, to: &name)
        if s.destroyed { name += Array(" (deleted)".utf8) }
        let mapped: UInt64
        switch k.memory.map.map(at: address == 0 ? 0 : address, length: length, protection: prot, placement: placement,
                                backing: .file(handle: handle, offset: 0), shared: true,
                                name: String(decoding: name, as: UTF8.self), mayWrite: !readOnly) {
        case .failure(let e):
            k.memory.forgetUnmappedFiles()
            throw e == .EEXIST ? .EINVAL : e
        case .success(let result):
            for range in result.replaced { k.memory.release(range) }
            mapped = result.address
        }
        k.memory.forgetUnmappedFiles()   // SHM_REMAP may have replaced another file's area
        s.attachTime = seconds(k)
        s.lastPID = k.process.pid
        return Int(mapped)
    }

    /// The segment whose file has mapping handle `handle`, if any.
    static func segment(handle: UInt64, _ k: KernelState) -> SysVSharedMemorySegment? {
        guard handle != 0 else { return nil }
        for (_, entry) in k.sysvIPC.sharedMemory.objects where entry.object.handle == handle { return entry.object }
        return nil
    }

    /// shmdt(shmaddr) — ksys_shmdt: the attach must begin at `shmaddr` (an area of a segment
    /// whose offset matches its distance from shmaddr); every such area of that segment
    /// within the segment's size from shmaddr is unmapped. None: EINVAL.
    static func shmdt(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let address = a[0]
        guard address & 0xFFF == 0 else { throw .EINVAL }
        var found: SysVSharedMemorySegment? = nil
        var ranges: [AddressRange] = []
        for area in k.memory.map.areas where area.start >= address {
            guard case .file(let handle, let offset) = area.backing, offset == area.start - address else { continue }
            if let f = found {
                guard handle == f.handle, area.start < address + UInt64(f.pageCount) * 4096 else { continue }
            } else {
                guard area.start == address, let s = segment(handle: handle, k) else { continue }
                found = s
            }
            ranges.append(AddressRange(start: area.start, end: min(area.end, address + UInt64(found!.pageCount) * 4096)))
        }
        guard let s = found else { throw .EINVAL }
        for r in ranges {
            let removed = try k.memory.map.unmap(start: r.start, length: r.length).get()
            for piece in removed { k.memory.release(piece) }
        }
        k.memory.forgetUnmappedFiles()
        s.detachTime = seconds(k)
        s.lastPID = k.process.pid
        k.sysvIPC.sweepDestroyedSegments()
        return 0
    }

    /// shmctl(shmid, cmd, buf): IPC_STAT, IPC_SET, IPC_RMID, IPC_INFO, SHM_INFO, SHM_LOCK and
    /// SHM_UNLOCK. SHM_STAT and SHM_STAT_ANY (index-based) are not offered: EINVAL, as an
    /// unknown command.
    static func shmctl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let id = a.int32(0), command = Int(a.int32(1)), buffer = a.address(2)
        guard id >= 0 && command >= 0 else { throw .EINVAL }
        k.sysvIPC.sweepDestroyedSegments()
        let table = k.sysvIPC.sharedMemory
        let c = credentials(k)
        switch command {
        case ipcInfo:
            // struct shminfo64: shmmax shmmin shmmni shmseg shmall, four unused longs.
            var w = ByteWriter()
            for v in [shmMax, 1, UInt64(table.limit), 4096, shmAll, 0, 0, 0, 0] { w.u64(v) }
            if let e = k.memory.copyOut(buffer, from: w.bytes) { throw e }
            return table.highestIndex
        case shmInfo:
            // struct shm_info: int used_ids; shm_tot shm_rss shm_swp swap_attempts swap_successes.
            var total = 0, resident = 0
            for (_, entry) in table.objects {
                total += entry.object.pageCount
                resident += entry.object.file?.allocatedBlocks ?? 0
            }
            var w = ByteWriter()
            w.i32(Int32(table.count)); w.u32(0)
            for v in [total, resident, 0, 0, 0] { w.u64(UInt64(v)) }
            if let e = k.memory.copyOut(buffer, from: w.bytes) { throw e }
            return table.highestIndex
        case ipcStat:
            let (perms, s) = try segment(k, Int(id))
            if perms.denies(0o444, c) { throw .EACCES }
            var shown = perms
            shown.mode |= s.statusBits
            var w = ByteWriter()
            shown.encode(into: &w)   // struct shmid64_ds
            w.u64(UInt64(s.size)); w.i64(s.attachTime); w.i64(s.detachTime); w.i64(s.changeTime)
            w.i32(Int32(s.creatorPID)); w.i32(Int32(s.lastPID))
            w.u64(UInt64(s.attachCount)); w.u64(0); w.u64(0)
            if let e = k.memory.copyOut(buffer, from: w.bytes) { throw e }
            return 0
        case ipcSet:
            let b = try k.memory.copyIn(buffer, count: 112).get()
            let r = ByteReader(b)
            var (perms, s) = try segment(k, Int(id))
            guard perms.mayControl(c) else { throw .EPERM }
            perms.applySet(from: r)
            table.update(id: Int(id), perms)
            s.changeTime = seconds(k)
            return 0
        case ipcRMID:
            var (perms, s) = try segment(k, Int(id))
            guard perms.mayControl(c) else { throw .EPERM }
            if s.markDestroyed() {
                table.remove(id: Int(id))
            } else {
                perms.key = IPCPermissions.privateKey   // ipc_set_key_private: no new shmget finds it
                table.update(id: Int(id), perms)
            }
            return 0
        case shmLock, shmUnlock:
            let (perms, s) = try segment(k, Int(id))
            // shmctl_do_lock: without CAP_IPC_LOCK only the owner or creator (and, for
            // SHM_LOCK, with a non-zero RLIMIT_MEMLOCK, which egg's default is).
            if !c.capable(CapabilitySet.ipcLock) && c.euid != perms.uid && c.euid != perms.cuid { throw .EPERM }
            s.locked = command == shmLock
            return 0
        default:
            throw .EINVAL
        }
    }
}
