// FileSyncSyscalls — fsync(2), fdatasync(2), syncfs(2), sync(2), sync_file_range(2),
// fallocate(2), posix_fadvise(2) (fadvise64) and readahead(2) (KernelCore layer).
//
// Every file egg keeps lives in RAM (tmpfs-like, VFS/FileData.swift), so there is nothing to
// write back: Linux's tmpfs answers fsync with noop_fsync and sync_file_range with nothing
// to do, and these handlers do the same after Linux's own argument checks, so a program gets
// exactly the errors it would on tmpfs (a pipe is EINVAL for fsync and ESPIPE for
// sync_file_range, a bad flag EINVAL). fallocate follows fs/open.c vfs_fallocate and then
// mm/shmem.c shmem_fallocate: only the default mode, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE are
// implemented by tmpfs; ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE are EOPNOTSUPP there.
// The blocks themselves are FileData's (allocateRange, punchHole); pages that a shared
// mapping shows are unmapped first (Process/FileMappingFaults.swift).
// Neighbours: FileSyscalls.swift (descriptor calls), MemorySyscalls.swift (msync, mincore).
import LinuxABI

enum FileSyncSyscalls {
    /// The description behind argument `i`; O_PATH descriptors are EBADF here, as fdget()
    /// refuses FMODE_PATH files for every call in this family.
    static func description(_ k: KernelState, _ a: SyscallArguments, _ i: Int) throws(Errno) -> OpenFile {
        let f = try FileSyscalls.file(k, a, i)
        if f.isPathOnly { throw .EBADF }
        return f
    }

    /// Whether the description's file has an fsync operation: tmpfs regular files and
    /// directories have noop_fsync; pipes, FIFOs, ttys, sockets, /dev/null and friends,
    /// /proc files and anonymous inodes (eventfd, epoll) have none (vfs_fsync_range: EINVAL).
    static func hasFsync(_ f: OpenFile) -> Bool {
        guard f.kind == .inode, let inode = f.inode, inode.synthetic == nil, !inode.readOnly || inode.isOnVolume else { return false }
        return inode.isRegular || inode.isDirectory
    }

    static func fsync(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try description(k, a, 0)
        guard hasFsync(f) else { throw .EINVAL }
        return 0   // the data is in RAM already: nothing to write back (noop_fsync)
    }

    /// fdatasync(2): fsync without the metadata; the same here.
    static func fdatasync(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try fsync(k, a)
    }

    /// syncfs(2): syncs the file system holding the descriptor's file; any open file has one
    /// (pipes and sockets too: pipefs, sockfs), so only a bad descriptor fails.
    static func syncfs(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        _ = try description(k, a, 0)
        return 0
    }

    /// sync(2) cannot fail.
    static func sync(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { 0 }

    /// sync_file_range(2), checks in fs/sync.c order: the descriptor, unknown flags
    /// (WAIT_BEFORE 1, WRITE 2, WAIT_AFTER 4), a negative offset or end, an end that wraps;
    /// then only regular files, directories, block devices and symlinks (ESPIPE otherwise).
    static func syncFileRange(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try description(k, a, 0)
        let offset = Int64(bitPattern: a[1]), count = Int64(bitPattern: a[2])
        guard a[3] & ~UInt64(7) == 0 else { throw .EINVAL }
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard offset >= 0, !overflow, end >= 0, end >= offset else { throw .EINVAL }
        guard f.kind == .inode, let inode = f.inode, inode.isRegular || inode.isDirectory
                || inode.kind == .symlink else { throw .ESPIPE }
        return 0
    }

    // fallocate(2) modes (include/uapi/linux/falloc.h).
    static let keepSize: UInt64 = 0x01, punchHole: UInt64 = 0x02
    static let collapseRange: UInt64 = 0x08, zeroRange: UInt64 = 0x10, insertRange: UInt64 = 0x20
    static let unshareRange: UInt64 = 0x40
    /// FALLOC_FL_MODE_MASK: the operations, one of which (or none: allocate) a call names.
    static let operationMask: UInt64 = punchHole | collapseRange | zeroRange | insertRange | unshareRange

    /// fallocate(2): vfs_fallocate's checks in order (fs/open.c, Linux 6.11 and later, which
    /// switch on the one operation a mode names), then shmem_fallocate's.
    static func fallocate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try description(k, a, 0)
        let mode = UInt64(a.uint32(1)), offset = a.int(2), length = a.int(3)
        guard offset >= 0, length > 0 else { throw .EINVAL }
        guard mode & ~(operationMask | keepSize) == 0 else { throw .EOPNOTSUPP }
        switch mode & operationMask {
        case 0, unshareRange, zeroRange: break
        case punchHole: if mode & keepSize == 0 { throw .EOPNOTSUPP }
        case collapseRange, insertRange: if mode & keepSize != 0 { throw .EOPNOTSUPP }
        default: throw .EOPNOTSUPP   // two operations at once
        }
        guard f.canWrite else { throw .EBADF }
        guard f.kind == .inode, let inode = f.inode else {
            // Pipes (S_IFIFO) are ESPIPE; sockets, eventfd, epoll are neither file nor
            // block device: ENODEV.
            if f.object is PipeEnd || f.object is FifoEnd { throw .ESPIPE }
            throw .ENODEV
        }
        if inode.kind == .fifo { throw .ESPIPE }
        if inode.isDirectory { throw .EISDIR }
        guard inode.isRegular, inode.synthetic == nil else { throw .ENODEV }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= FileBlockStore.maximumFileSize else { throw .EFBIG }
        // shmem_fallocate: anything but KEEP_SIZE and PUNCH_HOLE is unsupported on tmpfs.
        guard mode & ~(keepSize | punchHole) == 0 else { throw .EOPNOTSUPP }
        _ = k.fileBlocks
        let data = inode.contents
        if mode & punchHole != 0 {
            // Seals: F_SEAL_WRITE / F_SEAL_FUTURE_WRITE forbid punching (EPERM).
            if data.seals & (MemFD.sealWrite | MemFD.sealFutureWrite) != 0 { throw .EPERM }
            data.punchHole(from: offset, to: end)
            FileSyscalls.touch(inode, k)
            return 0
        }
        if mode & keepSize == 0 && end > data.size && data.seals & MemFD.sealGrow != 0 { throw .EPERM }
        guard data.allocateRange(from: offset, to: end) else { throw .ENOSPC }
        if mode & keepSize == 0 && end > data.size {
            data.resize(to: end)
            FileSyscalls.touch(inode, k)
        }
        return 0
    }

    /// posix_fadvise(2) (fadvise64): advice 0..5 (NORMAL, RANDOM, SEQUENTIAL, WILLNEED,
    /// DONTNEED, NOREUSE); ESPIPE for pipes and FIFOs (mm/fadvise.c generic_fadvise),
    /// EINVAL for other advice or a negative length. It is a hint; tmpfs pages stay put.
    static func fadvise64(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try description(k, a, 0)
        if f.object is PipeEnd || f.object is FifoEnd { throw .ESPIPE }
        if f.kind == .inode, let inode = f.inode, inode.kind == .fifo { throw .ESPIPE }
        guard a.int(2) >= 0, (0...5).contains(a.int(3)) else { throw .EINVAL }
        return 0
    }

    /// readahead(2): mm/readahead.c ksys_readahead: the descriptor must be open for reading
    /// (EBADF) and a regular file (EINVAL; tmpfs has no readahead of its own but the page
    /// cache check passes). Nothing to read ahead from RAM.
    static func readahead(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try description(k, a, 0)
        guard f.canRead else { throw .EBADF }
        guard f.kind == .inode, let inode = f.inode, inode.isRegular else { throw .EINVAL }
        return 0
    }
}
