// RootAndResolveSyscalls — chroot(2) and openat2(2) (KernelCore layer): the calls that
// change where path resolution may go.
//
// chroot gives the process its own root (FileTable.root, copied by fork, kept by execve):
// FileSystem.lookupRoot makes "/" and ".." stop there for every path call, getcwd shows a
// working directory outside it as "(unreachable)/..." (VFS/FileSystem.swift). openat2 is
// openat with struct open_how and the RESOLVE_* rules of VFS/ResolveRules.swift; its
// argument checks follow fs/open.c build_open_how/build_open_flags and
// copy_struct_from_user (include/linux/uaccess.h).
import LinuxABI

enum RootAndResolveSyscalls {
    /// CAP_SYS_CHROOT (capabilities(7)).
    static let capSysChroot = 18

    /// chroot(2) (fs/open.c ksys_chroot): the path must be a directory (ENOENT, ENOTDIR)
    /// the caller may search (EACCES), then CAP_SYS_CHROOT (EPERM). The working directory
    /// does not move.
    static func chroot(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let (path, start) = try PathSyscalls.pathAndBase(k, PathSyscalls.atFDCWD, a.address(0)).get()
        let directory = try k.files.fileSystem.resolve(path, from: start, followFinal: true).get()
        guard directory.isDirectory else { throw .ENOTDIR }
        let c = k.currentThread.credentials
        if let e = Permissions.check(directory, AccessMask.execute, c) { throw e }
        guard c.capable(capSysChroot) else { throw .EPERM }
        k.files.root = directory === k.files.fileSystem.root ? nil : directory
        return 0
    }

    /// sizeof(struct open_how) in its first version (OPEN_HOW_SIZE_VER0): flags, mode, resolve.
    static let openHowSize = 24

    /// openat2(2): `size` below 24 is EINVAL, above a page E2BIG, and bytes past the
    /// fields this kernel knows must be zero (E2BIG: copy_struct_from_user). Unlike open(2),
    /// unknown O_ flags are EINVAL, a mode without O_CREAT/O_TMPFILE is EINVAL, and
    /// RESOLVE_CACHED with O_CREAT, O_TRUNC or O_TMPFILE is EAGAIN.
    static func openat2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        // openat2(dirfd, pathname, struct open_how *how, size_t size)
        let size = a.size(3)
        guard size >= openHowSize else { throw .EINVAL }
        guard size <= 4096 else { throw .E2BIG }
        let bytes = try k.memory.copyIn(a.address(2), count: size).get()
        for b in bytes[openHowSize...] where b != 0 { throw .E2BIG }
        let r = ByteReader(bytes)
        let flags = r.u64(0), mode = r.u64(8), resolve = r.u64(16)
        guard flags <= 0xFFFF_FFFF, OpenFlags(rawValue: UInt32(flags)).unknownBits == 0 else { throw .EINVAL }
        let creates = flags & PathSyscalls.oCreat != 0 || flags & PathSyscalls.oTmpfileBit != 0
        if creates { guard mode & ~0o7777 == 0 else { throw .EINVAL } } else { guard mode == 0 else { throw .EINVAL } }
        if resolve & ResolveRules.cached != 0 && (creates || flags & PathSyscalls.oTrunc != 0) { throw .EAGAIN }
        let start = try PathSyscalls.base(k, a.int32(0), [FileSystem.dot]).get()
        let rules = try ResolveRules.make(resolve, start: start).get()
        return try PathSyscalls.openAt(k, a.int32(0), a.address(1), flags, UInt32(mode), rules: rules)
    }
}
