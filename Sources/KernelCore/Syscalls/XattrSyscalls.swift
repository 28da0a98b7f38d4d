// XattrSyscalls — setxattr/lsetxattr/fsetxattr, getxattr/lgetxattr/fgetxattr,
// listxattr/llistxattr/flistxattr, removexattr/lremovexattr/fremovexattr (KernelCore layer).
//
// The store and its limits are VFS/ExtendedAttributes.swift (Linux 6.6 tmpfs). This file
// follows fs/xattr.c for the order of checks and for who may do what: the flags, the name
// (ERANGE) and the value size (E2BIG) are checked before the path is looked up
// (setxattr_copy); then xattr_permission — trusted.* needs CAP_SYS_ADMIN (EPERM to write,
// ENODATA to read), user.* only on regular files and directories (EPERM / ENODATA
// otherwise), with inode_permission and the sticky-directory owner rule; security.* writes
// need CAP_SYS_ADMIN from commoncap's cap_inode_setxattr. /proc and /sys have no xattr
// handlers (EOPNOTSUPP), nor do pipes, sockets or the console behind a descriptor. An
// O_PATH descriptor is EBADF (fdget). listxattr where there are no handlers lists nothing
// (vfs_listxattr falls back to the security module, which has none here). Set and remove change ctime (shmem_xattr_handler_set).
import LinuxABI

enum XattrSyscalls {
    static let capSysAdmin = CapabilitySet.sysAdmin

    /// The inode a path (following the last symlink or not) or a descriptor names.
    static func inode(_ k: KernelState, path: UserAddress, follow: Bool) throws(Errno) -> Inode? {
        let t = try PathSyscalls.target(k, PathSyscalls.atFDCWD, path, follow: follow, emptyPath: false).get()
        return PathSyscalls.inode(of: t)
    }

    /// nil: a pipe, socket, console or anonymous inode (no xattr handlers, not a regular
    /// file or directory).
    static func inode(_ k: KernelState, fd: Int) throws(Errno) -> Inode? {
        let f = try FileSyscalls.file(k, fd)
        if f.isPathOnly { throw .EBADF }
        return f.inode
    }

    /// The attribute name: 1 to XATTR_NAME_MAX bytes, else ERANGE (strncpy_from_user).
    static func name(_ k: KernelState, _ address: UserAddress) throws(Errno) -> [UInt8] {
        switch k.memory.readCString(address, maximum: ExtendedAttributes.nameMax + 1) {
        case .success(let n):
            guard !n.isEmpty else { throw .ERANGE }
            return n
        case .failure(.ENAMETOOLONG): throw .ERANGE
        case .failure(let e): throw e
        }
    }

    /// Whether the file system keeps extended attributes (tmpfs, devtmpfs, /dev/shm).
    static func supportsAttributes(_ i: Inode) -> Bool {
        switch i.mount {
        case .tmpfs, .devtmpfs, .shm: return i.synthetic == nil
        case .proc, .sysfs: return false
        // A -v volume: egg's 9P client does not speak Txattrwalk/Txattrcreate, so the
        // volume answers as a 9p mount without xattr support (EOPNOTSUPP).
        case .volume: return false
        }
    }

    /// xattr_permission plus cap_inode_setxattr/removexattr; `write` is MAY_WRITE.
    static func permission(_ k: KernelState, _ node: Inode?, _ n: [UInt8], write: Bool) -> Errno? {
        let c = k.currentThread.credentials
        switch ExtendedAttributes.namespace(of: n) {
        case .success(.security):
            return write && !c.capable(capSysAdmin) ? .EPERM : nil
        case .success(.trusted):
            return c.capable(capSysAdmin) ? nil : (write ? .EPERM : .ENODATA)
        case .success(.user):
            guard let i = node, i.isRegular || i.isDirectory else { return write ? .EPERM : .ENODATA }
            if write, i.isDirectory, i.permissions & 0o1000 != 0, !Permissions.isOwnerOrCapable(i, c) { return .EPERM }
            return Permissions.check(i, write ? AccessMask.write : AccessMask.read, c)
        case .failure:
            // Unknown prefixes reach inode_permission before the handler lookup fails.
            guard let i = node else { return nil }
            return Permissions.check(i, write ? AccessMask.write : AccessMask.read, c)
        }
    }

    /// The resolved namespace, or EOPNOTSUPP where the file system has no handlers.
    static func checkName(_ node: Inode?, _ n: [UInt8]) throws(Errno) -> Inode {
        guard let i = node, supportsAttributes(i) else { throw .EOPNOTSUPP }
        _ = try ExtendedAttributes.namespace(of: n).get()
        return i
    }

    /// free_ispace: nr_inodes * BOGO_INODE_SIZE (1024) less what inodes and attributes hold;
    /// nil when the store has no inode limit (nr_inodes=0 or not yet bound).
    static func availableSpace(_ i: Inode) -> Int? {
        let store = i.contents.store
        guard store.limitInodes > 0 else { return nil }
        return max(0, (store.limitInodes - store.inodesInUse) * 1024 - store.xattrSpaceInUse)
    }

    // MARK: set

    static func set(_ k: KernelState, _ a: SyscallArguments, _ find: (KernelState) throws(Errno) -> Inode?) throws(Errno) -> Int {
        let flags = a[4] & 0xffff_ffff
        guard flags & ~(ExtendedAttributes.create | ExtendedAttributes.replace) == 0 else { throw .EINVAL }
        let n = try name(k, a.address(1))
        let size = a.size(3)
        guard size >= 0, size <= ExtendedAttributes.sizeMax else { throw .E2BIG }
        let value = size == 0 ? [] : try k.memory.copyIn(a.address(2), count: size).get()
        let node = try find(k)
        if let e = permission(k, node, n, write: true) { throw e }
        let i = try checkName(node, n)
        let delta = try i.xattrs.set(n, value, flags: flags, available: availableSpace(i)).get()
        i.contents.store.xattrSpaceInUse += delta
        i.changeTime = k.platform.realtimeNanoseconds()
        return 0
    }

    static func setxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try set(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: true) }
    }
    static func lsetxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try set(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: false) }
    }
    static func fsetxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        return try set(k, a) { k throws(Errno) -> Inode? in try inode(k, fd: fd) }
    }

    // MARK: get

    /// do_getxattr: size 0 asks for the length; a size above XATTR_SIZE_MAX is cut to it;
    /// a value longer than the buffer is ERANGE (E2BIG when the buffer was the maximum).
    static func get(_ k: KernelState, _ a: SyscallArguments, _ find: (KernelState) throws(Errno) -> Inode?) throws(Errno) -> Int {
        let n = try name(k, a.address(1))
        let node = try find(k)
        if let e = permission(k, node, n, write: false) { throw e }
        let i = try checkName(node, n)
        guard let value = i.xattrs.value(of: n) else { throw .ENODATA }
        let size = min(a.size(3), ExtendedAttributes.sizeMax)
        if a.size(3) == 0 { return value.count }
        if value.count > size { throw a.size(3) >= ExtendedAttributes.sizeMax ? .E2BIG : .ERANGE }
        if !value.isEmpty, let e = k.memory.copyOut(a.address(2), from: value) { throw e }
        return value.count
    }

    static func getxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try get(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: true) }
    }
    static func lgetxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try get(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: false) }
    }
    static func fgetxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        return try get(k, a) { k throws(Errno) -> Inode? in try inode(k, fd: fd) }
    }

    // MARK: list

    /// listxattr: the names, each NUL-terminated; size 0 asks for the length; ERANGE when
    /// they do not fit (E2BIG at XATTR_LIST_MAX). /proc lists nothing (no handlers: 0).
    static func list(_ k: KernelState, _ a: SyscallArguments, _ find: (KernelState) throws(Errno) -> Inode?) throws(Errno) -> Int {
        guard let i = try find(k) else { return 0 }
        let names = supportsAttributes(i) ? i.xattrs.list(showTrusted: k.currentThread.credentials.capable(capSysAdmin)) : []
        let size = min(a.size(2), ExtendedAttributes.listMax)
        if a.size(2) == 0 { return names.count }
        if names.count > size { throw a.size(2) >= ExtendedAttributes.listMax ? .E2BIG : .ERANGE }
        if !names.isEmpty, let e = k.memory.copyOut(a.address(1), from: names) { throw e }
        return names.count
    }

    static func listxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try list(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: true) }
    }
    static func llistxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try list(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: false) }
    }
    static func flistxattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        // vfs_listxattr on an inode without handlers asks the security module: nothing.
        return try list(k, a) { k throws(Errno) -> Inode? in try inode(k, fd: fd) }
    }

    // MARK: remove

    static func remove(_ k: KernelState, _ a: SyscallArguments, _ find: (KernelState) throws(Errno) -> Inode?) throws(Errno) -> Int {
        let n = try name(k, a.address(1))
        let node = try find(k)
        if let e = permission(k, node, n, write: true) { throw e }
        let i = try checkName(node, n)
        let freed = try i.xattrs.remove(n).get()
        i.contents.store.xattrSpaceInUse -= freed
        i.changeTime = k.platform.realtimeNanoseconds()
        return 0
    }

    static func removexattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try remove(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: true) }
    }
    static func lremovexattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try remove(k, a) { k throws(Errno) -> Inode? in try inode(k, path: a.address(0), follow: false) }
    }
    static func fremovexattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        return try remove(k, a) { k throws(Errno) -> Inode? in try inode(k, fd: fd) }
    }
}
