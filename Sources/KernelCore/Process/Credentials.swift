// Credentials — a thread's user and group ids, supplementary groups, capability sets and
// securebits, and the rules by which the set*id and capset calls change them (KernelCore
// layer, pure logic; host-tested in Tests/KernelCoreTests/CredentialsTests.swift).
//
// Neighbours: Syscalls/CredentialSyscalls.swift copies arguments in and out and calls the
// transitions here; VFS/Permissions.swift decides file access from a Credentials value.
// Each Thread holds its own value (Threads/Thread.swift), as Linux keeps `cred` per task:
// musl and glibc make setuid and friends process-wide by repeating the call on every thread.
//
// The transitions follow kernel/sys.c (__sys_setuid, __sys_setreuid, __sys_setresuid,
// __sys_setfsuid and the gid twins, set_groups) and security/commoncap.c
// (cap_task_fix_setuid, cap_emulate_setxuid, cap_capset), as credentials(7) and
// capabilities(7) describe them. egg has one user namespace, the initial one, so "capable"
// is "the effective set holds the capability".
import LinuxABI

/// Capability numbers (include/uapi/linux/capability.h) and sets of them as a 64-bit mask.
public struct CapabilitySet: Equatable, Sendable {
    public var bits: UInt64
    public init(bits: UInt64) { self.bits = bits & CapabilitySet.validBits }

    /// CAP_LAST_CAP is 40 (CAP_CHECKPOINT_RESTORE) in Linux 6.1.
    public static let lastCapability = 40
    public static let validBits: UInt64 = (1 << 41) - 1
    public static let empty = CapabilitySet(bits: 0)
    public static let full = CapabilitySet(bits: validBits)

    public static let chown = 0, dacOverride = 1, dacReadSearch = 2, fowner = 3, fsetid = 4
    public static let kill = 5, setgid = 6, setuid = 7, setpcap = 8, linuxImmutable = 9
    public static let ipcLock = 14, ipcOwner = 15, sysAdmin = 21, sysResource = 24
    public static let macOverride = 32

    /// CAP_FS_MASK (include/linux/capability.h): what follows the fsuid to and from 0.
    public static let fileSystemMask = CapabilitySet(bits: 1 << chown | 1 << dacOverride | 1 << dacReadSearch
                                                     | 1 << fowner | 1 << fsetid | 1 << linuxImmutable
                                                     | 1 << macOverride)

    public func contains(_ capability: Int) -> Bool {
        capability >= 0 && capability <= CapabilitySet.lastCapability && bits & (1 << UInt64(capability)) != 0
    }
    public func isSubset(of other: CapabilitySet) -> Bool { bits & ~other.bits == 0 }
    public func union(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bits: bits | other.bits) }
    public func intersection(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bits: bits & other.bits) }
    public func subtracting(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(bits: bits & ~other.bits) }
}

public struct Credentials: Equatable, Sendable {
    public var uid: UInt32 = 0, euid: UInt32 = 0, suid: UInt32 = 0, fsuid: UInt32 = 0
    public var gid: UInt32 = 0, egid: UInt32 = 0, sgid: UInt32 = 0, fsgid: UInt32 = 0
    /// Supplementary groups, sorted (set_groups sorts them for in_group_p's search).
    public var groups: [UInt32] = []
    public var effective = CapabilitySet.full
    public var permitted = CapabilitySet.full
    public var inheritable = CapabilitySet.empty
    public var bounding = CapabilitySet.full
    public var ambient = CapabilitySet.empty
    public var securebits: UInt32 = 0

    public init() {}

    /// The process egg starts: root with every capability, as in a container run as root.
    public static let root = Credentials()

    /// (uid_t)-1: "leave unchanged" in setre*id/setres*id; never a valid id (uid_valid).
    public static let unchanged = UInt32.max
    /// NGROUPS_MAX (include/uapi/linux/limits.h).
    public static let groupsMax = 65536
    /// securebits (include/uapi/linux/securebits.h).
    public static let secureNoSetuidFixup: UInt32 = 1 << 2
    public static let secureKeepCaps: UInt32 = 1 << 4

    public func capable(_ capability: Int) -> Bool { effective.contains(capability) }

    /// in_group_p: the fs gid or a supplementary group.
    public func inGroup(_ g: UInt32) -> Bool { g == fsgid || groups.contains(g) }

    // MARK: user ids (kernel/sys.c)

    /// setuid(2): with CAP_SETUID all four ids; otherwise the effective (and fs) id may
    /// become the real or saved id. -1 is EINVAL.
    public func settingUID(_ u: UInt32) -> Result<Credentials, Errno> {
        guard u != Credentials.unchanged else { return .failure(.EINVAL) }
        var n = self
        if capable(CapabilitySet.setuid) {
            n.uid = u; n.suid = u
        } else if u != uid && u != suid {
            return .failure(.EPERM)
        }
        n.euid = u; n.fsuid = u
        return .success(n.fixingCapabilitiesAfterUIDChange(from: self))
    }

    /// setreuid(2): an unprivileged caller may set the real id to the real or effective id,
    /// and the effective id to the real, effective or saved id. The saved id becomes the new
    /// effective id when the real id is set, or the effective id is set to other than the
    /// old real id.
    public func settingREUID(_ r: UInt32, _ e: UInt32) -> Result<Credentials, Errno> {
        var n = self
        let privileged = capable(CapabilitySet.setuid)
        if r != Credentials.unchanged {
            n.uid = r
            if !privileged && r != uid && r != euid { return .failure(.EPERM) }
        }
        if e != Credentials.unchanged {
            n.euid = e
            if !privileged && e != uid && e != euid && e != suid { return .failure(.EPERM) }
        }
        if r != Credentials.unchanged || (e != Credentials.unchanged && e != uid) { n.suid = n.euid }
        n.fsuid = n.euid
        return .success(n.fixingCapabilitiesAfterUIDChange(from: self))
    }

    /// setresuid(2): unprivileged, each id given must be one of the current three.
    public func settingRESUID(_ r: UInt32, _ e: UInt32, _ s: UInt32) -> Result<Credentials, Errno> {
        if !capable(CapabilitySet.setuid) {
            for v in [r, e, s] where v != Credentials.unchanged && v != uid && v != euid && v != suid {
                return .failure(.EPERM)
            }
        }
        var n = self
        if r != Credentials.unchanged { n.uid = r }
        if e != Credentials.unchanged { n.euid = e }
        if s != Credentials.unchanged { n.suid = s }
        n.fsuid = n.euid
        return .success(n.fixingCapabilitiesAfterUIDChange(from: self))
    }

    /// setfsuid(2): returns the previous fs id whatever happens; the change is made when
    /// the id is the real, effective, saved or current fs id, or with CAP_SETUID.
    public func settingFSUID(_ u: UInt32) -> (previous: UInt32, new: Credentials) {
        var n = self
        guard u != Credentials.unchanged else { return (fsuid, n) }
        if u == uid || u == euid || u == suid || u == fsuid || capable(CapabilitySet.setuid) {
            n.fsuid = u
            if securebits & Credentials.secureNoSetuidFixup == 0 {
                // cap_task_fix_setuid, LSM_SETID_FS: the file-system capabilities follow the
                // fs id leaving or returning to 0.
                if fsuid == 0 && u != 0 { n.effective = n.effective.subtracting(CapabilitySet.fileSystemMask) }
                if fsuid != 0 && u == 0 {
                    n.effective = n.effective.union(n.permitted.intersection(CapabilitySet.fileSystemMask))
                }
            }
        }
        return (fsuid, n)
    }

    /// cap_emulate_setxuid: leaving root (no id left 0) clears the permitted and effective
    /// sets unless SECBIT_KEEP_CAPS, and always the ambient set; the effective set empties
    /// when the effective id leaves 0 and refills from the permitted set when it returns.
    func fixingCapabilitiesAfterUIDChange(from old: Credentials) -> Credentials {
        guard securebits & Credentials.secureNoSetuidFixup == 0 else { return self }
        var n = self
        if (old.uid == 0 || old.euid == 0 || old.suid == 0) && n.uid != 0 && n.euid != 0 && n.suid != 0 {
            if securebits & Credentials.secureKeepCaps == 0 {
                n.permitted = .empty
                n.effective = .empty
            }
            n.ambient = .empty
        }
        if old.euid == 0 && n.euid != 0 { n.effective = .empty }
        if old.euid != 0 && n.euid == 0 { n.effective = n.permitted }
        return n
    }

    // MARK: group ids: the same rules under CAP_SETGID, with no capability fix-ups

    public func settingGID(_ g: UInt32) -> Result<Credentials, Errno> {
        guard g != Credentials.unchanged else { return .failure(.EINVAL) }
        var n = self
        if capable(CapabilitySet.setgid) {
            n.gid = g; n.sgid = g
        } else if g != gid && g != sgid {
            return .failure(.EPERM)
        }
        n.egid = g; n.fsgid = g
        return .success(n)
    }

    public func settingREGID(_ r: UInt32, _ e: UInt32) -> Result<Credentials, Errno> {
        var n = self
        let privileged = capable(CapabilitySet.setgid)
        if r != Credentials.unchanged {
            n.gid = r
            if !privileged && r != gid && r != egid { return .failure(.EPERM) }
        }
        if e != Credentials.unchanged {
            n.egid = e
            if !privileged && e != gid && e != egid && e != sgid { return .failure(.EPERM) }
        }
        if r != Credentials.unchanged || (e != Credentials.unchanged && e != gid) { n.sgid = n.egid }
        n.fsgid = n.egid
        return .success(n)
    }

    public func settingRESGID(_ r: UInt32, _ e: UInt32, _ s: UInt32) -> Result<Credentials, Errno> {
        if !capable(CapabilitySet.setgid) {
            for v in [r, e, s] where v != Credentials.unchanged && v != gid && v != egid && v != sgid {
                return .failure(.EPERM)
            }
        }
        var n = self
        if r != Credentials.unchanged { n.gid = r }
        if e != Credentials.unchanged { n.egid = e }
        if s != Credentials.unchanged { n.sgid = s }
        n.fsgid = n.egid
        return .success(n)
    }

    public func settingFSGID(_ g: UInt32) -> (previous: UInt32, new: Credentials) {
        var n = self
        guard g != Credentials.unchanged else { return (fsgid, n) }
        if g == gid || g == egid || g == sgid || g == fsgid || capable(CapabilitySet.setgid) { n.fsgid = g }
        return (fsgid, n)
    }

    /// setgroups(2): CAP_SETGID, at most NGROUPS_MAX entries.
    public func settingGroups(_ list: [UInt32]) -> Result<Credentials, Errno> {
        guard list.count <= Credentials.groupsMax else { return .failure(.EINVAL) }
        guard capable(CapabilitySet.setgid) else { return .failure(.EPERM) }
        for g in list where g == Credentials.unchanged { return .failure(.EINVAL) }
        var n = self
        n.groups = list.sorted()
        return .success(n)
    }

    // MARK: capabilities (cap_capset)

    /// capset(2) on oneself: the new inheritable set may only add what is permitted (unless
    /// CAP_SETPCAP) and only what the bounding set holds; permitted may only shrink; effective
    /// must lie within the new permitted set. The ambient set keeps what is still both
    /// permitted and inheritable.
    public func settingCapabilities(effective e: CapabilitySet, permitted p: CapabilitySet,
                                    inheritable i: CapabilitySet) -> Result<Credentials, Errno> {
        if !capable(CapabilitySet.setpcap) && !i.isSubset(of: inheritable.union(permitted)) { return .failure(.EPERM) }
        if !i.isSubset(of: inheritable.union(bounding)) { return .failure(.EPERM) }
        if !p.isSubset(of: permitted) { return .failure(.EPERM) }
        if !e.isSubset(of: p) { return .failure(.EPERM) }
        var n = self
        n.effective = e
        n.permitted = p
        n.inheritable = i
        n.ambient = ambient.intersection(p).intersection(i)
        return .success(n)
    }

    /// The credentials access(2) and faccessat(2) check with (do_faccessat's override):
    /// the real ids stand in for the fs ids, and unless SECBIT_NO_SETUID_FIXUP a non-root
    /// real id has no effective capabilities while root's are its permitted ones.
    public var forAccessCheck: Credentials {
        var n = self
        n.fsuid = uid
        n.fsgid = gid
        if securebits & Credentials.secureNoSetuidFixup == 0 {
            n.effective = uid == 0 ? permitted : .empty
        }
        return n
    }
}
