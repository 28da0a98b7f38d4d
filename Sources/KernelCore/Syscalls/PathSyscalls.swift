// PathSyscalls — system calls that take path names (KernelCore layer): open/openat/creat,
// stat/lstat/newfstatat/statx, access/faccessat/faccessat2, mkdir(at), unlink(at), rmdir,
// rename/renameat/renameat2, link(at), symlink(at), readlink(at), truncate, getcwd, chdir,
// fchdir, umask, chmod/fchmod/fchmodat, chown/fchown/lchown/fchownat, utimensat, and
// statfs/fstatfs (the figures of each mounted file system).
//
// Each handler turns registers into typed values — the path copied in through the checked
// path (EFAULT, ENAMETOOLONG at PATH_MAX), the starting directory from AT_FDCWD or a dirfd
// (ignored for absolute paths, as path_resolution(7) says), flag sets checked for unknown
// bits — and hands the work to the VFS (Sources/KernelCore/VFS/FileSystem.swift).
import LinuxABI

enum PathSyscalls {
    static let atFDCWD: Int32 = -100
    static let atSymlinkNofollow: UInt64 = 0x100, atRemoveDir: UInt64 = 0x200, atSymlinkFollow: UInt64 = 0x400
    static let atNoAutomount: UInt64 = 0x800, atEmptyPath: UInt64 = 0x1000, atEaccess: UInt64 = 0x200
    static let atStatxSyncType: UInt64 = 0x6000

    static let oCreat: UInt64 = 0o100, oExcl: UInt64 = 0o200, oNoctty: UInt64 = 0o400, oTrunc: UInt64 = 0o1000
    static let oDirectory: UInt64 = 0o200000, oNofollow: UInt64 = 0o400000, oPath: UInt64 = 0o10000000
    static let oTmpfile: UInt64 = 0o20200000, oTmpfileBit: UInt64 = 0o20000000   // O_TMPFILE, __O_TMPFILE

    /// A path that starts with "/" starts at the process's root (chroot(2)).
    static func readPath(_ k: KernelState, _ address: UserAddress) -> Result<[UInt8], Errno> {
        k.memory.readCString(address, maximum: FileSystem.pathMax)
    }

    /// Where a relative `path` starts: the working directory for AT_FDCWD, else the
    /// directory open at `dirfd` (EBADF if none, ENOTDIR if not a directory).
    static func base(_ k: KernelState, _ dirfd: Int32, _ path: [UInt8]) -> Result<Inode, Errno> {
        if path.first == FileSystem.slash { return .success(k.files.fileSystem.lookupRoot) }
        if dirfd == atFDCWD { return .success(k.files.workingDirectory) }
        guard dirfd >= 0, let f = k.files[Int(dirfd)] else { return .failure(.EBADF) }
        guard f.kind == .inode, let inode = f.inode, inode.isDirectory else { return .failure(.ENOTDIR) }
        return .success(inode)
    }

    /// The path and its starting directory.
    static func pathAndBase(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress) -> Result<([UInt8], Inode), Errno> {
        switch readPath(k, address) {
        case .failure(let e): return .failure(e)
        case .success(let path):
            guard !path.isEmpty else { return .failure(.ENOENT) }   // before dirfd is looked at (getname)
            switch base(k, dirfd, path) {
            case .failure(let e): return .failure(e)
            case .success(let b): return .success((path, b))
            }
        }
    }

    enum Target {
        case inode(Inode)
        case description(OpenFile, Int)
    }

    /// What a stat-like call names: a path, or (AT_EMPTY_PATH with "") the descriptor itself.
    static func target(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, follow: Bool, emptyPath: Bool) -> Result<Target, Errno> {
        var path: [UInt8] = []
        if !(emptyPath && address.isNull) {
            switch readPath(k, address) {
            case .failure(let e): return .failure(e)
            case .success(let p): path = p
            }
        }
        if path.isEmpty {
            guard emptyPath else { return .failure(.ENOENT) }
            if dirfd == atFDCWD { return .success(.inode(k.files.workingDirectory)) }
            guard dirfd >= 0, let f = k.files[Int(dirfd)] else { return .failure(.EBADF) }
            return .success(.description(f, Int(dirfd)))
        }
        switch base(k, dirfd, path) {
        case .failure(let e): return .failure(e)
        case .success(let b):
            return k.files.fileSystem.resolve(path, from: b, followFinal: follow).map { .inode($0) }
        }
    }

    static func inode(of t: Target) -> Inode? {
        switch t {
        case .inode(let i): return i
        case .description(let f, _): return f.inode
        }
    }

    // MARK: open

    static func open(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try openAt(k, atFDCWD, a.address(0), a[1], UInt32(truncatingIfNeeded: a[2]))
    }

    static func openat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try openAt(k, a.int32(0), a.address(1), a[2], UInt32(truncatingIfNeeded: a[3]))
    }

    static func creat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try openAt(k, atFDCWD, a.address(0), oCreat | 1 | oTrunc, UInt32(truncatingIfNeeded: a[1]))  // O_WRONLY
    }

    static func openAt(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, _ flagsArgument: UInt64, _ mode: UInt32,
                       rules: ResolveRules? = nil) throws(Errno) -> Int {
        // open(2)'s flags are a C int: the register's upper half is not part of them (a
        // fuzzer's bit 63 once reached F_GETFL's Int conversion and trapped the kernel).
        let flags = flagsArgument & 0xFFFF_FFFF
        let path: [UInt8], start: Inode
        (path, start) = try pathAndBase(k, dirfd, address).get()
        if flags & oTmpfileBit != 0 {
            k.files.fileSystem.resolveRules = rules
            defer { k.files.fileSystem.resolveRules = nil }
            return try openTemporary(k, path, start, flags, mode)
        }
        if flags & oCreat != 0 && flags & oDirectory != 0 { throw .EINVAL }
        let fs = k.files.fileSystem
        let follow = flags & oNofollow == 0
        let pathOnly = flags & oPath != 0
        let accessMode = flags & 3
        let inode: Inode
        var created = false
        // openat2's rules hold for the walk only (cleared before anything that may block,
        // such as a FIFO's open): VFS/ResolveRules.swift.
        fs.resolveRules = rules
        let lookup: Result<(inode: Inode, created: Bool), Errno>
        if flags & oCreat != 0 && !pathOnly {
            let permissions = mode & 0o7777 & ~k.process.umask
            lookup = fs.openOrCreate(path, from: start, permissions: permissions, exclusive: flags & oExcl != 0, followFinal: follow)
        } else {
            lookup = fs.resolve(path, from: start, followFinal: follow).map { (inode: $0, created: false) }
        }
        fs.resolveRules = nil
        (inode, created) = try lookup.get()
        if flags & oDirectory != 0 && !inode.isDirectory { throw .ENOTDIR }
        let statusFlags = (flags & ~(oCreat | oExcl | oNoctty | oTrunc | cloexecFlag)) | FileSyscalls.oLargefile
        let closeOnExec = flags & cloexecFlag != 0
        if pathOnly {
            let f = OpenFile(inode: inode, statusFlags: flags & (oPath | oDirectory | oNofollow))
            return try k.files.install(f, closeOnExec: closeOnExec).get()
        }
        if inode.isSymlink { throw .ELOOP }   // O_NOFOLLOW on a symlink
        if inode.isDirectory && (accessMode != 0 || flags & oTrunc != 0) { throw .EISDIR }
        if accessMode == 3 { throw .EINVAL }
        if inode.readOnly && (accessMode != 0 || flags & oTrunc != 0) { throw inode.readOnlyError() }
        if !created, let e = Permissions.mayOpen(inode, accessMode: accessMode, truncate: flags & oTrunc != 0,
                                                 k.currentThread.credentials) { throw e }
        let file: OpenFile
        if let content = inode.synthetic {
            file = OpenFile(kind: .snapshot, bytes: k.syntheticBytes(content), statusFlags: statusFlags)
            file.inode = inode
        } else if let device = inode.device, device == .console || device == .tty {
            file = OpenFile(kind: .console, statusFlags: statusFlags)
            file.inode = inode
        } else if inode.kind == .socket {
            throw .ENXIO   // open(2): a UNIX domain socket's name cannot be opened
        } else if case .fifo = inode.kind {
            return try k.openFifo(inode, statusFlags: statusFlags, closeOnExec: closeOnExec)   // VFS/Fifo.swift
        } else if let device = inode.device, device == .framebuffer, inode.characterDevice == nil {
            throw .ENXIO   // a node with no driver behind it (chrdev_open)
        } else if case .device(.other) = inode.kind, flags & 0o10000000 == 0 {
            throw .ENXIO   // mknod'ed numbers egg has no driver for (chrdev_open); O_PATH opens
        } else if case .device(.block) = inode.kind, flags & 0o10000000 == 0 {
            throw .ENXIO   // no block drivers (blkdev_open)
        } else {
            if inode.isRegular && flags & oTrunc != 0 && !created && !inode.contents.isEmpty {
                _ = try FileSyscalls.resize(inode, to: 0, k)
            }
            file = OpenFile(inode: inode, statusFlags: statusFlags)
        }
        return try k.files.install(file, closeOnExec: closeOnExec).get()
    }

    /// open(2) with O_TMPFILE: an unnamed regular file in the directory `path` names, with
    /// link count 0. open(2) and build_open_flags: __O_TMPFILE needs O_DIRECTORY and no
    /// O_CREAT, and write access (else EINVAL); the path must be a directory (ENOTDIR,
    /// ENOENT); a file system without tmpfile support (/proc here) is EOPNOTSUPP. Without
    /// O_EXCL, linkat(fd, "", dirfd, name, AT_EMPTY_PATH) may give the file a name later.
    static func openTemporary(_ k: KernelState, _ path: [UInt8], _ start: Inode, _ flags: UInt64, _ mode: UInt32) throws(Errno) -> Int {
        guard flags & (oTmpfile | oCreat) == oTmpfile else { throw .EINVAL }
        let accessMode = flags & 3
        guard accessMode == 1 || accessMode == 2 else { throw .EINVAL }
        let directory: Inode
        directory = try k.files.fileSystem.resolve(path, from: start, followFinal: flags & oNofollow == 0).get()
        guard directory.isDirectory else { throw .ENOTDIR }
        if directory.readOnly { throw .EOPNOTSUPP }
        if let e = Permissions.mayCreate(in: directory, k.currentThread.credentials) { throw e }   // vfs_tmpfile
        guard k.files.fileSystem.canMakeInode else { throw .ENOSPC }
        let inode = k.files.fileSystem.makeInode(.regular, permissions: mode & 0o7777 & ~k.process.umask, in: directory)
        inode.linkCount = 0
        inode.linkable = flags & oExcl == 0
        let statusFlags = (flags & ~(oCreat | oExcl | oNoctty | oTrunc | cloexecFlag)) | FileSyscalls.oLargefile
        return try k.files.install(OpenFile(inode: inode, statusFlags: statusFlags), closeOnExec: flags & cloexecFlag != 0).get()
    }

    // MARK: stat

    /// The struct stat of what a path or descriptor names (stat, fstatat and statx share it).
    static func stat(of t: Target, _ k: KernelState) -> Stat {
        switch t {
        case .inode(let i): return FileSyscalls.stat(of: i)
        case .description(let f, let fd): return FileSyscalls.stat(of: f, fd: fd, k)
        }
    }

    static func writeStat(_ k: KernelState, _ t: Target, _ buffer: UserAddress) throws(Errno) -> Int {
        if let e = k.memory.copyOut(buffer, from: stat(of: t, k).encode()) { throw e }
        return 0
    }

    static func statCall(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: true, emptyPath: false).get()
        return try writeStat(k, t, a.address(1))
    }

    static func lstat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: false, emptyPath: false).get()
        return try writeStat(k, t, a.address(1))
    }

    static func newfstatat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[3]
        guard flags & ~(atSymlinkNofollow | atNoAutomount | atEmptyPath | atStatxSyncType) == 0 else { throw .EINVAL }
        let t = try target(k, a.int32(0), a.address(1), follow: flags & atSymlinkNofollow == 0, emptyPath: flags & atEmptyPath != 0).get()
        return try writeStat(k, t, a.address(2))
    }

    /// statx(2): the basic fields (STATX_BASIC_STATS) and STATX_MNT_ID; STATX__RESERVED in the mask is EINVAL.
    static func statx(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[2]
        guard flags & ~(atSymlinkNofollow | atNoAutomount | atEmptyPath | atStatxSyncType) == 0,
              flags & atStatxSyncType != atStatxSyncType else { throw .EINVAL }
        guard a.uint32(3) & 0x8000_0000 == 0 else { throw .EINVAL }
        let t: Target
        t = try target(k, a.int32(0), a.address(1), follow: flags & atSymlinkNofollow == 0, emptyPath: flags & atEmptyPath != 0).get()
        var x = Statx(stat(of: t, k))
        // Linux (since 5.8) always adds STATX_MNT_ID. The id is derived from st_dev (egg's
        // tree reports one device today, so one mount id; never 0).
        x.mask = StatxMask.STATX_BASIC_STATS.union(.STATX_MNT_ID)
        x.mountId = 1 + (UInt64(x.devMajor) << 20 | UInt64(x.devMinor))
        if let e = k.memory.copyOut(a.address(4), from: x.encode()) { throw e }
        return 0
    }

    // MARK: access

    /// access(2) family: without AT_EACCESS the lookup and the check use the real ids
    /// (do_faccessat's override credentials), with it the effective (fs) ids. F_OK (0) asks
    /// only whether the name resolves. Permissions.check decides, capabilities included.
    static func accessCheck(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, _ mode: UInt64, _ flags: UInt64) throws(Errno) -> Int {
        guard mode & ~UInt64(7) == 0 else { throw .EINVAL }
        let thread = k.currentThread
        let saved = thread.credentials
        if flags & atEaccess == 0 { thread.credentials = saved.forAccessCheck }
        defer { thread.credentials = saved }
        let t: Target
        t = try target(k, dirfd, address, follow: flags & atSymlinkNofollow == 0, emptyPath: flags & atEmptyPath != 0).get()
        if mode != 0, let i = inode(of: t), let e = Permissions.check(i, UInt32(mode), thread.credentials) { throw e }
        return 0
    }

    static func access(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try accessCheck(k, atFDCWD, a.address(0), a[1], 0)
    }

    static func faccessat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try accessCheck(k, a.int32(0), a.address(1), a[2], 0)
    }

    static func faccessat2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[3] & ~(atEaccess | atSymlinkNofollow | atEmptyPath) == 0 else { throw .EINVAL }
        return try accessCheck(k, a.int32(0), a.address(1), a[2], a[3])
    }

    // MARK: creating and removing names

    static func mkdirAt(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, _ mode: UInt32) throws(Errno) -> Int {
        let (path, start) = try pathAndBase(k, dirfd, address).get()
        let permissions = mode & 0o1777 & ~k.process.umask
        _ = try k.files.fileSystem.makeDirectory(path, from: start, permissions: permissions).get()
        return 0
    }

    static func mkdir(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try mkdirAt(k, atFDCWD, a.address(0), a.uint32(1))
    }

    static func mkdirat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try mkdirAt(k, a.int32(0), a.address(1), a.uint32(2))
    }

    /// mknod(2)/mknodat(2) (fs/namei.c do_mknodat, may_mknod): regular files, FIFOs
    /// (mkfifo(3) calls mknodat with S_IFIFO; opening one is VFS/Fifo.swift), sockets (a name
    /// that open(2) refuses with ENXIO) and, with CAP_MKNOD (EPERM without), character and
    /// block devices; a block device opens as ENXIO (no driver). S_IFDIR is EPERM; an
    /// unknown type EINVAL; an existing name EEXIST (FileSystem.makeNode).
    static func mknodAt(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, _ mode: UInt32, _ device: UInt32 = 0) throws(Errno) -> Int {
        let kind: Inode.Kind
        switch mode & FileMode.S_IFMT {
        case 0, FileMode.S_IFREG: kind = .regular
        case FileMode.S_IFIFO: kind = .fifo
        case FileMode.S_IFDIR: throw .EPERM
        case FileMode.S_IFCHR, FileMode.S_IFBLK:
            guard k.currentThread.credentials.capable(FileSystem.capMknod) else { throw .EPERM }
            // dev_t as the syscall passes it: new_decode_dev.
            let major = (device & 0xFFF00) >> 8, minor = (device & 0xFF) | ((device >> 12) & 0xFFF00)
            kind = mode & FileMode.S_IFMT == FileMode.S_IFBLK ? .device(.block(major: major, minor: minor))
                                                               : .device(.character(major: major, minor: minor))
        case FileMode.S_IFSOCK: kind = .socket
        default: throw .EINVAL
        }
        let (path, start) = try pathAndBase(k, dirfd, address).get()
        _ = try k.files.fileSystem.makeNode(path, from: start, kind: kind, permissions: mode & 0o7777 & ~k.process.umask).get()
        return 0
    }

    static func mknod(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try mknodAt(k, atFDCWD, a.address(0), a.uint32(1), a.uint32(2)) }
    static func mknodat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try mknodAt(k, a.int32(0), a.address(1), a.uint32(2), a.uint32(3)) }

    static func unlinkAt(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, _ flags: UInt64) throws(Errno) -> Int {
        guard flags & ~atRemoveDir == 0 else { throw .EINVAL }
        let (path, start) = try pathAndBase(k, dirfd, address).get()
        let fs = k.files.fileSystem
        let result = flags & atRemoveDir != 0 ? fs.removeDirectory(path, from: start) : fs.unlink(path, from: start)
        _ = try result.get()
        return 0
    }

    static func unlink(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try unlinkAt(k, atFDCWD, a.address(0), 0) }
    static func unlinkat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try unlinkAt(k, a.int32(0), a.address(1), a[2]) }
    static func rmdir(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try unlinkAt(k, atFDCWD, a.address(0), atRemoveDir) }

    static func renameAt(_ k: KernelState, _ oldDirfd: Int32, _ old: UserAddress, _ newDirfd: Int32, _ new: UserAddress,
                         _ flags: UInt64) throws(Errno) -> Int {
        guard flags <= 0xFFFF_FFFF else { throw .EINVAL }
        let o: ([UInt8], Inode), n: ([UInt8], Inode)
        o = try pathAndBase(k, oldDirfd, old).get()
        n = try pathAndBase(k, newDirfd, new).get()
        _ = try k.files.fileSystem.rename(o.0, from: o.1, to: n.0, from: n.1, flags: UInt32(flags)).get()
        return 0
    }

    static func rename(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try renameAt(k, atFDCWD, a.address(0), atFDCWD, a.address(1), 0)
    }

    static func renameat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try renameAt(k, a.int32(0), a.address(1), a.int32(2), a.address(3), 0)
    }

    static func renameat2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try renameAt(k, a.int32(0), a.address(1), a.int32(2), a.address(3), a[4])
    }

    static func linkAt(_ k: KernelState, _ oldDirfd: Int32, _ old: UserAddress, _ newDirfd: Int32, _ new: UserAddress,
                       _ flags: UInt64) throws(Errno) -> Int {
        guard flags & ~(atSymlinkFollow | atEmptyPath) == 0 else { throw .EINVAL }
        if flags & atEmptyPath != 0 {
            // linkat(2) AT_EMPTY_PATH: an empty old path names the file open at oldDirfd
            // (an O_TMPFILE file among others; the guest is root, so CAP_DAC_READ_SEARCH holds).
            switch readPath(k, old) {
            case .failure(let e): throw e
            case .success(let p) where p.isEmpty:
                guard oldDirfd != atFDCWD else { throw .ENOENT }   // the cwd: a directory
                guard oldDirfd >= 0, let f = k.files[Int(oldDirfd)] else { throw .EBADF }
                guard let inode = f.inode else { throw .ENOENT }   // pipes, the console
                let (path, start) = try pathAndBase(k, newDirfd, new).get()
                _ = try k.files.fileSystem.link(inode, to: path, from: start).get()
                return 0
            case .success: break
            }
        }
        let o: ([UInt8], Inode), n: ([UInt8], Inode)
        o = try pathAndBase(k, oldDirfd, old).get()
        n = try pathAndBase(k, newDirfd, new).get()
        _ = try k.files.fileSystem.makeHardLink(o.0, from: o.1, to: n.0, from: n.1,
                                                followFinal: flags & atSymlinkFollow != 0).get()
        return 0
    }

    static func link(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try linkAt(k, atFDCWD, a.address(0), atFDCWD, a.address(1), 0)
    }

    static func linkat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try linkAt(k, a.int32(0), a.address(1), a.int32(2), a.address(3), a[4])
    }

    static func symlinkAt(_ k: KernelState, _ targetAddress: UserAddress, _ dirfd: Int32, _ address: UserAddress) throws(Errno) -> Int {
        let target: [UInt8]
        target = try readPath(k, targetAddress).get()
        let (path, start) = try pathAndBase(k, dirfd, address).get()
        _ = try k.files.fileSystem.makeSymlink(path, target: target, from: start).get()
        return 0
    }

    static func symlink(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try symlinkAt(k, a.address(0), atFDCWD, a.address(1)) }
    static func symlinkat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { try symlinkAt(k, a.address(0), a.int32(1), a.address(2)) }

    static func readlinkAt(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress, _ buffer: UserAddress, _ size: Int) throws(Errno) -> Int {
        guard size > 0 else { throw .EINVAL }
        let t: Target
        t = try target(k, dirfd, address, follow: false, emptyPath: false).get()
        guard let link = inode(of: t), link.isSymlink else { throw .EINVAL }
        let n = min(size, link.linkTarget.count)
        if let e = k.memory.copyOut(buffer, from: link.linkTarget, count: n) { throw e }
        return n
    }

    static func readlink(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try readlinkAt(k, atFDCWD, a.address(0), a.address(1), a.size(2))
    }

    static func readlinkat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try readlinkAt(k, a.int32(0), a.address(1), a.address(2), a.size(3))
    }

    static func truncate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a.int(1) >= 0 else { throw .EINVAL }
        let t = try target(k, atFDCWD, a.address(0), follow: true, emptyPath: false).get()
        guard let i = inode(of: t) else { throw .EINVAL }
        if i.readOnly { throw i.readOnlyError() }
        if let e = Permissions.check(i, AccessMask.write, k.currentThread.credentials) { throw e }
        return try FileSyscalls.resize(i, to: a.int(1), k)
    }

    // MARK: the working directory and umask

    static func getcwd(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let path = try k.files.fileSystem.path(of: k.files.workingDirectory).get()
        let bytes = path + [0]
        guard a.size(1) >= bytes.count else { throw .ERANGE }
        if let e = k.memory.copyOut(a.address(0), from: bytes) { throw e }
        return bytes.count
    }

    static func chdir(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: true, emptyPath: false).get()
        guard let d = inode(of: t), d.isDirectory else { throw .ENOTDIR }
        if let e = Permissions.check(d, AccessMask.execute, k.currentThread.credentials) { throw e }
        k.files.workingDirectory = d
        return 0
    }

    static func fchdir(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try FileSyscalls.file(k, a, 0)
        guard f.kind == .inode, let d = f.inode, d.isDirectory else { throw .ENOTDIR }
        if let e = Permissions.check(d, AccessMask.execute, k.currentThread.credentials) { throw e }
        k.files.workingDirectory = d
        return 0
    }

    static func umask(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let old = k.process.umask
        k.process.umask = a.uint32(0) & 0o777
        return Int(old)
    }

    // MARK: attributes

    static func changeMode(_ k: KernelState, _ t: Target, _ mode: UInt32) throws(Errno) -> Int {
        guard let i = inode(of: t) else { return 0 }   // pipes, the console: accepted
        if i.readOnly { throw i.readOnlyError(.EPERM) }
        i.permissions = try Permissions.changingMode(i, to: mode, k.currentThread.credentials).get()
        i.changeTime = k.platform.realtimeNanoseconds()
        return 0
    }

    static func chmod(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: true, emptyPath: false).get()
        return try changeMode(k, t, a.uint32(1))
    }

    static func fchmod(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        return try changeMode(k, .description(try FileSyscalls.file(k, fd), fd), a.uint32(1))
    }

    /// fchmodat(2): flags must be 0 here (fchmodat2 takes AT_SYMLINK_NOFOLLOW).
    static func fchmodat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, a.int32(0), a.address(1), follow: true, emptyPath: false).get()
        return try changeMode(k, t, a.uint32(2))
    }

    static func changeOwner(_ k: KernelState, _ t: Target, _ uid: UInt32, _ gid: UInt32) throws(Errno) -> Int {
        guard let i = inode(of: t) else { return 0 }
        if i.readOnly { throw i.readOnlyError(.EPERM) }
        (i.uid, i.gid, i.permissions) = try Permissions.changingOwner(i, uid: uid, gid: gid, k.currentThread.credentials).get()
        i.changeTime = k.platform.realtimeNanoseconds()
        return 0
    }

    static func chown(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: true, emptyPath: false).get()
        return try changeOwner(k, t, a.uint32(1), a.uint32(2))
    }

    static func lchown(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: false, emptyPath: false).get()
        return try changeOwner(k, t, a.uint32(1), a.uint32(2))
    }

    static func fchown(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        return try changeOwner(k, .description(try FileSyscalls.file(k, fd), fd), a.uint32(1), a.uint32(2))
    }

    static func fchownat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[4]
        guard flags & ~(atSymlinkNofollow | atEmptyPath) == 0 else { throw .EINVAL }
        let t = try target(k, a.int32(0), a.address(1), follow: flags & atSymlinkNofollow == 0, emptyPath: flags & atEmptyPath != 0).get()
        return try changeOwner(k, t, a.uint32(2), a.uint32(3))
    }

    static let utimeNow: Int64 = 0x3fff_ffff, utimeOmit: Int64 = 0x3fff_fffe

    /// utimensat(2): times NULL is "now"; UTIME_NOW / UTIME_OMIT per field; a NULL path
    /// means the descriptor itself (futimens).
    static func utimensat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[3]
        guard flags & ~(atSymlinkNofollow | atEmptyPath) == 0 else { throw .EINVAL }
        var times: [(Int64, Int64)]? = nil
        if !a.address(2).isNull {
            let b = try k.memory.copyIn(a.address(2), count: 32).get()
            let r = ByteReader(b)
            times = [(r.i64(0), r.i64(8)), (r.i64(16), r.i64(24))]
        }
        return try setTimes(k, a.int32(0), a.address(1), flags, times)
    }

    /// do_utimes, shared by utimensat, utime, utimes and futimesat (LegacyFileSyscalls
    /// .swift): `times` nil is "now"; else (seconds, nanoseconds) for atime and mtime, with
    /// UTIME_NOW / UTIME_OMIT; a NULL path means the descriptor `dirfd` itself.
    static func setTimes(_ k: KernelState, _ dirfd: Int32, _ path: UserAddress, _ flags: UInt64,
                         _ times: [(Int64, Int64)]?) throws(Errno) -> Int {
        let now = k.platform.realtimeNanoseconds()
        var access = now, modify = now
        var setAccess = true, setModify = true
        var toNow = true   // times NULL or UTIME_NOW twice: write permission is enough
        if let times {
            var values: [Int64] = []
            for (i, (s, ns)) in times.enumerated() {
                if ns == utimeOmit { if i == 0 { setAccess = false } else { setModify = false }; values.append(0); continue }
                if ns == utimeNow { values.append(now); continue }
                toNow = false
                guard ns >= 0 && ns < 1_000_000_000 else { throw .EINVAL }
                values.append(s &* 1_000_000_000 &+ ns)
            }
            access = values[0]
            modify = values[1]
        }
        let t: Target
        if path.isNull {
            guard dirfd != atFDCWD else { throw .EFAULT }
            guard dirfd >= 0, let f = k.files[Int(dirfd)] else { throw .EBADF }
            t = .description(f, Int(dirfd))
        } else {
            t = try target(k, dirfd, path, follow: flags & atSymlinkNofollow == 0, emptyPath: flags & atEmptyPath != 0).get()
        }
        guard let i = inode(of: t) else { return 0 }
        if i.readOnly && i.isOnVolume { throw .EROFS }   // volume hook: a read-only mount
        if setAccess || setModify, let e = Permissions.mayChangeTimes(i, toNow: toNow && setAccess && setModify,
                                                                     k.currentThread.credentials) { throw e }
        if setAccess { i.accessTime = access }
        if setModify { i.modifyTime = modify }
        i.changeTime = now
        return 0
    }
}

// MARK: file system statistics

extension PathSyscalls {
    /// statfs(2)'s figures for a mounted file system. tmpfs and devtmpfs follow shmem_statfs:
    /// f_blocks is the size limit, f_bfree what is left of it, f_files the inode limit and
    /// f_ffree what is left (FileData.swift keeps the account); procfs reports zeros
    /// (simple_statfs). Flags mirror the mount options /proc/mounts shows.
    static func statistics(_ k: KernelState, of mount: MountKind) -> Statfs {
        var s = Statfs()
        switch mount {
        case .proc:
            s.type = Statfs.procMagic
            s.flags |= Statfs.flagNoSUID | Statfs.flagNoDev | Statfs.flagNoExec
            s.blocks = 0
        case .sysfs:
            s.type = 0x6265_6572   // SYSFS_MAGIC
            s.flags |= Statfs.flagNoSUID | Statfs.flagNoDev | Statfs.flagNoExec
            s.blocks = 0
        case .tmpfs, .devtmpfs, .shm:
            let store = k.fileBlocks
            s.type = Statfs.tmpfsMagic
            s.blocks = UInt64(store.limitBlocks)
            s.freeBlocks = UInt64(store.freeBlocks)
            s.availableBlocks = s.freeBlocks
            s.files = UInt64(store.limitInodes)
            s.freeFiles = UInt64(max(0, store.limitInodes - store.inodesInUse))
            s.fsid = (Int32(mount.deviceMinor), 0)   // the st_dev minor each reports
            if mount == .devtmpfs { s.flags |= Statfs.flagNoSUID }
        case .volume(let index, let readOnly):
            // Volume hook: the host file system's figures through Tstatfs, with the type a
            // Linux 9p mount reports (v9fs_statfs sets f_type V9FS_MAGIC).
            let volumes = k.files.fileSystem.volumeMounts
            if index < volumes.count, let host = volumes[index].statistics() { s = host }
            s.type = VolumeMount.ninePMagic
            s.fsid = (Int32(mount.deviceMinor), 0)
            s.flags = Statfs.flagValid | Statfs.flagRelatime | (readOnly ? VolumeMount.flagReadOnly : 0)
        }
        return s
    }

    /// The statistics for what an open description refers to: its inode's mount, or the
    /// pseudo file system behind a pipe, socket or anonymous inode (as fstatfs(2) on Linux).
    static func statistics(_ k: KernelState, of f: OpenFile) -> Statfs {
        if let inode = f.inode, !(f.object is PipeEnd) { return statistics(k, of: inode.mount) }
        var s = Statfs()
        switch f.kind {
        case .console: return statistics(k, of: .devtmpfs)   // /dev/console's node
        case .snapshot: return statistics(k, of: .proc)
        case .inode: return statistics(k, of: .tmpfs)
        case .object:
            if f.object is PipeEnd { s.type = Statfs.pipefsMagic }
            else if f.object is KernelSocket { s.type = Statfs.sockfsMagic }
            else { s.type = Statfs.anonInodeMagic }
            s.blockSize = 4096
            s.nameLength = 255
        }
        return s
    }

    static func writeStatistics(_ k: KernelState, _ s: Statfs, _ buffer: UserAddress) throws(Errno) -> Int {
        if let e = k.memory.copyOut(buffer, from: s.encode()) { throw e }
        return 0
    }

    /// statfs(2): the file system `path` is on (symlinks followed).
    static func statfs(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = try target(k, atFDCWD, a.address(0), follow: true, emptyPath: false).get()
        guard let i = inode(of: t) else { throw .ENOENT }
        return try writeStatistics(k, statistics(k, of: i.mount), a.address(1))
    }

    /// fstatfs(2): the file system an open descriptor is on (O_PATH descriptors too).
    static func fstatfs(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try FileSyscalls.file(k, a, 0)
        return try writeStatistics(k, statistics(k, of: f), a.address(1))
    }
}
