// Permissions — who may read, write, execute, search, create in, delete from, chmod, chown
// and touch an inode (KernelCore/VFS, pure logic; host-tested in
// Tests/KernelCoreTests/PermissionsTests.swift).
//
// The rules are fs/namei.c (generic_permission, acl_permission_check, may_delete's
// check_sticky, may_create, may_open), fs/attr.c (setattr_prepare, chown_ok, chgrp_ok) and
// fs/inode.c (inode_init_owner), with capabilities as capabilities(7) gives them:
// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_CHOWN. The caller's
// Credentials come from Process/Credentials.swift; FileSystem.swift calls the hooks below
// while it walks and edits the tree, the path and descriptor syscalls call the rest.
import LinuxABI

/// MAY_EXEC, MAY_WRITE, MAY_READ (include/linux/fs.h) — also access(2)'s X_OK, W_OK, R_OK.
public enum AccessMask {
    public static let execute: UInt32 = 1, write: UInt32 = 2, read: UInt32 = 4
}

public enum Permissions {
    /// generic_permission: the owner class if the fs uid owns the file, else the group class
    /// if the caller is in its group, else other; failing that, CAP_DAC_OVERRIDE grants
    /// everything on a directory and all but executing a file with no execute bit, and
    /// CAP_DAC_READ_SEARCH grants reading files and reading and searching directories.
    public static func check(_ inode: Inode, _ mask: UInt32, _ c: Credentials) -> Errno? {
        let mode = inode.permissions
        let granted: UInt32
        if c.fsuid == inode.uid { granted = (mode >> 6) & 7 }
        else if c.inGroup(inode.gid) { granted = (mode >> 3) & 7 }
        else { granted = mode & 7 }
        if mask & ~granted == 0 { return nil }
        if inode.isDirectory {
            if mask & AccessMask.write == 0 && c.capable(CapabilitySet.dacReadSearch) { return nil }
            if c.capable(CapabilitySet.dacOverride) { return nil }
            return .EACCES
        }
        if mask & AccessMask.execute == 0 || mode & 0o111 != 0 {
            if c.capable(CapabilitySet.dacOverride) { return nil }
        }
        if mask == AccessMask.read && c.capable(CapabilitySet.dacReadSearch) { return nil }
        return .EACCES
    }

    /// Whether execve(2) may run `inode`: a regular file (else EACCES, as do_open_execat
    /// finds with S_ISREG) with execute permission for the caller. For the exec engineer's
    /// execve; root needs one execute bit somewhere.
    public static func mayExecute(_ inode: Inode, _ c: Credentials) -> Errno? {
        guard inode.isRegular else { return .EACCES }
        return check(inode, AccessMask.execute, c)
    }

    /// may_open: reading for O_RDONLY/O_RDWR, writing for O_WRONLY/O_RDWR and O_TRUNC. A file
    /// the same open created is not checked (its mode may deny the creator, as with
    /// open("f", O_CREAT|O_RDWR, 0444)).
    public static func mayOpen(_ inode: Inode, accessMode: UInt64, truncate: Bool, _ c: Credentials) -> Errno? {
        var mask: UInt32 = 0
        if accessMode == 0 || accessMode == 2 { mask |= AccessMask.read }
        if accessMode == 1 || accessMode == 2 || truncate { mask |= AccessMask.write }
        if inode.isDirectory { mask &= ~AccessMask.write }   // EISDIR is reported by the caller
        return mask == 0 ? nil : check(inode, mask, c)
    }

    /// may_create: writing and searching the directory.
    public static func mayCreate(in directory: Inode, _ c: Credentials) -> Errno? {
        check(directory, AccessMask.write | AccessMask.execute, c)
    }

    /// may_delete: writing and searching the directory (EACCES), then the sticky bit: in a
    /// S_ISVTX directory only the file's owner, the directory's owner or CAP_FOWNER may
    /// remove or rename an entry (EPERM).
    public static func mayDelete(_ victim: Inode, from directory: Inode, _ c: Credentials) -> Errno? {
        if let e = check(directory, AccessMask.write | AccessMask.execute, c) { return e }
        if directory.permissions & FileMode.S_ISVTX != 0 && c.fsuid != victim.uid && c.fsuid != directory.uid
            && !c.capable(CapabilitySet.fowner) {
            return .EPERM
        }
        return nil
    }

    /// inode_owner_or_capable: the fs uid owns the inode, or CAP_FOWNER.
    public static func isOwnerOrCapable(_ inode: Inode, _ c: Credentials) -> Bool {
        c.fsuid == inode.uid || c.capable(CapabilitySet.fowner)
    }

    /// chmod(2) (setattr_prepare, ATTR_MODE): the owner or CAP_FOWNER, else EPERM; S_ISGID is
    /// silently dropped when the caller is not in the file's group and lacks CAP_FSETID.
    public static func changingMode(_ inode: Inode, to mode: UInt32, _ c: Credentials) -> Result<UInt32, Errno> {
        guard isOwnerOrCapable(inode, c) else { return .failure(.EPERM) }
        var m = mode & 0o7777
        if !c.inGroup(inode.gid) && !c.capable(CapabilitySet.fsetid) { m &= ~FileMode.S_ISGID }
        return .success(m)
    }

    /// chown(2) (chown_ok, chgrp_ok): changing the owner needs CAP_CHOWN; the owner may
    /// change the group to one of its groups. (uid_t)-1 leaves a field alone. Afterwards a
    /// non-directory loses S_ISUID, and S_ISGID when group-executable (chown_common's
    /// ATTR_KILL_SUID/ATTR_KILL_SGID, applied to root too). Returns (uid, gid, permissions).
    public static func changingOwner(_ inode: Inode, uid: UInt32, gid: UInt32,
                                     _ c: Credentials) -> Result<(UInt32, UInt32, UInt32), Errno> {
        let chown = c.capable(CapabilitySet.chown)
        if uid != Credentials.unchanged && !(chown || (c.fsuid == inode.uid && uid == inode.uid)) {
            return .failure(.EPERM)
        }
        if gid != Credentials.unchanged && !(chown || (c.fsuid == inode.uid && (gid == inode.gid || c.inGroup(gid)))) {
            return .failure(.EPERM)
        }
        var m = inode.permissions
        if !inode.isDirectory {
            m &= ~FileMode.S_ISUID
            if m & (FileMode.S_ISGID | 0o010) == FileMode.S_ISGID | 0o010 { m &= ~FileMode.S_ISGID }
        }
        return .success((uid == Credentials.unchanged ? inode.uid : uid,
                         gid == Credentials.unchanged ? inode.gid : gid, m))
    }

    /// utimensat(2): explicit times need the owner or CAP_FOWNER (EPERM); "now" for both
    /// (times NULL, or UTIME_NOW twice) is also allowed to anyone who may write the file.
    public static func mayChangeTimes(_ inode: Inode, toNow: Bool, _ c: Credentials) -> Errno? {
        if isOwnerOrCapable(inode, c) { return nil }
        if !toNow { return .EPERM }
        return check(inode, AccessMask.write, c)
    }

    /// inode_init_owner: a new node belongs to the fs uid, and to the directory's group when
    /// the directory is set-group-ID (a new directory inherits the bit), else to the fs gid.
    /// A new file asking for S_ISGID|S_IXGRP in a group the creator is not in loses S_ISGID
    /// unless CAP_FSETID.
    public static func assignOwner(_ inode: Inode, in directory: Inode, _ c: Credentials) {
        inode.uid = c.fsuid
        if directory.permissions & FileMode.S_ISGID != 0 {
            inode.gid = directory.gid
            if inode.isDirectory {
                inode.permissions |= FileMode.S_ISGID
            } else if inode.permissions & (FileMode.S_ISGID | 0o010) == FileMode.S_ISGID | 0o010
                        && !c.inGroup(inode.gid) && !c.capable(CapabilitySet.fsetid) {
                inode.permissions &= ~FileMode.S_ISGID
            }
        } else {
            inode.gid = c.fsgid
        }
    }
}

// The hooks FileSystem.swift calls, with the credentials of the thread making the call
// (FileSystem.caller; root in host tests that set none).
extension FileSystem {
    /// may_lookup: searching a directory while walking a path.
    func searchDenied(_ directory: Inode) -> Errno? {
        Permissions.check(directory, AccessMask.execute, caller())
    }

    func createDenied(in directory: Inode) -> Errno? {
        Permissions.mayCreate(in: directory, caller())
    }

    func deleteDenied(_ victim: Inode, from directory: Inode) -> Errno? {
        Permissions.mayDelete(victim, from: directory, caller())
    }

    /// rename(2) of a directory to a new parent rewrites its "..": it must be writable too
    /// (vfs_rename: MAY_WRITE on the moved directory when the parents differ).
    func renameDenied(_ source: Inode, from old: Inode, to new: Inode, replacing target: Inode?) -> Errno? {
        let c = caller()
        if let e = Permissions.mayDelete(source, from: old, c) { return e }
        if let target {
            if let e = Permissions.mayDelete(target, from: new, c) { return e }
        } else if let e = Permissions.mayCreate(in: new, c) {
            return e
        }
        if source.isDirectory && old !== new, let e = Permissions.check(source, AccessMask.write, c) { return e }
        return nil
    }

    func assignOwner(_ inode: Inode, in directory: Inode) {
        Permissions.assignOwner(inode, in: directory, caller())
    }
}
