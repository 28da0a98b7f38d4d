// CredentialSyscalls — the id and capability calls (KernelCore layer): getuid, geteuid,
// getgid, getegid, getresuid, getresgid, setuid, setgid, setreuid, setregid, setresuid,
// setresgid, setfsuid, setfsgid, getgroups, setgroups, capget, capset.
//
// Each call reads and changes the calling thread's own credentials, as Linux's do (the
// libc repeats set*id on every thread to make it process-wide). The rules themselves are
// pure functions in Process/Credentials.swift; this file copies arguments in and results
// out. credentials(7), capabilities(7), setresuid(2), setfsuid(2), getgroups(2), capget(2).
import LinuxABI

enum CredentialSyscalls {
    static func current(_ k: KernelState) -> Credentials { k.currentThread.credentials }

    static func commit(_ k: KernelState, _ r: Result<Credentials, Errno>) throws(Errno) -> Int {
        k.currentThread.credentials = try r.get()
        return 0
    }

    // MARK: reading ids

    static func getuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { Int(current(k).uid) }
    static func geteuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { Int(current(k).euid) }
    static func getgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { Int(current(k).gid) }
    static func getegid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { Int(current(k).egid) }

    /// Writes three ids to three user addresses, in order (EFAULT at the first bad one).
    static func writeThree(_ k: KernelState, _ a: SyscallArguments, _ values: (UInt32, UInt32, UInt32)) throws(Errno) -> Int {
        if let e = k.memory.writeUInt32(a.address(0), values.0) { throw e }
        if let e = k.memory.writeUInt32(a.address(1), values.1) { throw e }
        if let e = k.memory.writeUInt32(a.address(2), values.2) { throw e }
        return 0
    }

    static func getresuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let c = current(k)
        return try writeThree(k, a, (c.uid, c.euid, c.suid))
    }

    static func getresgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let c = current(k)
        return try writeThree(k, a, (c.gid, c.egid, c.sgid))
    }

    // MARK: changing ids

    static func setuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try commit(k, current(k).settingUID(a.uint32(0)))
    }
    static func setgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try commit(k, current(k).settingGID(a.uint32(0)))
    }
    static func setreuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try commit(k, current(k).settingREUID(a.uint32(0), a.uint32(1)))
    }
    static func setregid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try commit(k, current(k).settingREGID(a.uint32(0), a.uint32(1)))
    }
    static func setresuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try commit(k, current(k).settingRESUID(a.uint32(0), a.uint32(1), a.uint32(2)))
    }
    static func setresgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try commit(k, current(k).settingRESGID(a.uint32(0), a.uint32(1), a.uint32(2)))
    }

    /// setfsuid(2)/setfsgid(2) never fail: they return the previous fs id.
    static func setfsuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let r = current(k).settingFSUID(a.uint32(0))
        k.currentThread.credentials = r.new
        return Int(r.previous)
    }
    static func setfsgid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let r = current(k).settingFSGID(a.uint32(0))
        k.currentThread.credentials = r.new
        return Int(r.previous)
    }

    // MARK: supplementary groups

    /// getgroups(2): size 0 asks for the count; a smaller buffer than the list is EINVAL.
    static func getgroups(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let size = a.int32(0)
        guard size >= 0 else { throw .EINVAL }
        let groups = current(k).groups
        if size == 0 { return groups.count }
        guard Int(size) >= groups.count else { throw .EINVAL }
        var w = ByteWriter()
        for g in groups { w.u32(g) }
        if !groups.isEmpty, let e = k.memory.copyOut(a.address(1), from: w.bytes) { throw e }
        return groups.count
    }

    /// setgroups(2): CAP_SETGID first (may_setgroups: EPERM), then the size (above
    /// NGROUPS_MAX, or negative: EINVAL), then the list (EFAULT), as kernel/groups.c orders them.
    static func setgroups(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let c = current(k)
        guard c.capable(CapabilitySet.setgid) else { throw .EPERM }
        let size = a.int32(0)
        guard size >= 0 && Int(size) <= Credentials.groupsMax else { throw .EINVAL }
        var list: [UInt32] = []
        if size > 0 {
            let bytes = try k.memory.copyIn(a.address(1), count: Int(size) * 4).get()
            let r = ByteReader(bytes)
            for i in 0..<Int(size) { list.append(r.u32(i * 4)) }
        }
        return try commit(k, c.settingGroups(list))
    }

    // MARK: capabilities

    /// _LINUX_CAPABILITY_VERSION_1 (one 32-bit word per set), _2 (deprecated) and _3 (two).
    static let capabilityVersion1: UInt32 = 0x1998_0330
    static let capabilityVersion2: UInt32 = 0x2007_1026
    static let capabilityVersion3: UInt32 = 0x2008_0522

    /// cap_validate_magic: the number of words for a known version; an unknown one has the
    /// preferred version written back into the header and is EINVAL.
    static func words(_ k: KernelState, _ header: UserAddress) throws(Errno) -> (count: Int, pid: Int32) {
        let h = try k.memory.copyIn(header, count: 8).get()
        let r = ByteReader(h)
        switch r.u32(0) {
        case capabilityVersion1: return (1, Int32(bitPattern: r.u32(4)))
        case capabilityVersion2, capabilityVersion3: return (2, Int32(bitPattern: r.u32(4)))
        default:
            if let e = k.memory.writeUInt32(header, capabilityVersion3) { throw e }
            throw .EINVAL
        }
    }

    /// capget(2): the capability sets of the calling thread (pid 0 or its own id) or of
    /// another thread of the process (else ESRCH). A NULL data pointer only probes the
    /// version: 0 even for an unknown one, once the preferred version is written back.
    static func capget(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let header = a.address(0), data = a.address(1)
        let count: Int, pid: Int32
        do {
            (count, pid) = try words(k, header)
        } catch {
            if error == .EINVAL && data.isNull { return 0 }
            throw error
        }
        if data.isNull { return 0 }
        guard pid >= 0 else { throw .EINVAL }
        let c: Credentials
        if pid == 0 || Int(pid) == k.currentThread.tid {
            c = current(k)
        } else if let t = k.scheduler.thread(withID: Int(pid)), t.state != .exited {
            c = t.credentials
        } else {
            throw .ESRCH
        }
        var w = ByteWriter()
        for i in 0..<count {
            let shift = UInt64(32 * i)
            w.u32(UInt32(truncatingIfNeeded: c.effective.bits >> shift))
            w.u32(UInt32(truncatingIfNeeded: c.permitted.bits >> shift))
            w.u32(UInt32(truncatingIfNeeded: c.inheritable.bits >> shift))
        }
        if let e = k.memory.copyOut(data, from: w.bytes) { throw e }
        return 0
    }

    /// capset(2): only the calling thread's own sets (another pid is EPERM); words a
    /// version-1 caller does not pass are zero. The rules are Credentials.settingCapabilities.
    static func capset(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let (count, pid) = try words(k, a.address(0))
        if pid != 0 && Int(pid) != k.currentThread.tid { throw .EPERM }
        let bytes = try k.memory.copyIn(a.address(1), count: count * 12).get()
        let r = ByteReader(bytes)
        var e: UInt64 = 0, p: UInt64 = 0, i: UInt64 = 0
        for word in 0..<count {
            let shift = UInt64(32 * word)
            e |= UInt64(r.u32(word * 12)) << shift
            p |= UInt64(r.u32(word * 12 + 4)) << shift
            i |= UInt64(r.u32(word * 12 + 8)) << shift
        }
        return try commit(k, current(k).settingCapabilities(effective: CapabilitySet(bits: e),
                                                            permitted: CapabilitySet(bits: p),
                                                            inheritable: CapabilitySet(bits: i)))
    }
}
