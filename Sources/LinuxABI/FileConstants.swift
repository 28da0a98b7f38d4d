// FileConstants — flags and constants of the file syscalls on x86-64 Linux (LinuxABI layer):
// open(2) flags, the *at(2) dirfd and AT_* flags, fcntl(2) commands, lseek(2) whence, file
// mode bits (inode(7)), access(2) modes, getrandom(2) flags, dirent d_type, statx masks.
// Values from include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h,
// include/uapi/linux/stat.h, include/uapi/linux/random.h (x86-64 uses the generic values).
// Rendering rules are in FlagRendering.swift; the struct layouts are in FileStructs.swift.

// MARK: open(2)

/// The flags argument of open/openat/openat2 (and F_GETFL/F_SETFL).
/// The low two bits are the access mode, not flags: see `accessMode`.
public struct OpenFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let O_RDONLY = OpenFlags([])
    public static let O_WRONLY = OpenFlags(rawValue: 0o1)
    public static let O_RDWR = OpenFlags(rawValue: 0o2)
    public static let O_ACCMODE = OpenFlags(rawValue: 0o3)
    public static let O_CREAT = OpenFlags(rawValue: 0o100)
    public static let O_EXCL = OpenFlags(rawValue: 0o200)
    public static let O_NOCTTY = OpenFlags(rawValue: 0o400)
    public static let O_TRUNC = OpenFlags(rawValue: 0o1000)
    public static let O_APPEND = OpenFlags(rawValue: 0o2000)
    public static let O_NONBLOCK = OpenFlags(rawValue: 0o4000)
    public static let O_NDELAY = O_NONBLOCK
    public static let O_DSYNC = OpenFlags(rawValue: 0o10000)
    public static let FASYNC = OpenFlags(rawValue: 0o20000)
    public static let O_DIRECT = OpenFlags(rawValue: 0o40000)
    /// The kernel sets it itself on 64-bit; glibc defines O_LARGEFILE as 0 there, but a
    /// program may still pass the bit and strace then names it.
    public static let O_LARGEFILE = OpenFlags(rawValue: 0o100000)
    public static let O_DIRECTORY = OpenFlags(rawValue: 0o200000)
    public static let O_NOFOLLOW = OpenFlags(rawValue: 0o400000)
    public static let O_NOATIME = OpenFlags(rawValue: 0o1000000)
    public static let O_CLOEXEC = OpenFlags(rawValue: 0o2000000)
    public static let __O_SYNC = OpenFlags(rawValue: 0o4000000)
    /// O_SYNC is __O_SYNC|O_DSYNC.
    public static let O_SYNC = OpenFlags(rawValue: 0o4010000)
    public static let O_PATH = OpenFlags(rawValue: 0o10000000)
    public static let __O_TMPFILE = OpenFlags(rawValue: 0o20000000)
    /// O_TMPFILE is __O_TMPFILE|O_DIRECTORY.
    public static let O_TMPFILE = OpenFlags(rawValue: 0o20200000)

    /// The access mode bits (O_RDONLY, O_WRONLY, O_RDWR, or the odd 3).
    public var accessMode: OpenFlags { OpenFlags(rawValue: rawValue & 0o3) }
    public var isReadable: Bool { accessMode == .O_RDONLY || accessMode == .O_RDWR }
    public var isWritable: Bool { accessMode == .O_WRONLY || accessMode == .O_RDWR }

    /// strace's xlat/open_access_modes.in.
    public static let accessModeNames: [NamedValue] = [
        NamedValue(0, "O_RDONLY"), NamedValue(0o1, "O_WRONLY"),
        NamedValue(0o2, "O_RDWR"), NamedValue(0o3, "O_ACCMODE"),
    ]

    /// strace's xlat/open_mode_flags.in order: O_SYNC before O_DSYNC and __O_SYNC,
    /// O_TMPFILE before O_DIRECTORY and __O_TMPFILE.
    public static let names: [NamedValue] = [
        NamedValue(0o100, "O_CREAT"), NamedValue(0o200, "O_EXCL"),
        NamedValue(0o400, "O_NOCTTY"), NamedValue(0o1000, "O_TRUNC"),
        NamedValue(0o2000, "O_APPEND"), NamedValue(0o4000, "O_NONBLOCK"),
        NamedValue(0o4010000, "O_SYNC"), NamedValue(0o4000000, "__O_SYNC"),
        NamedValue(0o10000, "O_DSYNC"), NamedValue(0o40000, "O_DIRECT"),
        NamedValue(0o100000, "O_LARGEFILE"), NamedValue(0o400000, "O_NOFOLLOW"),
        NamedValue(0o1000000, "O_NOATIME"), NamedValue(0o2000000, "O_CLOEXEC"),
        NamedValue(0o10000000, "O_PATH"), NamedValue(0o20200000, "O_TMPFILE"),
        NamedValue(0o20000000, "__O_TMPFILE"), NamedValue(0o200000, "O_DIRECTORY"),
        NamedValue(0o20000, "FASYNC"),
    ]

    /// "O_RDONLY|O_CLOEXEC": the access mode always comes first, then the flags.
    public var straceDescription: String {
        var text = renderValue(UInt64(rawValue & 0o3), table: OpenFlags.accessModeNames,
                               unknownComment: "O_???")
        let rest = UInt64(rawValue & ~0o3)
        if rest != 0 {
            text += "|" + renderFlags(rest, table: OpenFlags.names, unknownComment: nil)
        }
        return text
    }

    /// Bits that no open(2) flag defines; openat2(2) answers EINVAL for them.
    public var unknownBits: UInt32 {
        var known: UInt64 = 0o3
        for entry in OpenFlags.names { known |= entry.value }
        return rawValue & ~UInt32(truncatingIfNeeded: known)
    }
}

// MARK: *at(2)

/// The dirfd value meaning "relative to the current directory" (fcntl.h).
public let AT_FDCWD: Int32 = -100

/// strace's rendering of a dirfd argument: "AT_FDCWD" or the number.
public func renderDirfd(_ fd: Int32) -> String {
    fd == AT_FDCWD ? "AT_FDCWD" : decimalString(Int64(fd))
}

/// The flags of the *at(2) calls (include/uapi/linux/fcntl.h).
public struct AtFlags: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let AT_SYMLINK_NOFOLLOW = AtFlags(rawValue: 0x100)
    public static let AT_REMOVEDIR = AtFlags(rawValue: 0x200)
    /// faccessat2 only; shares its value with AT_REMOVEDIR.
    public static let AT_EACCESS = AtFlags(rawValue: 0x200)
    public static let AT_SYMLINK_FOLLOW = AtFlags(rawValue: 0x400)
    public static let AT_NO_AUTOMOUNT = AtFlags(rawValue: 0x800)
    public static let AT_EMPTY_PATH = AtFlags(rawValue: 0x1000)
    public static let AT_STATX_SYNC_AS_STAT = AtFlags([])
    public static let AT_STATX_FORCE_SYNC = AtFlags(rawValue: 0x2000)
    public static let AT_STATX_DONT_SYNC = AtFlags(rawValue: 0x4000)
    public static let AT_STATX_SYNC_TYPE = AtFlags(rawValue: 0x6000)
    public static let AT_RECURSIVE = AtFlags(rawValue: 0x8000)

    public static let names: [NamedValue] = [
        NamedValue(0x100, "AT_SYMLINK_NOFOLLOW"), NamedValue(0x200, "AT_REMOVEDIR"),
        NamedValue(0x400, "AT_SYMLINK_FOLLOW"), NamedValue(0x800, "AT_NO_AUTOMOUNT"),
        NamedValue(0x1000, "AT_EMPTY_PATH"), NamedValue(0x2000, "AT_STATX_FORCE_SYNC"),
        NamedValue(0x4000, "AT_STATX_DONT_SYNC"), NamedValue(0x8000, "AT_RECURSIVE"),
    ]
    public static let unknownComment: StaticString = "AT_???"

    /// faccessat2 names 0x200 AT_EACCESS (strace's xlat/faccessat_flags.in).
    public static let faccessatNames: [NamedValue] = [
        NamedValue(0x200, "AT_EACCESS"), NamedValue(0x100, "AT_SYMLINK_NOFOLLOW"),
        NamedValue(0x1000, "AT_EMPTY_PATH"),
    ]
    public var straceDescriptionForFaccessat: String {
        renderFlags(UInt64(rawValue), table: AtFlags.faccessatNames, unknownComment: "AT_???")
    }

    /// statx prints the sync type first, even when it is AT_STATX_SYNC_AS_STAT (0):
    /// "AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT".
    public var straceDescriptionForStatx: String {
        let syncNames = [NamedValue(0, "AT_STATX_SYNC_AS_STAT"),
                         NamedValue(0x2000, "AT_STATX_FORCE_SYNC"),
                         NamedValue(0x4000, "AT_STATX_DONT_SYNC")]
        var text = renderValue(UInt64(rawValue & 0x6000), table: syncNames, unknownComment: "AT_???")
        let rest = UInt64(rawValue & ~0x6000)
        if rest != 0 {
            text += "|" + renderFlags(rest, table: AtFlags.names, unknownComment: nil)
        }
        return text
    }
}

// MARK: fcntl(2)

public struct FcntlCommand: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let F_DUPFD = FcntlCommand(0)
    public static let F_GETFD = FcntlCommand(1)
    public static let F_SETFD = FcntlCommand(2)
    public static let F_GETFL = FcntlCommand(3)
    public static let F_SETFL = FcntlCommand(4)
    public static let F_GETLK = FcntlCommand(5)
    public static let F_SETLK = FcntlCommand(6)
    public static let F_SETLKW = FcntlCommand(7)
    public static let F_SETOWN = FcntlCommand(8)
    public static let F_GETOWN = FcntlCommand(9)
    public static let F_SETSIG = FcntlCommand(10)
    public static let F_GETSIG = FcntlCommand(11)
    public static let F_SETOWN_EX = FcntlCommand(15)
    public static let F_GETOWN_EX = FcntlCommand(16)
    public static let F_GETOWNER_UIDS = FcntlCommand(17)
    public static let F_OFD_GETLK = FcntlCommand(36)
    public static let F_OFD_SETLK = FcntlCommand(37)
    public static let F_OFD_SETLKW = FcntlCommand(38)
    // F_LINUX_SPECIFIC_BASE (1024) and up: include/uapi/linux/fcntl.h.
    public static let F_SETLEASE = FcntlCommand(1024)
    public static let F_GETLEASE = FcntlCommand(1025)
    public static let F_NOTIFY = FcntlCommand(1026)
    public static let F_DUPFD_QUERY = FcntlCommand(1027)
    public static let F_CANCELLK = FcntlCommand(1029)
    public static let F_DUPFD_CLOEXEC = FcntlCommand(1030)
    public static let F_SETPIPE_SZ = FcntlCommand(1031)
    public static let F_GETPIPE_SZ = FcntlCommand(1032)
    public static let F_ADD_SEALS = FcntlCommand(1033)
    public static let F_GET_SEALS = FcntlCommand(1034)
    public static let F_GET_RW_HINT = FcntlCommand(1035)
    public static let F_SET_RW_HINT = FcntlCommand(1036)
    public static let F_GET_FILE_RW_HINT = FcntlCommand(1037)
    public static let F_SET_FILE_RW_HINT = FcntlCommand(1038)

    public static let names: [NamedValue] = [
        NamedValue(0, "F_DUPFD"), NamedValue(1, "F_GETFD"), NamedValue(2, "F_SETFD"),
        NamedValue(3, "F_GETFL"), NamedValue(4, "F_SETFL"), NamedValue(5, "F_GETLK"),
        NamedValue(6, "F_SETLK"), NamedValue(7, "F_SETLKW"), NamedValue(8, "F_SETOWN"),
        NamedValue(9, "F_GETOWN"), NamedValue(10, "F_SETSIG"), NamedValue(11, "F_GETSIG"),
        NamedValue(15, "F_SETOWN_EX"), NamedValue(16, "F_GETOWN_EX"),
        NamedValue(17, "F_GETOWNER_UIDS"), NamedValue(36, "F_OFD_GETLK"),
        NamedValue(37, "F_OFD_SETLK"), NamedValue(38, "F_OFD_SETLKW"),
        NamedValue(1024, "F_SETLEASE"), NamedValue(1025, "F_GETLEASE"),
        NamedValue(1026, "F_NOTIFY"), NamedValue(1027, "F_DUPFD_QUERY"),
        NamedValue(1029, "F_CANCELLK"), NamedValue(1030, "F_DUPFD_CLOEXEC"),
        NamedValue(1031, "F_SETPIPE_SZ"), NamedValue(1032, "F_GETPIPE_SZ"),
        NamedValue(1033, "F_ADD_SEALS"), NamedValue(1034, "F_GET_SEALS"),
        NamedValue(1035, "F_GET_RW_HINT"), NamedValue(1036, "F_SET_RW_HINT"),
        NamedValue(1037, "F_GET_FILE_RW_HINT"), NamedValue(1038, "F_SET_FILE_RW_HINT"),
    ]
    public static let unknownComment: StaticString = "F_???"
}

/// File descriptor flags (F_GETFD/F_SETFD).
public struct FdFlags: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let FD_CLOEXEC = FdFlags(rawValue: 1)
    public static let names: [NamedValue] = [NamedValue(1, "FD_CLOEXEC")]
    public static let unknownComment: StaticString = "FD_???"
}

// MARK: lseek(2)

public struct SeekWhence: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static let SEEK_SET = SeekWhence(0)
    public static let SEEK_CUR = SeekWhence(1)
    public static let SEEK_END = SeekWhence(2)
    public static let SEEK_DATA = SeekWhence(3)
    public static let SEEK_HOLE = SeekWhence(4)
    public static let names: [NamedValue] = [
        NamedValue(0, "SEEK_SET"), NamedValue(1, "SEEK_CUR"), NamedValue(2, "SEEK_END"),
        NamedValue(3, "SEEK_DATA"), NamedValue(4, "SEEK_HOLE"),
    ]
    public static let unknownComment: StaticString = "SEEK_???"
}

// MARK: file mode (inode(7), include/uapi/linux/stat.h)

public struct FileMode: Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let S_IFMT: UInt32 = 0o170000
    public static let S_IFSOCK: UInt32 = 0o140000
    public static let S_IFLNK: UInt32 = 0o120000
    public static let S_IFREG: UInt32 = 0o100000
    public static let S_IFBLK: UInt32 = 0o060000
    public static let S_IFDIR: UInt32 = 0o040000
    public static let S_IFCHR: UInt32 = 0o020000
    public static let S_IFIFO: UInt32 = 0o010000
    public static let S_ISUID: UInt32 = 0o4000
    public static let S_ISGID: UInt32 = 0o2000
    public static let S_ISVTX: UInt32 = 0o1000
    public static let S_IRWXU: UInt32 = 0o700
    public static let S_IRUSR: UInt32 = 0o400
    public static let S_IWUSR: UInt32 = 0o200
    public static let S_IXUSR: UInt32 = 0o100
    public static let S_IRWXG: UInt32 = 0o070
    public static let S_IRWXO: UInt32 = 0o007

    public static let typeNames: [NamedValue] = [
        NamedValue(0o140000, "S_IFSOCK"), NamedValue(0o120000, "S_IFLNK"),
        NamedValue(0o100000, "S_IFREG"), NamedValue(0o060000, "S_IFBLK"),
        NamedValue(0o040000, "S_IFDIR"), NamedValue(0o020000, "S_IFCHR"),
        NamedValue(0o010000, "S_IFIFO"),
    ]

    /// The S_IFMT bits.
    public var fileType: UInt32 { rawValue & FileMode.S_IFMT }
    /// Permission bits including set-id and sticky (07777).
    public var permissions: UInt32 { rawValue & 0o7777 }
    public var isDirectory: Bool { fileType == FileMode.S_IFDIR }
    public var isRegular: Bool { fileType == FileMode.S_IFREG }
    public var isSymlink: Bool { fileType == FileMode.S_IFLNK }

    /// strace's print_symbolic_mode_t: "S_IFREG|0644", "S_IFCHR|S_ISUID|0755", "0600";
    /// an unknown file type prints the whole mode in octal.
    public var straceDescription: String {
        var text = ""
        if fileType != 0 {
            guard let typeName = lookupName(UInt64(fileType), in: FileMode.typeNames) else {
                return octalModeString(UInt64(rawValue))
            }
            appendStaticString(typeName, to: &text)
            text += "|"
        }
        if rawValue & FileMode.S_ISUID != 0 { text += "S_ISUID|" }
        if rawValue & FileMode.S_ISGID != 0 { text += "S_ISGID|" }
        if rawValue & FileMode.S_ISVTX != 0 { text += "S_ISVTX|" }
        return text + octalModeString(UInt64(rawValue & 0o777))
    }
}

/// d_type values of getdents64 (include/linux/fs_types.h: DT_* = S_IFMT >> 12).
public enum DirentType: Sendable {
    public static let DT_UNKNOWN: UInt8 = 0
    public static let DT_FIFO: UInt8 = 1
    public static let DT_CHR: UInt8 = 2
    public static let DT_DIR: UInt8 = 4
    public static let DT_BLK: UInt8 = 6
    public static let DT_REG: UInt8 = 8
    public static let DT_LNK: UInt8 = 10
    public static let DT_SOCK: UInt8 = 12
    public static let DT_WHT: UInt8 = 14

    /// The d_type for a file mode.
    public static func from(mode: FileMode) -> UInt8 { UInt8(truncatingIfNeeded: mode.fileType >> 12) }
}

/// access(2) modes (unistd.h).
public struct AccessMode: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let F_OK = AccessMode([])
    public static let X_OK = AccessMode(rawValue: 1)
    public static let W_OK = AccessMode(rawValue: 2)
    public static let R_OK = AccessMode(rawValue: 4)
    public static let names: [NamedValue] = [
        NamedValue(0, "F_OK"), NamedValue(4, "R_OK"), NamedValue(2, "W_OK"), NamedValue(1, "X_OK"),
    ]
    public static let unknownComment: StaticString = "?_OK"
}

// MARK: getrandom(2)

public struct GetrandomFlags: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let GRND_NONBLOCK = GetrandomFlags(rawValue: 1)
    public static let GRND_RANDOM = GetrandomFlags(rawValue: 2)
    public static let GRND_INSECURE = GetrandomFlags(rawValue: 4)
    public static let names: [NamedValue] = [
        NamedValue(1, "GRND_NONBLOCK"), NamedValue(2, "GRND_RANDOM"), NamedValue(4, "GRND_INSECURE"),
    ]
    public static let unknownComment: StaticString = "GRND_???"
}

// MARK: statx(2) mask (include/uapi/linux/stat.h)

public struct StatxMask: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let STATX_TYPE = StatxMask(rawValue: 0x1)
    public static let STATX_MODE = StatxMask(rawValue: 0x2)
    public static let STATX_NLINK = StatxMask(rawValue: 0x4)
    public static let STATX_UID = StatxMask(rawValue: 0x8)
    public static let STATX_GID = StatxMask(rawValue: 0x10)
    public static let STATX_ATIME = StatxMask(rawValue: 0x20)
    public static let STATX_MTIME = StatxMask(rawValue: 0x40)
    public static let STATX_CTIME = StatxMask(rawValue: 0x80)
    public static let STATX_INO = StatxMask(rawValue: 0x100)
    public static let STATX_SIZE = StatxMask(rawValue: 0x200)
    public static let STATX_BLOCKS = StatxMask(rawValue: 0x400)
    /// Everything struct stat has.
    public static let STATX_BASIC_STATS = StatxMask(rawValue: 0x7ff)
    public static let STATX_BTIME = StatxMask(rawValue: 0x800)
    public static let STATX_MNT_ID = StatxMask(rawValue: 0x1000)
    public static let STATX_DIOALIGN = StatxMask(rawValue: 0x2000)
    public static let STATX_MNT_ID_UNIQUE = StatxMask(rawValue: 0x4000)
    public static let STATX_SUBVOL = StatxMask(rawValue: 0x8000)
    public static let STATX_WRITE_ATOMIC = StatxMask(rawValue: 0x10000)
    public static let STATX_DIO_READ_ALIGN = StatxMask(rawValue: 0x20000)

    /// strace's xlat/statx_masks.in: STATX_ALL and STATX_BASIC_STATS first, so they win.
    public static let names: [NamedValue] = [
        NamedValue(0xfff, "STATX_ALL"), NamedValue(0x7ff, "STATX_BASIC_STATS"),
        NamedValue(0x1, "STATX_TYPE"), NamedValue(0x2, "STATX_MODE"), NamedValue(0x4, "STATX_NLINK"),
        NamedValue(0x8, "STATX_UID"), NamedValue(0x10, "STATX_GID"), NamedValue(0x20, "STATX_ATIME"),
        NamedValue(0x40, "STATX_MTIME"), NamedValue(0x80, "STATX_CTIME"), NamedValue(0x100, "STATX_INO"),
        NamedValue(0x200, "STATX_SIZE"), NamedValue(0x400, "STATX_BLOCKS"),
        NamedValue(0x800, "STATX_BTIME"), NamedValue(0x1000, "STATX_MNT_ID"),
        NamedValue(0x2000, "STATX_DIOALIGN"), NamedValue(0x4000, "STATX_MNT_ID_UNIQUE"),
        NamedValue(0x8000, "STATX_SUBVOL"), NamedValue(0x10000, "STATX_WRITE_ATOMIC"),
        NamedValue(0x20000, "STATX_DIO_READ_ALIGN"),
    ]
    public static let unknownComment: StaticString = "STATX_???"
}
