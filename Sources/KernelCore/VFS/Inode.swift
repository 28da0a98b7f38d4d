// Inode — one object of the in-memory (tmpfs-like) file system: a directory, a regular
// file, a symbolic link or a device node (KernelCore/VFS, pure logic).
//
// Neighbours: FileSystem.swift resolves paths over these and implements the namespace
// operations (create, unlink, rename...); FileTable.swift holds the open file descriptions
// and descriptors; the syscalls that use both are Sources/KernelCore/Syscalls/FileSyscalls
// .swift and PathSyscalls.swift. Modes are Linux's st_mode bits (S_IFMT type + permissions).
import LinuxABI

/// The character devices the VFS knows (major, minor as Linux numbers them,
/// Documentation/admin-guide/devices.txt).
public enum DeviceKind: Equatable {
    case null, zero, random, urandom, console, tty, framebuffer
    /// A node made by mknod(2) for a device egg has no driver for: open is ENXIO.
    case other(major: UInt32, minor: UInt32)
    /// A block device node made by mknod(2): egg has no block drivers, so open is ENXIO
    /// (blkdev_open finding no disk).
    case block(major: UInt32, minor: UInt32)

    /// mknod(2) of a character device: egg's own devices by their numbers, any other pair
    /// a node without a driver (Documentation/admin-guide/devices.txt).
    public static func character(major: UInt32, minor: UInt32) -> DeviceKind {
        for d in [DeviceKind.null, .zero, .random, .urandom, .tty, .console] where d.number == (major, minor) { return d }
        return .other(major: major, minor: minor)
    }

    public var number: (major: UInt32, minor: UInt32) {
        switch self {
        case .null: return (1, 3)
        case .zero: return (1, 5)
        case .random: return (1, 8)
        case .urandom: return (1, 9)
        case .tty: return (5, 0)
        case .console: return (5, 1)
        case .framebuffer: return (29, 0)
        case .other(let major, let minor): return (major, minor)
        case .block(let major, let minor): return (major, minor)
        }
    }
}

/// The file systems egg mounts (statfs(2) f_type; /proc/mounts): the root and /dev/shm are
/// tmpfs, /dev devtmpfs (itself tmpfs inside Linux, TMPFS_MAGIC), /proc procfs, /sys sysfs.
/// Each is its own mount with its own st_dev (ProcFSText.swift: deviceMinor, mountID);
/// `shm` is the tmpfs mounted on /dev/shm.
public enum MountKind: Equatable, Sendable {
    case tmpfs, devtmpfs, shm, proc, sysfs
    /// A host directory (egg run -v), the `index`th volume, mounted as 9p
    /// (Drivers/NinePVolume.swift); `readOnly` for ":ro".
    case volume(index: Int, readOnly: Bool)
}

/// Files whose bytes are made when they are opened (/proc, /sys: VFS/ProcFS*.swift,
/// VFS/SysFS.swift make them from the kernel's live state).
public enum SyntheticContent: Equatable {
    case maps, cpuinfo, meminfo, uptime, mounts
    /// /proc/loadavg, stat, filesystems, version, config (the feature list), mountinfo.
    case system(ProcSystemFile)
    /// A file of /proc/PID/ or /proc/PID/task/TID/ (`tid` 0: the process's own directory).
    case process(pid: Int, tid: Int, ProcProcessFile)
    /// /proc/PID/fdinfo/N.
    case fdinfo(pid: Int, fd: Int)
    /// /proc/sys/... values.
    case sysctl(Sysctl)
    /// /sys/... values.
    case sysfs(SysfsFile)
}

/// A directory whose entries are made from live kernel state when it is looked up or
/// listed (/proc's process directories: VFS/ProcFS.swift). `lookup` may find names that
/// `entries` does not list, as /proc/TID for a thread that is not a thread group leader.
public protocol DirectoryGenerator: AnyObject {
    func entries(of directory: Inode) -> [DirectoryEntry]
    func lookup(_ name: [UInt8], in directory: Inode) -> Inode?
}

public final class Inode {
    /// `socket`: a name bind(2) made for an AF_UNIX socket (Sockets/UnixSocketNames.swift).
    public enum Kind: Equatable { case directory, regular, symlink, device(DeviceKind), fifo, socket }

    public let kind: Kind
    public let number: UInt64
    /// Permission bits only (0o7777); `mode` adds the type.
    public var permissions: UInt32
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var linkCount = 1
    /// A regular file's bytes, in blocks (FileData.swift); empty for other kinds.
    public let contents: FileData
    /// A symbolic link's target.
    public var linkTarget: [UInt8] = []
    /// Which mounted file system the node belongs to (statfs, /proc/mounts).
    public var mount: MountKind = .tmpfs
    /// A /proc file: contents generated at open.
    public var synthetic: SyntheticContent? = nil
    /// A /proc directory whose entries come from live state (nil: an ordinary directory).
    public var generator: (any DirectoryGenerator)? = nil
    /// Directory entries in creation order; `cookie` is the getdents64 position after the
    /// entry (increasing, never reused, so removals do not disturb a reader). A generated
    /// directory lists what its generator makes now (its own stored entries come first).
    public var entries: [DirectoryEntry] {
        get {
            if let g = generator { return g.entries(of: self) }
            return storedEntries
        }
        set { storedEntries = newValue }
    }
    /// The entries made by link (for a generated directory, its fixed part).
    public var storedEntries: [DirectoryEntry] = []
    var nextCookie: Int64 = 3
    /// The directory containing this one ("..": the root is its own parent). Cleared when a
    /// directory is removed, breaking the reference cycle.
    public var parent: Inode? = nil
    public var accessTime: Int64
    public var modifyTime: Int64
    public var changeTime: Int64
    /// A read-only node (/proc): opening for writing is EACCES even for root.
    public var readOnly = false
    /// A character device with a driver (/dev/fb0): open/read/write/ioctl/mmap go to it
    /// (CharacterDevice.swift). The simple devices (null, zero, random) need none.
    public var characterDevice: (any CharacterDevice)? = nil
    /// A FIFO's pipe, made at its first open and shared by every open of the node
    /// (Fifo.swift); dropped when the last end closes, as Linux frees pipe_inode_info.
    var fifoChannel: FifoChannel? = nil
    /// An O_TMPFILE file opened without O_EXCL: linkat(AT_EMPTY_PATH) may give it a name
    /// although its link count is 0 (I_LINKABLE in fs/namei.c).
    public var linkable = false
    /// Extended attributes (VFS/ExtendedAttributes.swift, Syscalls/XattrSyscalls.swift).
    public var xattrs = ExtendedAttributes()

    public init(kind: Kind, number: UInt64, permissions: UInt32, now: Int64, store: FileBlockStore) {
        contents = FileData(store: store)
        store.inodesInUse += 1
        self.kind = kind
        self.number = number
        self.permissions = permissions & 0o7777
        accessTime = now
        modifyTime = now
        changeTime = now
        if kind == .directory { linkCount = 2 }
    }

    /// A regular file whose bytes start out in physical memory (the --files archive).
    public init(kind: Kind, number: UInt64, permissions: UInt32, now: Int64, store: FileBlockStore, backing: FileBacking) {
        contents = FileData(store: store, backing: backing)
        store.inodesInUse += 1
        self.kind = kind
        self.number = number
        self.permissions = permissions & 0o7777
        accessTime = now
        modifyTime = now
        changeTime = now
    }

    deinit {
        contents.store.inodesInUse -= 1
        contents.store.xattrSpaceInUse -= xattrs.spaceUsed
    }

    public var isDirectory: Bool { kind == .directory }
    public var isSymlink: Bool { kind == .symlink }
    public var isRegular: Bool { kind == .regular }

    public var device: DeviceKind? {
        if case .device(let d) = kind { return d }
        return nil
    }

    /// st_mode: S_IFMT type bits | permission bits.
    public var mode: UInt32 {
        let type: UInt32
        switch kind {
        case .directory: type = FileMode.S_IFDIR
        case .regular: type = FileMode.S_IFREG
        case .symlink: type = FileMode.S_IFLNK
        case .device(.block): type = FileMode.S_IFBLK
        case .device: type = FileMode.S_IFCHR
        case .fifo: type = FileMode.S_IFIFO
        case .socket: type = FileMode.S_IFSOCK
        }
        return type | permissions
    }

    /// d_type for getdents64.
    public var direntType: UInt8 {
        switch kind {
        case .directory: return DirentType.DT_DIR
        case .regular: return DirentType.DT_REG
        case .symlink: return DirentType.DT_LNK
        case .device(.block): return DirentType.DT_BLK
        case .device: return DirentType.DT_CHR
        case .fifo: return DirentType.DT_FIFO
        case .socket: return DirentType.DT_SOCK
        }
    }

    public var size: Int {
        switch kind {
        case .regular: return contents.size
        case .symlink: return linkTarget.count
        case .directory: return 4096   // what ext4 shows; tmpfs shows a count-based size
        default: return 0
        }
    }

    // MARK: directories

    public func lookup(_ name: [UInt8]) -> Inode? {
        if let g = generator { return g.lookup(name, in: self) }
        for e in storedEntries where e.name == name { return e.inode }
        return nil
    }

    func index(of name: [UInt8]) -> Int? { storedEntries.firstIndex { $0.name == name } }

    /// Adds an entry (the caller has checked the name is free).
    func link(_ name: [UInt8], _ inode: Inode, now: Int64) {
        storedEntries.append(DirectoryEntry(name: name, inode: inode, cookie: nextCookie))
        nextCookie += 1
        if inode.isDirectory {
            inode.parent = self
            linkCount += 1
        }
        modifyTime = now
        changeTime = now
    }

    /// Removes the entry `name`; returns the inode it named.
    @discardableResult
    func unlink(_ name: [UInt8], now: Int64) -> Inode? {
        guard let i = index(of: name) else { return nil }
        let inode = storedEntries[i].inode
        storedEntries.remove(at: i)
        if inode.isDirectory { linkCount -= 1 }
        modifyTime = now
        changeTime = now
        return inode
    }

    /// Whether `self` is `other` or one of its ancestors (rename must not move a directory
    /// below itself).
    func isAncestor(of other: Inode) -> Bool {
        var node: Inode? = other
        var steps = 0
        while let n = node, steps < 4096 {
            if n === self { return true }
            if n.parent === n { return false }
            node = n.parent
            steps += 1
        }
        return false
    }
}

public struct DirectoryEntry {
    public var name: [UInt8]
    public var inode: Inode
    public var cookie: Int64
}

// MARK: volumes (hook for egg run -v; Drivers/NinePVolume.swift)

extension Inode {
    /// The errno a write to a `readOnly` node answers: EROFS on a read-only volume, as on a
    /// read-only mount (mnt_want_write in fs/namespace.c fails first with EROFS), else
    /// `otherwise` (EACCES, or EPERM, for /proc and /sys nodes).
    public func readOnlyError(_ otherwise: Errno = .EACCES) -> Errno {
        if case .volume(_, true) = mount { return .EROFS }
        return otherwise
    }

    /// Whether the node is on a volume (a 9p mount).
    public var isOnVolume: Bool {
        if case .volume = mount { return true }
        return false
    }
}
