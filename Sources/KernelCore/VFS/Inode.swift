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

    public var number: (major: UInt32, minor: UInt32) {
        switch self {
        case .null: return (1, 3)
        case .zero: return (1, 5)
        case .random: return (1, 8)
        case .urandom: return (1, 9)
        case .tty: return (5, 0)
        case .console: return (5, 1)
        case .framebuffer: return (29, 0)
        }
    }
}

/// The file systems egg mounts (statfs(2) f_type; /proc/mounts): the root and /dev/shm are
/// tmpfs, /dev devtmpfs (itself tmpfs inside Linux, TMPFS_MAGIC), /proc procfs.
public enum MountKind: Equatable {
    case tmpfs, devtmpfs, proc
}

/// Files whose bytes are made when they are opened (/proc).
public enum SyntheticContent: Equatable {
    case maps, cpuinfo, meminfo, uptime, mounts
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
    /// Directory entries in creation order; `cookie` is the getdents64 position after the
    /// entry (increasing, never reused, so removals do not disturb a reader).
    public var entries: [DirectoryEntry] = []
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

    deinit { contents.store.inodesInUse -= 1 }

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
        for e in entries where e.name == name { return e.inode }
        return nil
    }

    func index(of name: [UInt8]) -> Int? { entries.firstIndex { $0.name == name } }

    /// Adds an entry (the caller has checked the name is free).
    func link(_ name: [UInt8], _ inode: Inode, now: Int64) {
        entries.append(DirectoryEntry(name: name, inode: inode, cookie: nextCookie))
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
        let inode = entries[i].inode
        entries.remove(at: i)
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
