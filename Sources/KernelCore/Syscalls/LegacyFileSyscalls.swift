// LegacyFileSyscalls — the older and newer forms of existing file calls (KernelCore layer):
// getdents(2) (struct linux_dirent), utime(2), utimes(2), futimesat(2), close_range(2),
// fchmodat2(2) and sethostname(2).
//
// Each is a thin front for the logic its modern sibling already has: getdents shares
// getdents64's walk (FileSyscalls.swift) with the old record layout; the time calls go to
// PathSyscalls.setTimes (do_utimes in fs/utimes.c); fchmodat2 to PathSyscalls.changeMode;
// sethostname writes the name uname(2) and /proc/sys/kernel/hostname report.
import LinuxABI

enum LegacyFileSyscalls {
    // MARK: getdents

    /// struct linux_dirent (fs/readdir.c filldir): d_ino, d_off (8 bytes each), d_reclen,
    /// the name and its NUL, padding, and d_type in the record's last byte; d_reclen is
    /// ALIGN(offsetof(d_name) + namelen + 2, sizeof(long)).
    static func record(inode: UInt64, offset: Int64, type: UInt8, name: [UInt8]) -> [UInt8] {
        let length = (18 + name.count + 2 + 7) & ~7
        var w = ByteWriter(capacity: length)
        w.u64(inode)
        w.i64(offset)
        w.u16(UInt16(truncatingIfNeeded: length))
        for b in name { w.u8(b) }
        w.zeros(length - 1 - w.count)
        w.u8(type)
        return w.bytes
    }

    /// getdents(2): as getdents64, but the old records; EINVAL when not even one fits.
    static func getdents(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try FileSyscalls.file(k, a, 0)
        guard !f.isPathOnly else { throw .EBADF }
        guard f.kind == .inode, let directory = f.inode, directory.isDirectory else { throw .ENOTDIR }
        if directory.linkCount == 0 { return 0 }
        let capacity = max(0, a.size(2))
        var pending: [(UInt64, Int64, UInt8, [UInt8])] = []
        if f.offset < 1 { pending.append((directory.number, 1, DirentType.DT_DIR, [0x2E])) }
        if f.offset < 2 { pending.append(((directory.parent ?? directory).number, 2, DirentType.DT_DIR, [0x2E, 0x2E])) }
        for e in directory.entries where Int64(f.offset) < e.cookie {
            pending.append((e.inode.number, e.cookie, e.inode.direntType, e.name))
        }
        var out: [UInt8] = []
        var position = f.offset
        for (number, cookie, type, name) in pending {
            let r = record(inode: number, offset: cookie, type: type, name: name)
            if out.count + r.count > capacity { break }
            out += r
            position = Int(cookie)
        }
        if out.isEmpty {
            if pending.isEmpty { return 0 }
            throw .EINVAL   // not even one record fits (filldir's EINVAL)
        }
        if let e = k.memory.copyOut(a.address(1), from: out) { throw e }
        f.offset = position
        directory.accessTime = k.platform.realtimeNanoseconds()
        return out.count
    }

    // MARK: utime, utimes, futimesat

    /// utime(2): struct utimbuf { time_t actime, modtime } in whole seconds; NULL is now.
    static func utime(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var times: [(Int64, Int64)]? = nil
        if !a.address(1).isNull {
            let r = ByteReader(try k.memory.copyIn(a.address(1), count: 16).get())
            times = [(r.i64(0), 0), (r.i64(8), 0)]
        }
        return try PathSyscalls.setTimes(k, PathSyscalls.atFDCWD, a.address(0), 0, times)
    }

    /// Two struct timeval; tv_usec outside [0, 1000000) is EINVAL (fs/utimes.c do_futimesat).
    static func timevals(_ k: KernelState, _ address: UserAddress) throws(Errno) -> [(Int64, Int64)]? {
        if address.isNull { return nil }
        let r = ByteReader(try k.memory.copyIn(address, count: 32).get())
        var out: [(Int64, Int64)] = []
        for i in 0..<2 {
            let usec = r.i64(i * 16 + 8)
            guard usec >= 0 && usec < 1_000_000 else { throw .EINVAL }
            out.append((r.i64(i * 16), usec * 1000))
        }
        return out
    }

    static func utimes(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try PathSyscalls.setTimes(k, PathSyscalls.atFDCWD, a.address(0), 0, try timevals(k, a.address(1)))
    }

    /// futimesat(2): utimes relative to a directory descriptor; a NULL path is the
    /// descriptor itself (do_utimes).
    static func futimesat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try PathSyscalls.setTimes(k, a.int32(0), a.address(1), 0, try timevals(k, a.address(2)))
    }

    // MARK: close_range

    static let closeRangeUnshare: UInt64 = 2, closeRangeCloexec: UInt64 = 4

    /// close_range(2) (fs/file.c __close_range): flags other than CLOSE_RANGE_UNSHARE and
    /// CLOSE_RANGE_CLOEXEC, or first > last, are EINVAL; descriptors past the table's end
    /// are ignored. CLOSE_RANGE_CLOEXEC marks instead of closing. egg keeps one descriptor
    /// table per process (threads cannot unshare theirs), so CLOSE_RANGE_UNSHARE acts on
    /// that table: the same result as Linux for a single-threaded caller.
    static func closeRange(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let first = a.uint32(0), last = a.uint32(1)
        let flags = a[2] & 0xffff_ffff
        guard flags & ~(closeRangeUnshare | closeRangeCloexec) == 0, first <= last else { throw .EINVAL }
        let end = min(Int(last), k.files.count - 1)
        guard Int(first) <= end else { return 0 }
        for fd in Int(first)...end where k.files[fd] != nil {
            if flags & closeRangeCloexec != 0 {
                k.files.setCloseOnExec(fd, true)
            } else {
                _ = try? FileSyscalls.closeDescriptor(k, fd)
            }
        }
        return 0
    }

    // MARK: fchmodat2

    /// fchmodat2(2) (Linux 6.6, fs/open.c do_fchmodat): AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH;
    /// a symbolic link's mode cannot change (EOPNOTSUPP), as chmod_common refuses.
    static func fchmodat2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[3] & 0xffff_ffff
        guard flags & ~(PathSyscalls.atSymlinkNofollow | PathSyscalls.atEmptyPath) == 0 else { throw .EINVAL }
        let t = try PathSyscalls.target(k, a.int32(0), a.address(1), follow: flags & PathSyscalls.atSymlinkNofollow == 0,
                                        emptyPath: flags & PathSyscalls.atEmptyPath != 0).get()
        if let i = PathSyscalls.inode(of: t), i.isSymlink { throw .EOPNOTSUPP }
        return try PathSyscalls.changeMode(k, t, a.uint32(2))
    }

    // MARK: sethostname

    /// sethostname(2) (kernel/sys.c): CAP_SYS_ADMIN (EPERM), 0 to __NEW_UTS_LEN (64) bytes
    /// (EINVAL); the name need not be NUL-terminated.
    static func sethostname(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard k.currentThread.credentials.capable(CapabilitySet.sysAdmin) else { throw .EPERM }
        let length = a.int(1)
        guard length >= 0 && length <= 64 else { throw .EINVAL }
        k.hostname = length == 0 ? [] : try k.memory.copyIn(a.address(0), count: length).get()
        return 0
    }

    /// setdomainname(name, len): the same rules as sethostname (kernel/sys.c: CAP_SYS_ADMIN,
    /// at most __NEW_UTS_LEN = 64 bytes); uname's domainname field follows.
    static func setdomainname(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard k.currentThread.credentials.capable(CapabilitySet.sysAdmin) else { throw .EPERM }
        let length = a.int(1)
        guard length >= 0 && length <= 64 else { throw .EINVAL }
        k.domainname = length == 0 ? [] : try k.memory.copyIn(a.address(0), count: length).get()
        return 0
    }
}
