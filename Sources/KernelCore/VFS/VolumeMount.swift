// VolumeMount — what the VFS knows of a host directory mounted with egg run -v (KernelCore/
// VFS, pure logic): its mount point, whether it is read-only, and where its statfs figures
// come from. The 9P client that serves it lives in Drivers/NinePVolume.swift (KernelCore
// cannot see Drivers), so the figures come through a closure it supplies. Neighbours:
// Inode.swift (MountKind.volume), ProcFSText.swift (/proc/mounts lines, st_dev),
// Syscalls/PathSyscalls.swift (statfs).
import LinuxABI

public struct VolumeMount {
    /// The absolute guest path of the mount point.
    public var path: [UInt8]
    /// The mount source /proc/mounts shows (the virtio-9p mount tag, as Linux shows it).
    public var source: [UInt8]
    public var readOnly: Bool
    /// statfs(2) of the host file system (Tstatfs), nil when the server does not answer.
    public var statistics: () -> Statfs?

    public init(path: [UInt8], source: [UInt8], readOnly: Bool, statistics: @escaping () -> Statfs?) {
        self.path = path
        self.source = source
        self.readOnly = readOnly
        self.statistics = statistics
    }

    /// V9FS_MAGIC (include/uapi/linux/magic.h): what statfs reports on a 9p mount.
    public static let ninePMagic: Int64 = 0x0102_1997
    /// statfs f_flags of a read-only mount (ST_RDONLY).
    public static let flagReadOnly: Int64 = 0x1

    /// The options /proc/mounts shows, as a Linux 9p mount over virtio lists them
    /// (fs/9p/v9fs.c v9fs_show_options): rw or ro, then the transport.
    public var options: String { (readOnly ? "ro" : "rw") + ",relatime,access=client,trans=virtio" }
}

/// Lookups the volume layer needs from a system call's arguments (Drivers/NinePSyncCalls
/// .swift: a name a lookup did not find is looked for on the host, then the call retried).
public enum VolumeLookup {
    /// The directory that holds (or would hold) the last component of the path at `address`,
    /// relative to `dirfd` as the *at calls take it; nil when the path or the walk fails.
    public static func parentDirectory(_ k: KernelState, _ dirfd: Int32, _ address: UserAddress) -> Inode? {
        guard case .success(let (path, base)) = PathSyscalls.pathAndBase(k, dirfd, address) else { return nil }
        guard case .success(let p) = k.files.fileSystem.resolveParent(path, from: base) else { return nil }
        return p.directory
    }
}
